import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
// pdfjs-dist (Mozilla's PDF.js, the renderer Firefox ships): reads back the PDF Chromium printed.
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';
import { launchChromium, requireWebBuild, signIn as signInAs } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { makeUser, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * 转办, 终止 and the printable 审批单 (docs/instance-operations.md) in
 * Debian's headless Chromium against the real server: an office user hands
 * their draft to a colleague with the button, ends the instance with a
 * reason, and prints its approval form, saved as PDF by Chromium and read
 * back to check the Chinese on it. PDFs and screenshots go to test-artifacts/.
 */

const artifacts = path.join(repoRoot, 'test-artifacts');
const pglite = backends.find((b) => b.name === 'pglite')!;
const PLAN = 'security-plan-approval';

let server!: TestServer;
let browser!: Browser;
let wang!: Client;
let zhang!: Client;

test.before(async () => {
  requireWebBuild(repoRoot);
  fs.mkdirSync(artifacts, { recursive: true });
  server = await startTestServer(pglite);
  wang = await makeUser(server, 'wang', ['office']);
  zhang = await makeUser(server, 'zhang', ['office']);
  await makeUser(server, 'chen', ['network-security']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

const pageErrors = new WeakMap<Page, string[]>();

async function signIn(user: string): Promise<Page> {
  const { page, errors } = await signInAs(browser, server.url, user, `${user}-password`, { width: 1280, height: 900 });
  pageErrors.set(page, errors);
  return page;
}

async function done(t: ExecutionContext, page: Page): Promise<void> {
  await page.context().close();
  t.deepEqual(pageErrors.get(page), [], 'no uncaught errors in the page');
}

/**
 * The text of every page of a PDF, as PDF.js extracts it, NFKC-normalised: a
 * CJK font's ToUnicode map may name a character by its Kangxi radical or
 * compatibility form (⼈ U+2F08 for 人), which looks the same on paper; the
 * expected text is normalised alike (NFKC also folds full-width punctuation).
 */
async function pdfText(bytes: Uint8Array): Promise<string> {
  const doc = await getDocument({ data: bytes, useSystemFonts: false }).promise;
  let out = '';
  for (let i = 1; i <= doc.numPages; i++) {
    const content = await (await doc.getPage(i)).getTextContent();
    out += content.items.map((item) => ('str' in item ? item.str : '')).join('');
  }
  return out.normalize('NFKC');
}

let instanceId = '';
let draftTask = '';

test.serial('the transfer button hands the draft to a colleague of the office, who then owns it', async (t) => {
  const started = await wang.post(`/engine-rest/process-definition/key/${PLAN}/start`, { businessKey: 'PLAN-PRINT-1', variables: vars({ title: '2026年度网络安全规划', planType: 'plan' }) });
  instanceId = started.body.id;
  draftTask = (await wang.get(`/engine-rest/task?processInstanceId=${instanceId}`)).body[0].id;
  t.is((await wang.post(`/engine-rest/task/${draftTask}/claim`, { userId: 'wang' })).status, 204);
  const page = await signIn('wang');
  await page.goto(`${server.url}/task/${draftTask}`);
  await page.locator('#transfer-user').waitFor().catch(async () => {
    throw new Error(`no transfer form: ${JSON.stringify(pageErrors.get(page))} ${(await page.locator('main').innerText()).slice(0, 500)}`);
  });
  await page.fill('#transfer-user', 'chen');
  await page.click('#transfer');
  await page.locator('.flash-error').waitFor();
  t.regex(await page.locator('.flash-error').innerText(), /不在可办理此任务的角色中/, 'another role is refused, in Chinese');
  await page.fill('#transfer-user', 'zhang');
  await page.fill('#transfer-comment', '我出差，请张同志接手起草');
  await page.click('#transfer');
  await page.locator('.flash').filter({ hasText: '已转办' }).waitFor();
  const task = (await zhang.get(`/engine-rest/task/${draftTask}`)).body;
  t.like(task, { assignee: 'zhang', owner: null, delegationState: null });
  await page.screenshot({ path: path.join(artifacts, 'approval-transfer.png'), fullPage: true });
  await done(t, page);
});

test.serial('the office ends the instance with a reason and prints its 审批单: saved as PDF by Chromium, the Chinese is on it', async (t) => {
  t.is((await zhang.post(`/engine-rest/task/${draftTask}/complete`, { variables: vars({ title: '2026年度网络安全规划', summary: '全年网络安全建设规划草案' }) })).status, 204);
  const page = await signIn('wang');
  await page.goto(`${server.url}/monitor/instance/${instanceId}`);
  await page.click('#terminate');
  t.is((await wang.get(`/engine-rest/process-instance/${instanceId}`)).status, 200, 'no reason, nothing sent');
  await page.fill('#terminate-reason', '规划已由上级统一下发');
  await page.click('#terminate');
  await page.locator('#instance-state').filter({ hasText: /终止|取消/ }).waitFor();
  const [h] = (await wang.get(`/engine-rest/history/process-instance?processInstanceId=${instanceId}`)).body;
  t.like(h, { state: 'EXTERNALLY_TERMINATED', deleteReason: '规划已由上级统一下发' });

  await page.click('#print-link');
  await page.locator('#approval-sheet').waitFor();
  await page.locator('#sheet-steps tbody tr').first().waitFor();
  const pdf = await page.pdf({ format: 'A4', printBackground: false });
  fs.writeFileSync(path.join(artifacts, 'approval-form.pdf'), pdf);
  const text = (await pdfText(new Uint8Array(pdf))).replace(/\s+/g, '');
  for (const expected of ['审批单', '申请内容', '2026年度网络安全规划', '审批经过', '起草规划', 'zhang', '我出差，请张同志接手起草', '规划已由上级统一下发']) {
    t.true(text.includes(expected.normalize('NFKC').replace(/\s+/g, '')), `the PDF shows ${expected}: ${text.slice(0, 400)}`);
  }
  t.false(text.includes('打印'), 'the print button stays off paper');
  await done(t, page);
});

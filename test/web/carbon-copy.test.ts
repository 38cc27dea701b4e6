import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, makeUser, NO_PROCESSES, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * 抄送 in Chromium against the real server: the drafter copies the instance
 * from the task page, the step's ccUsers copies it on completion; the
 * recipient finds it unread under 抄送我的, opens the instance read-only with
 * its variables, and the mark clears.
 */
const pglite = backends.find((b) => b.name === 'pglite')!;
let server!: TestServer;
let browser!: Browser;
let starter!: Client;
let drafter!: Client;

test.before(async () => {
  requireWebBuild(repoRoot);
  server = await startTestServer(pglite, NO_PROCESSES);
  starter = await makeUser(server, 'starter', ['office']);
  drafter = await makeUser(server, 'drafter', []);
  await makeUser(server, 'reader-a', []);
  await makeUser(server, 'reader-b', []);
  const form = new FormData();
  form.append('deployment-name', 'carbon-copy');
  form.append('carbon-copy.bpmn', new Blob([fs.readFileSync(path.join(repoRoot, 'test/fixtures/carbon-copy.bpmn'))]), 'carbon-copy.bpmn');
  const r = await fetch(`${server.url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  if (r.status !== 200) throw new Error(`deploy: ${r.status}`);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

test('the task page copies an instance; the recipient sees it unread under 抄送我的 and opens it read-only', async (t) => {
  const started = await starter.post('/engine-rest/process-definition/key/carbon-copy/start', { businessKey: 'CC-2026-1', variables: vars({ drafter: 'drafter', title: '年度报告' }) });
  t.is(started.status, 200);
  const instanceId = started.body.id as string;
  const [draft] = (await drafter.get(`/engine-rest/task?processInstanceId=${instanceId}`)).body;

  const d = await signIn(browser, server.url, 'drafter', 'drafter-password');
  await d.page.goto(`${server.url}/task/${draft.id}`);
  await d.page.fill('#cc-users', 'reader-b');
  await d.page.fill('#cc-message', '请阅');
  await d.page.click('#cc-send');
  await d.page.locator('.flash-ok', { hasText: '已抄送 1 人' }).waitFor();
  await d.page.fill('#cc-users', 'no-such-person');
  await d.page.click('#cc-send');
  await d.page.locator('#cc-error', { hasText: 'no-such-person' }).waitFor();
  await d.page.context().close();
  t.deepEqual(d.errors, []);
  // The step's ccUsers copies it to reader-a as it completes.
  t.is((await drafter.post(`/engine-rest/task/${draft.id}/complete`, {})).status, 204);

  for (const reader of ['reader-a', 'reader-b']) {
    const { page, errors } = await signIn(browser, server.url, reader, `${reader}-password`);
    await page.locator('#copied-count').filter({ hasText: '1' }).waitFor();
    await page.click('#nav-copied');
    await page.waitForURL('**/copied');
    await page.locator('#carbon-copy-list').waitFor();
    const item = page.locator('li.carbon-copy.unread');
    t.is(await item.count(), 1, reader);
    t.regex(await item.innerText(), /抄送测试 CC-2026-1/);
    t.regex(await item.innerText(), /drafter 抄送/);
    if (reader === 'reader-b') t.regex(await item.innerText(), /请阅/);
    await item.locator('a').click();
    await page.waitForURL(`**/copied/instance/${instanceId}`);
    await page.locator('#read-only').waitFor();
    await page.locator('#variables', { hasText: '年度报告' }).waitFor();
    t.is(await page.locator('#terminate').count(), 0, 'read-only: nothing to act on');
    await page.locator('#copied-count').waitFor({ state: 'hidden' });
    await page.click('#nav-copied');
    await page.locator('#carbon-copy-list').waitFor();
    t.is(await page.locator('li.carbon-copy.unread').count(), 0, 'read once opened');
    t.is(await page.locator('li.carbon-copy').count(), 1);
    await page.context().close();
    t.deepEqual(errors, [], reader);
  }
});

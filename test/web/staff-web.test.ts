import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { client, makeUser, repoRoot, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The staff web app end to end, in Debian's headless Chromium against the
 * real server: an office user starts a plan approval with its start form,
 * drafts the plan (a validation error first), and a leading-group user never
 * sees the office's tasks. Screenshots go to test-artifacts/.
 */

const artifacts = path.join(repoRoot, 'test-artifacts');
const pglite = backends.find((b) => b.name === 'pglite')!;

let server!: TestServer;
let browser!: Browser;
let zhang!: Client;

test.before(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'web', 'index.html'))) throw new Error('dist/web is not built: npm ci runs npm run build:web');
  fs.mkdirSync(artifacts, { recursive: true });
  server = await startTestServer(pglite);
  await makeUser(server, 'wang', ['office']);
  zhang = await makeUser(server, 'zhang', ['office']);
  await makeUser(server, 'li', ['leading-group']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(width: number, height: number, user: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width, height }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await page.goto(`${server.url}/`);
  await page.waitForURL('**/login');
  await page.fill('#username', user);
  await page.fill('#password', `${user}-password`);
  await page.click('button[type=submit]');
  await page.locator('#current-user').filter({ hasText: user }).waitFor();
  return page;
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

test.serial('an office user starts a plan approval and drafts it; the Chinese validation message comes first', async (t) => {
  const page = await signIn(1280, 800, 'wang');
  t.is(await page.locator('#tab-mine').innerText().then((s) => s.replace(/\s+/g, ' ').trim()), '我的任务 0');

  // Start page: only what the office may start, with the start form from the diagram.
  await page.click('#nav-start');
  await page.locator('#process-list li[data-key="security-plan-approval"] a').click();
  await page.locator('#field-title').waitFor();
  t.true(await page.locator('label[for=field-planType]').innerText().then((s) => s.includes('类别')));
  await page.click('#start');
  t.is(await page.locator('#error-title').innerText(), '规划/制度名称为必填项', 'client-side check in Chinese');
  await page.fill('#field-title', '2026年度网络安全规划');
  await page.selectOption('#field-planType', 'plan');
  await page.click('#start');

  // Back on the role inbox, with counts; claim moves it to my tasks.
  await page.locator('.flash-ok').filter({ hasText: '流程已发起' }).waitFor();
  const draft = page.locator('li.task[data-task-key="draftPlan"]');
  await draft.waitFor();
  t.is(await page.locator('#count-roles').innerText(), '1');
  // An overdue task stands out.
  const wang = client(server.url, 'wang', 'wang-password');
  const id = await draft.getAttribute('data-task-id');
  t.is((await wang.put(`/engine-rest/task/${id}`, { name: '起草规划', due: '2026-01-05T17:00:00.000+0800' })).status, 204);
  await page.reload();
  await page.locator('li.task.is-overdue[data-task-key="draftPlan"] .due.overdue').filter({ hasText: '已逾期 2026/01/05 17:00' }).waitFor();
  await shot(page, 'tasklist-1280.png');
  await draft.locator('[data-action=claim]').click();
  await page.locator('#count-roles').filter({ hasText: '0' }).waitFor();
  await page.click('#tab-mine');
  await page.locator('li.task[data-task-key="draftPlan"]').waitFor();
  t.is(await page.locator('#count-mine').innerText(), '1');

  // The task page: form from the diagram, the diagram with this step highlighted.
  await page.locator('li.task[data-task-key="draftPlan"] .task-name').click();
  await page.locator('#field-summary').waitFor();
  await page.locator('#diagram g.current-task[data-element-id="draftPlan"]').waitFor();
  t.is(await page.inputValue('#field-title'), '2026年度网络安全规划', 'prefilled from the instance');
  await page.fill('#field-summary', '太短');
  await page.click('#complete');
  t.is(await page.locator('#error-summary').innerText(), '内容摘要至少需要 10 个字符');
  t.is(await page.locator('#field-summary').getAttribute('aria-invalid'), 'true');
  await shot(page, 'task-form-1280.png');

  await page.fill('#field-summary', '全年网络安全建设与运维规划草案，含数据安全专项。');
  await page.click('#complete');
  await page.locator('.flash-ok').filter({ hasText: '任务已提交' }).waitFor();
  t.is(await page.locator('#count-mine').innerText(), '0');
  t.is(await page.locator('#count-roles').innerText(), '1', 'the office review is next');

  // The server's own refusal is shown: a colleague claims the review while this page is open.
  const review = page.locator('li.task[data-task-key="reviewDraft"]');
  await page.click('#tab-roles');
  const reviewId = await review.getAttribute('data-task-id');
  await review.locator('.task-name').click();
  await page.locator('#field-reviewResult').waitFor();
  await page.selectOption('#field-reviewResult', 'submit');
  t.is((await zhang.post(`/engine-rest/task/${reviewId}/claim`, { userId: 'zhang' })).status, 204);
  await page.click('#complete');
  // The refusal arrives with the server's answer: wait for it rather than read the box at once.
  await page.locator('#server-error').filter({ hasText: '服务器拒绝' }).waitFor();
  t.regex(await page.locator('#server-error').innerText(), /^服务器拒绝：任务已由 zhang 认领/);
  await page.click('#nav-tasks');

    // English on request; the token is revoked at logout.
  await page.click('#lang-switch');
  await page.locator('#tab-mine').filter({ hasText: 'My tasks' }).waitFor();
  await page.click('#lang-switch');
  // A string, evaluated in the page: the test itself is type-checked without the DOM library.
  const token = await page.evaluate<string>("JSON.parse(sessionStorage.getItem('staff-session')).token");
  t.is((await fetch(`${server.url}/engine-rest/task`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  await page.click('#logout');
  await page.waitForURL('**/login');
  t.is((await fetch(`${server.url}/engine-rest/task`, { headers: { Authorization: `Bearer ${token}` } })).status, 401, 'logout revoked the token');
  await page.context().close();
});

test.serial('a leading-group user never sees the office tasks, on a phone-sized screen too', async (t) => {
  const officeTask = (await client(server.url, 'wang', 'wang-password').get('/engine-rest/task?candidateGroup=office&includeAssignedTasks=true')).body[0];
  t.truthy(officeTask, 'the office review is open (claimed by zhang)');
  const page = await signIn(390, 844, 'li');
  t.is(await page.locator('#count-mine').innerText(), '0');
  t.is(await page.locator('#count-roles').innerText(), '0');
  await page.click('#tab-roles');
  await page.locator('#task-list-empty').waitFor();
  t.false(await page.getByText('办公室审核').isVisible());
  await shot(page, 'tasklist-390.png');
  await page.goto(`${server.url}/task/${officeTask.id}`);
  await page.locator('#not-found').waitFor();
  await page.click('#nav-start');
  await page.locator('main h1').filter({ hasText: '发起流程' }).waitFor();
  await page.locator('#process-list, .empty').first().waitFor();
  t.is(await page.locator('#process-list li[data-key="security-plan-approval"]').count(), 0, 'only the office starts plan approvals');
  await page.context().close();
});

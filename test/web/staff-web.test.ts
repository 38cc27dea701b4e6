import fs from 'node:fs';
import path from 'node:path';
import test, { type ExecutionContext } from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn as signInAs } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The staff web app end to end, in Debian's headless Chromium against the
 * real server. A plan approval travels through it as the organisation would
 * run it: an office user starts and drafts it (a validation error first), a
 * leading-group member on a phone decides their own vote, the office assigns
 * the implementation, and the monitor shows the finished instance with every
 * step and who did it. A network-security user never sees any of it.
 * Screenshots go to test-artifacts/.
 */

const artifacts = path.join(repoRoot, 'test-artifacts');
const pglite = backends.find((b) => b.name === 'pglite')!;
const PLAN = 'security-plan-approval';

let server!: TestServer;
let browser!: Browser;
let zhang!: Client;
let wangApi!: Client;
/** The instance the story follows, started in the browser with this business key. */
const KEY = 'PLAN-2026-001';

test.before(async () => {
  requireWebBuild(repoRoot);
  fs.mkdirSync(artifacts, { recursive: true });
  server = await startTestServer(pglite);
  wangApi = await makeUser(server, 'wang', ['office']);
  zhang = await makeUser(server, 'zhang', ['office']);
  await makeUser(server, 'li', ['leading-group']);
  await makeUser(server, 'chen', ['network-security']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

async function signIn(width: number, height: number, user: string): Promise<Page> {
  const { page, errors } = await signInAs(browser, server.url, user, `${user}-password`, { width, height });
  pageErrors.set(page, errors);
  return page;
}

const pageErrors = new WeakMap<Page, string[]>();

/** Closes the page's context; the page must not have thrown. */
async function done(t: ExecutionContext, page: Page): Promise<void> {
  await page.context().close();
  t.deepEqual(pageErrors.get(page), [], 'no uncaught errors in the page');
}

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });
const text = async (page: Page, selector: string) => (await page.locator(selector).innerText()).replace(/\s+/g, ' ').trim();

async function instanceOf(key: string): Promise<string> {
  const [row] = (await wangApi.get(`/engine-rest/history/process-instance?processInstanceBusinessKey=${key}`)).body;
  return row.id;
}

test.serial('an office user starts a plan approval and drafts it: validation first, filters, variables, comments', async (t) => {
  const page = await signIn(1280, 800, 'wang');
  t.is(await text(page, '#tab-mine'), '我的任务 0');
  t.is(await page.locator('#nav-monitor').count(), 1, 'the office monitors');
  t.is(await page.locator('#nav-modeler').count(), 0, 'only administrators model');

  // Start page: only what the office may start, with the start form from the diagram.
  await page.click('#nav-start');
  await page.locator(`#process-list li[data-key="${PLAN}"] a`).click();
  await page.locator('#field-title').waitFor();
  t.true((await page.locator('label[for=field-planType]').innerText()).includes('类别'));
  await page.click('#start');
  t.is(await page.locator('#error-title').innerText(), '规划/制度名称为必填项', 'client-side check in Chinese');
  await page.fill('#field-title', '2026年度网络安全规划');
  await page.selectOption('#field-planType', 'plan');
  await page.fill('#business-key', KEY);
  await page.click('#start');

  // Back on the role inbox, with counts.
  await page.locator('.flash-ok').filter({ hasText: '流程已发起' }).waitFor();
  const draft = page.locator('li.task[data-task-key="draftPlan"]');
  await draft.waitFor();
  t.is(await page.locator('#count-roles').innerText(), '1');
  // An overdue task stands out, and the filters find it by its due date.
  const id = await draft.getAttribute('data-task-id');
  t.is((await wangApi.put(`/engine-rest/task/${id}`, { name: '起草规划', due: '2026-01-05T17:00:00.000+0800', priority: 80 })).status, 204);
  await page.reload();
  await page.locator('li.task.is-overdue[data-task-key="draftPlan"] .due.overdue').filter({ hasText: '已逾期 2026/01/05 17:00' }).waitFor();
  await page.locator('li.task[data-task-key="draftPlan"] .priority-high').waitFor();
  await page.selectOption('#filter-due', 'none');
  await page.locator('#task-list-empty').waitFor();
  t.regex(page.url(), /due=none/);
  await page.selectOption('#filter-due', 'overdue');
  await draft.waitFor();
  await page.selectOption('#filter-process', 'security-incident');
  await page.locator('#task-list-empty').waitFor();
  await page.selectOption('#filter-process', PLAN);
  await draft.waitFor();
  t.is(await text(page, '#shown-count'), '显示 1 项');
  await shot(page, 'tasklist-1280.png');

  // Claim: the task stays in the role's inbox, and appears under my tasks.
  await draft.locator('[data-action=claim]').click();
  await draft.locator('[data-action=unclaim]').waitFor();
  t.is(await page.locator('#count-mine').innerText(), '1');
  await page.click('#tab-mine');
  await page.locator('li.task[data-task-key="draftPlan"]').waitFor();

  // The task page: form from the diagram, the diagram with this step highlighted, variables, comments.
  await page.locator('li.task[data-task-key="draftPlan"] .task-name').click();
  await page.locator('#field-summary').waitFor();
  await page.locator('#diagram g.current-task[data-element-id="draftPlan"]').waitFor();
  t.is(await page.inputValue('#field-title'), '2026年度网络安全规划', 'prefilled from the instance');
  t.is(await text(page, '#variables tr[data-name="title"] td:nth-child(2)'), '2026年度网络安全规划');
  await page.fill('#comment-text', '请数据安全小组补充数据分类分级内容。');
  await page.click('#add-comment');
  await page.locator('#comments li').filter({ hasText: '请数据安全小组补充数据分类分级内容。' }).waitFor();
  t.regex(await text(page, '#comments li .muted'), /^wang · 20\d\d\//);
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
  await page.locator('#server-error').filter({ hasText: '服务器拒绝' }).waitFor();
  t.regex(await page.locator('#server-error').innerText(), /^服务器拒绝：任务已由 zhang 认领/);
  // zhang sends it on to the leading group.
  t.is((await zhang.post(`/engine-rest/task/${reviewId}/complete`, { variables: vars({ reviewResult: 'submit' }) })).status, 204);

  // English on request; the token is revoked at logout.
  await page.click('#nav-tasks');
  await page.click('#lang-switch');
  await page.locator('#tab-mine').filter({ hasText: 'My tasks' }).waitFor();
  await page.click('#lang-switch');
  // A string, evaluated in the page: the test itself is type-checked without the DOM library.
  const token = await page.evaluate<string>("JSON.parse(sessionStorage.getItem('staff-session')).token");
  t.is((await fetch(`${server.url}/engine-rest/task`, { headers: { Authorization: `Bearer ${token}` } })).status, 200);
  await page.click('#logout');
  await page.waitForURL('**/login');
  t.is((await fetch(`${server.url}/engine-rest/task`, { headers: { Authorization: `Bearer ${token}` } })).status, 401, 'logout revoked the token');
  await done(t, page);
});

test.serial('a leading-group member on a phone finds their own vote among their tasks and approves', async (t) => {
  const page = await signIn(390, 844, 'li');
  t.is(await page.locator('#nav-monitor').count(), 0);
  // The leading group decides as a body: each member has a vote of their own, assigned to them, not offered to the role.
  const decision = page.locator('li.task[data-task-key="leadingGroupDecision"]');
  await decision.waitFor();
  t.is(await page.locator('#count-mine').innerText(), '1');
  t.is(await page.locator('#count-roles').innerText(), '0');
  t.is(await page.locator('li.task').count(), 1, 'only the leading group’s task, none of the office’s');
  await shot(page, 'tasklist-390.png');
  await decision.locator('.task-name').click();
  await page.locator('#field-decision').waitFor();
  t.is(await text(page, '#variables tr[data-name="title"] td:nth-child(2)'), '2026年度网络安全规划', 'the decision is taken on what the office wrote');
  await page.click('#complete');
  t.is(await page.locator('#error-decision').innerText(), '审批决定为必填项');
  await page.selectOption('#field-decision', 'approve');
  await page.fill('#field-decisionComment', '同意，按期实施。');
  await shot(page, 'task-form-390.png');
  await page.click('#complete');
  await page.locator('.flash-ok').filter({ hasText: '任务已提交' }).waitFor();
  t.is(await page.locator('#count-mine').innerText(), '0');
  await done(t, page);
});

test.serial('the office assigns the implementation; the monitor shows the instance finished, with who did each step', async (t) => {
  const page = await signIn(1280, 800, 'wang');
  await page.click('#tab-roles');
  const assign = page.locator('li.task[data-task-key="assignImplementation"]');
  await assign.locator('[data-action=claim]').click();
  await assign.locator('[data-action=unclaim]').waitFor();
  await assign.locator('.task-name').click();
  await page.locator('#field-implementingGroups').waitFor();
  await page.fill('#field-implementingGroups', '网络安全工作小组、数据安全工作小组');
  await page.fill('#field-implementationDeadline', '2026-12-31');
  await page.click('#complete');
  await page.locator('.flash-ok').filter({ hasText: '任务已提交' }).waitFor();

  // A second plan waits at the leading group's decision, with its reminder timer armed.
  const started = await wangApi.post(`/engine-rest/process-definition/key/${PLAN}/start`, { businessKey: 'PLAN-2026-002', variables: vars({ title: '数据安全管理制度', planType: 'rules' }) });
  t.is(started.status, 200, JSON.stringify(started.body));
  const running = started.body.id as string;
  for (const [key, values] of [['draftPlan', { title: '数据安全管理制度', planType: 'rules', summary: '数据分类分级与加密存储管理制度草案。' }], ['reviewDraft', { reviewResult: 'submit' }]] as const) {
    const [task] = (await wangApi.get(`/engine-rest/task?processInstanceId=${running}&taskDefinitionKey=${key}`)).body;
    t.is((await wangApi.post(`/engine-rest/task/${task.id}/claim`, { userId: 'wang' })).status, 204);
    t.is((await wangApi.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) })).status, 204);
  }

  // The list: search by part of the business key, counts per state.
  await page.click('#nav-monitor');
  await page.locator('#instance-table').waitFor();
  await page.selectOption('#monitor-process', PLAN);
  await page.fill('#monitor-key', '2026-00');
  await page.click('#monitor-search');
  await page.locator('#count-running').filter({ hasText: '1' }).waitFor();
  t.is(await page.locator('#count-finished').innerText(), '1');
  const finishedId = await instanceOf(KEY);
  t.is(await page.locator(`#instance-table tr[data-instance-id="${finishedId}"]`).getAttribute('data-state'), 'COMPLETED');
  await page.selectOption('#monitor-state', 'finished');
  await page.click('#monitor-search');
  await page.waitForURL(/state=finished/);
  // The running instance's row leaving is what shows the filtered list is drawn.
  await page.locator(`#instance-table tr[data-instance-id="${running}"]`).waitFor({ state: 'detached' });
  await page.locator('#instance-table tbody tr').first().waitFor();
  t.is(await page.locator('#instance-table tbody tr').count(), 1);

  // The finished instance: every step done, by whom, in order; the diagram marks what ran.
  await page.locator(`#instance-table tr[data-instance-id="${finishedId}"] .instance-link`).click();
  await page.locator('#history-table').waitFor();
  t.is(await text(page, '#instance-state'), '已完成');
  const steps = await page.locator('#history-table tbody tr[data-activity-type="userTask"]').evaluateAll((rows) => rows.map((r) => [
    r.getAttribute('data-activity-id'), (r.children[2] as { textContent: string | null }).textContent, (r.children[3] as { textContent: string | null }).textContent,
  ]));
  t.is(await text(page, '#history-table tr[data-activity-id="start"] td:nth-child(3)'), 'wang', 'who started it');
  t.deepEqual(steps, [
    ['draftPlan', 'wang', '已完成'], ['reviewDraft', 'zhang', '已完成'], ['leadingGroupDecision', 'li', '已完成'], ['assignImplementation', 'wang', '已完成'],
  ]);
  for (const done of ['draftPlan', 'leadingGroupDecision', 'assignImplementation', 'endApproved']) {
    await page.locator(`#diagram g.done-element[data-element-id="${done}"]`).waitFor();
  }
  t.is(await page.locator('#diagram g.done-element[data-element-id="endRejected"]').count(), 0);
  t.is(await page.locator('#diagram g.active-element').count(), 0);
  t.is(await text(page, '#variables tr[data-name="decision"] td:nth-child(2)'), 'approve');
  await shot(page, 'monitor-instance-1280.png');

  // The running one: the decision is active and its reminder timer shows when it fires.
  await page.goto(`${server.url}/monitor/instance/${running}`);
  await page.locator('#diagram g.active-element[data-element-id="leadingGroupDecision"]').waitFor();
  await page.locator('.timer-badge[data-element-id="decisionReminderTimer"]').waitFor();
  const [job] = (await wangApi.get(`/engine-rest/job?processInstanceId=${running}`)).body;
  t.truthy(job);
  t.is(await page.locator('#instance-timer-table tbody tr').count(), 1);
  t.is(await page.locator('button[data-action=execute]').count(), 0, 'firing timers by hand is for administrators');
  await shot(page, 'monitor-running-1280.png');
  await page.click('#nav-monitor');
  await page.click('#tab-timers');
  await page.locator(`#timer-table tr[data-job-id="${job.id}"]`).waitFor();
  // Each version says where it came from: these from the files in processes/.
  await page.click('#tab-versions');
  const version = page.locator('#version-table tr[data-key="security-plan-approval"]').first();
  await version.waitFor();
  t.is(await version.locator('.source').getAttribute('class'), 'source source-processes');
  t.is(await version.locator('.source').innerText(), '流程文件 processes/');
  await done(t, page);

  // The same instance page on a phone.
  const phone = await signIn(390, 844, 'wang');
  await phone.goto(`${server.url}/monitor/instance/${finishedId}`);
  await phone.locator('#history-table').waitFor();
  await shot(phone, 'monitor-instance-390.png');
  await done(t, phone);
});

test.serial('a network-security user sees none of it: no tasks, no monitor, no instance', async (t) => {
  const page = await signIn(1280, 800, 'chen');
  t.is(await page.locator('#count-mine').innerText(), '0');
  t.is(await page.locator('#count-roles').innerText(), '0');
  t.is(await page.locator('#nav-monitor').count(), 0);
  const [decision] = (await client(server.url, ADMIN.user, ADMIN.password).get('/engine-rest/history/task?taskDefinitionKey=leadingGroupDecision')).body;
  await page.goto(`${server.url}/task/${decision.id}`);
  await page.locator('#not-found').waitFor();
  await page.goto(`${server.url}/monitor`);
  await page.locator('#forbidden').waitFor();
  // And the server agrees, whatever the page shows.
  const chen = client(server.url, 'chen', 'chen-password');
  t.deepEqual((await chen.get(`/engine-rest/history/process-instance?processDefinitionKey=${PLAN}`)).body, []);
  t.deepEqual((await chen.get('/engine-rest/job')).body, []);
  await page.click('#nav-start');
  await page.locator('main h1').filter({ hasText: '发起流程' }).waitFor();
  t.is(await page.locator(`#process-list li[data-key="${PLAN}"]`).count(), 0, 'only the office starts plan approvals');
  await done(t, page);
});

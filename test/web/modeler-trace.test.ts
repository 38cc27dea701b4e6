import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn as signInAs } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The administrator's side of the web app in headless Chromium: the modeler
 * opens a deployed diagram, a task is renamed in the properties panel and
 * deployed as a new version (which can be started at once); a diagram the
 * engine cannot run is refused with the element marked and nothing
 * deployed; the monitor's retry button resolves an external task's
 * incident; the trace viewer lists who did what and verifies the chain.
 */

const artifacts = path.join(repoRoot, 'test-artifacts');
const pglite = backends.find((b) => b.name === 'pglite')!;
const PLAN = 'security-plan-approval';

let server!: TestServer;
let browser!: Browser;
let admin!: Client;

test.before(async () => {
  requireWebBuild(repoRoot);
  fs.mkdirSync(artifacts, { recursive: true });
  server = await startTestServer(pglite);
  admin = client(server.url, ADMIN.user, ADMIN.password);
  await makeUser(server, 'wang', ['office']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

const signIn = (user: string, password: string) => signInAs(browser, server.url, user, password);

const shot = (page: Page, name: string) => page.screenshot({ path: path.join(artifacts, name), fullPage: true });

async function versions(): Promise<{ id: string; version: number }[]> {
  return (await admin.get(`/engine-rest/process-definition?key=${PLAN}&sortBy=version&sortOrder=asc`)).body;
}

test.serial('the modeler opens a deployed diagram, a renamed task deploys as a new version, which starts', async (t) => {
  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  t.deepEqual((await versions()).map((d) => d.version), [1]);
  await page.click('#nav-modeler');
  await page.locator('#modeler-open').waitFor();
  const v1 = (await versions())[0].id;
  await page.selectOption('#modeler-open', v1);
  const task = page.locator('#modeler-canvas .djs-shape[data-element-id="draftPlan"]');
  await task.waitFor();

  // The properties panel shows Camunda's settings for the selected task.
  await task.click();
  await page.locator('#properties-panel .bio-properties-panel-header-label').filter({ hasText: '起草规划' }).waitFor();
  await page.locator('#properties-panel [data-group-id="group-CamundaPlatform__UserAssignment"] .bio-properties-panel-group-header').filter({ hasText: '办理人分配' }).click();
  t.is(await page.inputValue('#bio-properties-panel-candidateGroups'), 'office');
  await page.locator('#properties-panel [data-group-id="group-general"] .bio-properties-panel-group-header').click();
  await page.fill('#bio-properties-panel-name', '起草安全规划');
  await task.locator('text').filter({ hasText: '起草安全规划' }).waitFor();
  await shot(page, 'modeler-1280.png');

  await page.click('#modeler-deploy');
  await page.locator('#modeler-status.flash-ok').filter({ hasText: '版本 2' }).waitFor();
  const [, v2] = await versions();
  t.is(v2.version, 2);
  t.true((await admin.get(`/engine-rest/process-definition/${v2.id}/xml`)).body.bpmn20Xml.includes('name="起草安全规划"'));
  t.regex(page.url(), new RegExp(`definition=${encodeURIComponent(v2.id)}`));

  // Deploying again without a change makes no new version.
  await page.click('#modeler-deploy');
  await page.locator('#modeler-status.flash-ok').filter({ hasText: '未改动' }).waitFor();
  t.is((await versions()).length, 2);

  // Download the XML as edited.
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#modeler-download')]);
  t.is(download.suggestedFilename(), `${PLAN}.bpmn`);
  t.true(fs.readFileSync(await download.path()).toString('utf8').includes('起草安全规划'));

  // Start the new version from here: the start page of version 2.
  await page.click('#modeler-start');
  await page.locator('#field-title').waitFor();
  t.true(decodeURIComponent(page.url()).endsWith(`/start/${v2.id}`), page.url());
  await page.context().close();
  t.deepEqual(errors, []);
});

test.serial('a diagram the engine cannot run is refused: the element is marked, nothing is deployed', async (t) => {
  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  const before = (await versions()).length;
  const latest = (await versions()).at(-1)!.id;
  await page.goto(`${server.url}/modeler?definition=${encodeURIComponent(latest)}`);
  const gateway = page.locator('#modeler-canvas .djs-shape[data-element-id="reviewGateway"]');
  await gateway.waitFor();
  // Turn the review gateway into a complex gateway, which the engine does not run.
  await gateway.click();
  await page.locator('.djs-context-pad .entry[data-action="replace"]').click();
  await page.locator('.djs-popup [data-id="replace-with-complex-gateway"]').click();
  await page.click('#modeler-deploy');
  const problem = page.locator('#modeler-problems li').filter({ hasText: 'ComplexGateway' });
  await problem.waitFor();
  const marked = await problem.getAttribute('data-element-id');
  t.truthy(marked);
  await page.locator(`#modeler-canvas .djs-element.error-element[data-element-id="${marked}"]`).waitFor();
  t.is((await versions()).length, before, 'nothing deployed');
  await shot(page, 'modeler-error-1280.png');
  // The problem's element link selects it for editing.
  await problem.locator('button').click();
  await page.locator('#properties-panel .bio-properties-panel-header-type').filter({ hasText: /复杂网关|complex gateway/i }).waitFor();
  await page.context().close();
  t.deepEqual(errors, []);
});

test.serial('an external task that ran out of retries shows as an incident; the retry button hands it back to the workers', async (t) => {
  await server.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
  const robot = await makeUser(server, 'robot', ['workers']);
  const pi = (await admin.post('/engine-rest/process-definition/key/external-check/start', { variables: vars({ urgency: 50 }) })).body.id;
  const fetch = () => robot.post('/engine-rest/external-task/fetchAndLock', { workerId: 'robot', maxTasks: 1, topics: [{ topicName: 'backup-check', lockDuration: 60_000 }] });
  const [task] = (await fetch()).body;
  t.is(task.processInstanceId, pi);
  t.is((await robot.post(`/engine-rest/external-task/${task.id}/failure`, { workerId: 'robot', errorMessage: '磁带库无响应', retries: 0, retryTimeout: 0 })).status, 204);
  t.deepEqual((await fetch()).body, [], 'no retries left: nobody gets it');

  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  await page.goto(`${server.url}/monitor/instance/${pi}`);
  await page.locator('#incident-table tr').filter({ hasText: '磁带库无响应' }).waitFor();
  // This diagram has no layout (no BPMN DI): the page says so and shows everything else.
  await page.locator('#diagram .diagram-missing').filter({ hasText: '没有图形布局' }).waitFor();
  await page.locator('#history-table tr[data-activity-id="check"]').filter({ hasText: '进行中' }).waitFor();
  await page.click('button[data-action=retry]');
  await page.locator('.flash-ok').filter({ hasText: '已重新安排执行' }).waitFor();
  await page.locator('#incidents').filter({ hasText: '没有未解决的异常' }).waitFor();
  t.deepEqual((await admin.get(`/engine-rest/incident?processInstanceId=${pi}`)).body, []);
  t.is((await fetch()).body[0]?.id, task.id, 'the workers get it again');
  await page.context().close();
  t.deepEqual(errors, []);
});

test.serial('the trace viewer lists who did what, filters by user, and verifies the chain', async (t) => {
  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  await page.click('#nav-trace');
  await page.locator('#trace-table').waitFor();
  // The administrator's deployments from the tests above are there, newest first.
  t.true(await page.locator('#trace-table tr[data-operation="Create"]').count() >= 1);
  t.is(await page.locator('#trace-table tr[data-operation="Read"]').count(), 0, 'reads only on request');
  await page.fill('#trace-user', 'wang');
  await page.click('#trace-search');
  await page.locator('#trace-empty').waitFor(); // wang has done nothing yet
  await page.fill('#trace-user', ADMIN.user);
  await page.check('#trace-reads');
  await page.click('#trace-search');
  await page.locator('#trace-table tr[data-operation="Read"]').first().waitFor();
  t.regex(page.url(), /reads=true/);
  await page.click('#verify');
  await page.locator('#verify-result.flash-ok').filter({ hasText: '留痕链完整' }).waitFor();
  await shot(page, 'trace-1280.png');
  await page.context().close();
  t.deepEqual(errors, []);

  // Staff never reach it, nor the modeler.
  const office = await signIn('wang', 'wang-password');
  t.is(await office.page.locator('#nav-trace').count(), 0);
  await office.page.goto(`${server.url}/trace`);
  await office.page.locator('#forbidden').waitFor();
  await office.page.goto(`${server.url}/modeler`);
  await office.page.locator('#forbidden').waitFor();
  t.is((await client(server.url, 'wang', 'wang-password').get('/engine-rest/history/user-operation')).status, 403);
  await office.page.context().close();
  t.deepEqual(office.errors, []);
});

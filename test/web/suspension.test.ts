import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn as signInAs } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Issue 16.3 in headless Chromium: the office opens a running instance in
 * the monitor, suspends it (the page shows 已挂起 and the server refuses the
 * task), and activates it again. (Who may is enforced by the server and
 * tested over REST: test/http/suspension.test.ts.)
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

test.serial('the office suspends a running instance on its page, sees 已挂起, and activates it again', async (t) => {
  const started = await admin.post(`/engine-rest/process-definition/key/${PLAN}/start`, { variables: vars({ title: '挂起演示', planType: 'plan' }) });
  t.is(started.status, 200);
  const pi = started.body.id as string;
  const { page, errors } = await signIn('wang', 'wang-password');
  await page.goto(`${server.url}/monitor/instance/${pi}`);
  await page.locator('#suspend-instance').click();
  await page.locator('#suspended-badge').waitFor();
  t.is((await page.locator('#suspended-badge').textContent())?.trim(), '已挂起');
  t.true((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended);
  const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${pi}`)).body;
  t.is((await admin.post(`/engine-rest/task/${task.id}/complete`, {})).status, 409, 'the server refuses its task');
  await page.screenshot({ path: path.join(artifacts, 'instance-suspended-1280.png'), fullPage: true });

  await page.locator('#activate-instance').click();
  await page.locator('#suspend-instance').waitFor();
  t.is(await page.locator('#suspended-badge').count(), 0);
  t.false((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended);
  const ops = (await admin.get(`/engine-rest/history/user-operation?processInstanceId=${pi}&entityType=ProcessInstance`)).body
    .filter((e: { operationType: string }) => ['Suspend', 'Activate'].includes(e.operationType))
    .map((e: { operationType: string; userId: string }) => `${e.operationType} ${e.userId}`);
  t.deepEqual(ops, ['Suspend wang', 'Activate wang']);
  t.deepEqual(errors, []);
});


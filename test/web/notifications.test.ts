import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, makeUser, NO_PROCESSES, repoRoot, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The bell in the header, in Chromium against the real server: a task
 * offered to the user's role raises the unread count, the list links to the
 * task, and opening it there clears the mark.
 */
const pglite = backends.find((b) => b.name === 'pglite')!;
let server!: TestServer;
let browser!: Browser;
let zhou!: Client;

test.before(async () => {
  requireWebBuild(repoRoot);
  server = await startTestServer(pglite, NO_PROCESSES);
  zhou = await makeUser(server, 'zhou', ['office']);
  await makeUser(server, 'lin', ['leading-group']);
  const form = new FormData();
  form.append('deployment-name', 'notify-offer');
  form.append('notify-offer.bpmn', new Blob([fs.readFileSync(path.join(repoRoot, 'test/fixtures/notify-offer.bpmn'))]), 'notify-offer.bpmn');
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

test('the bell counts a task offered to my role; the list links to it; opening it clears the mark', async (t) => {
  const { page, errors } = await signIn(browser, server.url, 'lin', 'lin-password');
  await page.locator('#nav-bell').waitFor();
  t.true(await page.locator('#bell-count').isHidden(), 'nothing unread yet');
  const started = await zhou.post('/engine-rest/process-definition/key/notify-offer/start', { variables: { filer: { value: 'zhou' } } });
  t.is(started.status, 200);
  await page.click('#nav-tasks');
  await page.locator('#bell-count').filter({ hasText: '1' }).waitFor();
  await page.click('#nav-bell');
  await page.waitForURL('**/notifications');
  // The page fetches its list after the URL changes; count once it is drawn.
  await page.locator('#notification-list').waitFor();
  const item = page.locator('li.notification.unread');
  t.is(await item.count(), 1);
  t.regex(await item.innerText(), /领导小组审阅/);
  const taskId = (await server.db('tasks').where({ process_instance_id: started.body.id }).first()).id as string;
  t.is(await item.locator('a').getAttribute('href'), `/task/${taskId}`);
  await item.locator('a').click();
  await page.waitForURL(`**/task/${taskId}`);
  await page.locator('#bell-count').waitFor({ state: 'hidden' });
  await page.click('#nav-bell');
  await page.waitForURL('**/notifications');
  await page.locator('#notification-list').waitFor();
  t.is(await page.locator('li.notification.unread').count(), 0, 'read once opened');
  t.is(await page.locator('li.notification').count(), 1);
  await page.context().close();
  t.deepEqual(errors, []);
});

import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, repoRoot, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * The administrators' robot page in Chromium against the real server: only
 * administrators see it in the header; one adds a 钉钉 robot with its secret,
 * sees it listed with its address masked, edits it, and deletes it. The
 * address's token and the secret never appear on the page.
 */
const pglite = backends.find((b) => b.name === 'pglite')!;
const TOKEN = 'page-ding-token-3d9e';
const SECRET = 'SECpage-secret-77aa';
let server!: TestServer;
let browser!: Browser;

test.before(async () => {
  requireWebBuild(repoRoot);
  server = await startTestServer(pglite, NO_PROCESSES);
  await makeUser(server, 'staff-w', ['office']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

test('an administrator adds, edits and deletes a role robot; its address and secret are never shown; others see no such page', async (t) => {
  const staff = await signIn(browser, server.url, 'staff-w', 'staff-w-password');
  t.is(await staff.page.locator('#nav-webhooks').count(), 0, 'not in the header of one who is no administrator');
  await staff.page.context().close();

  const { page, errors } = await signIn(browser, server.url, ADMIN.user, ADMIN.password);
  await page.click('#nav-webhooks');
  await page.waitForURL('**/webhooks');
  await page.locator('#no-webhooks').waitFor();
  await page.fill('#webhook-name', '领导小组钉钉群');
  await page.selectOption('#webhook-group', 'leading-group');
  await page.selectOption('#webhook-format', 'dingtalk');
  await page.fill('#webhook-url', `https://oapi.dingtalk.com/robot/send?access_token=${TOKEN}`);
  await page.fill('#webhook-secret', SECRET);
  await page.click('#webhook-save');
  const row = page.locator('#webhook-list tbody tr');
  await row.first().waitFor();
  t.is(await row.count(), 1);
  const text = await row.innerText();
  t.true(text.includes('领导小组钉钉群') && text.includes('https://oapi.dingtalk.com/…'), text);
  const html = await page.content();
  t.false(html.includes(TOKEN) || html.includes(SECRET), 'neither the token nor the secret is on the page');

  // Edit: a new name, the address and secret left empty are kept.
  await row.locator('button', { hasText: '编辑' }).click();
  await page.locator('#webhook-form h2', { hasText: '编辑机器人' }).waitFor();
  t.is(await page.inputValue('#webhook-name'), '领导小组钉钉群');
  await page.fill('#webhook-name', '钉钉群');
  await page.click('#webhook-save');
  await page.locator('#webhook-list tbody tr', { hasText: '钉钉群' }).waitFor();
  const [stored] = (await client(server.url, ADMIN.user, ADMIN.password).get('/engine-rest/notification-webhook')).body;
  t.like(stored, { name: '钉钉群', format: 'dingtalk', hasSecret: true, groupId: 'leading-group' });

  page.once('dialog', (d) => void d.accept());
  await page.locator('#webhook-list tbody tr button', { hasText: '删除' }).click();
  await page.locator('#no-webhooks').waitFor();
  t.deepEqual((await client(server.url, ADMIN.user, ADMIN.password).get('/engine-rest/notification-webhook')).body, []);
  t.deepEqual(errors, []);
});

import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, repoRoot, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * The administrators' users page (issue 18 item 6) in Chromium against the
 * real server: only administrators see it; one creates a user and a group,
 * puts the user in the group, resets the user's password, and the user then
 * signs in with the new password.
 */
const pglite = backends.find((b) => b.name === 'pglite')!;
let server!: TestServer;
let browser!: Browser;

test.before(async () => {
  requireWebBuild(repoRoot);
  server = await startTestServer(pglite, NO_PROCESSES);
  await makeUser(server, 'staff-u', ['office']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

test('an administrator creates a user and a group, joins them, resets the password; the user signs in with it', async (t) => {
  const staff = await signIn(browser, server.url, 'staff-u', 'staff-u-password');
  t.is(await staff.page.locator('#nav-users').count(), 0, 'not in the header of one who is no administrator');
  await staff.page.context().close();

  const { page, errors } = await signIn(browser, server.url, ADMIN.user, ADMIN.password);
  await page.click('#nav-users');
  await page.waitForURL('**/users');
  await page.fill('#group-new-id', 'web-team');
  await page.fill('#group-new-name', '网页小组');
  await page.click('#group-create-save');
  await page.locator('#group-list tr[data-id="web-team"]').waitFor();

  await page.fill('#user-new-id', 'web-user');
  await page.fill('#user-new-last', '李');
  await page.fill('#user-new-first', '雷');
  await page.fill('#user-new-password', 'first-web-password-1');
  await page.click('#user-create-save');
  const row = page.locator('#user-list tr[data-id="web-user"]');
  await row.waitFor();
  t.true((await row.innerText()).includes('李'));

  await row.locator('button', { hasText: '编辑' }).click();
  await page.locator('#user-edit').waitFor();
  await page.selectOption('#user-edit-group', 'web-team');
  await page.click('#user-edit-add-group');
  await page.locator('#user-edit-groups li[data-id="web-team"]').waitFor();
  const admin = client(server.url, ADMIN.user, ADMIN.password);
  t.deepEqual((await admin.get('/engine-rest/group?member=web-user')).body.map((g: { id: string }) => g.id), ['web-team']);

  await page.fill('#user-reset-password', 'second-web-password-2');
  await page.fill('#user-reset-mine', ADMIN.password);
  await page.click('#user-reset-save');
  await page.locator('.flash', { hasText: '密码已重置' }).waitFor();
  t.deepEqual(errors, []);

  t.is((await client(server.url, 'web-user', 'first-web-password-1').get('/engine-rest/user/web-user/profile')).status, 401, 'the old password no longer works');
  const user = await signIn(browser, server.url, 'web-user', 'second-web-password-2');
  t.is(await user.page.locator('#nav-users').count(), 0);
  t.deepEqual(user.errors, []);
});

import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { makeUser, NO_PROCESSES, repoRoot, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Saved filters in the tasklist, in Chromium against the real server: a user
 * of office and network-security saves "本角色任务" of one process as a
 * filter shared with network-security (the tasklist shares with one's own
 * roles); it lists both roles' tasks for them, with a count. A user of
 * network-security only finds it in the selector and, using it, sees only
 * the tasks offered to network-security (a filter never widens what a user
 * sees); they cannot delete it, its owner can.
 */
const pglite = backends.find((b) => b.name === 'pglite')!;
const KEY = 'filter-two-roles';
let server!: TestServer;
let browser!: Browser;
let network!: Client;

test.before(async () => {
  requireWebBuild(repoRoot);
  server = await startTestServer(pglite, NO_PROCESSES);
  await makeUser(server, 'office-w', ['office', 'network-security']);
  network = await makeUser(server, 'network-w', ['network-security']);
  await server.services.deployments.deploy(oneResource(`${KEY}.bpmn`, fixture(`${KEY}.bpmn`)));
  for (let i = 0; i < 2; i++) await server.services.instances.startByKey(KEY, { variables: {} }, adminPrincipal);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

test('a view saved as a filter and shared lists, for each user, only what they may see; only its owner deletes it', async (t) => {
  const o = await signIn(browser, server.url, 'office-w', 'office-w-password');
  await o.page.click('#tab-roles');
  await o.page.locator('#task-list').waitFor();
  await o.page.selectOption('#filter-process', KEY);
  await o.page.locator('#shown-count', { hasText: '4' }).waitFor();
  // A relative due date cannot be stored: saving is offered only without one.
  await o.page.selectOption('#filter-due', 'week');
  await o.page.locator('#filter-save-hint').waitFor();
  t.true(await o.page.locator('#save-filter').isDisabled());
  await o.page.selectOption('#filter-due', '');
  await o.page.locator('#filter-save-hint').waitFor({ state: 'detached' });
  await o.page.fill('#filter-name', '两组核查');
  await o.page.selectOption('#filter-share', 'network-security');
  await o.page.click('#save-filter');
  await o.page.locator('.flash-ok', { hasText: '已保存筛选“两组核查”' }).waitFor();
  await o.page.locator('#filter-title', { hasText: '两组核查' }).waitFor();
  const officeKeys = await o.page.locator('#task-list li.task').evaluateAll((els) => els.map((e) => e.getAttribute('data-task-key')));
  t.deepEqual(officeKeys, ['networkStep', 'networkStep', 'officeStep', 'officeStep'], 'higher priority first, as the view was sorted');
  t.regex(await o.page.locator('#saved-filter option:checked').innerText(), /两组核查（4）/);

  const [stored] = (await network.get('/engine-rest/filter')).body;
  t.is(stored.name, '两组核查');
  t.deepEqual(stored.sharedGroups, ['network-security']);
  t.is(stored.query.candidateGroupsExpression, '${currentUserGroups()}');

  const n = await signIn(browser, server.url, 'network-w', 'network-w-password');
  await n.page.locator('#saved-filter').waitFor();
  t.regex(await n.page.locator('#saved-filter').innerText(), /两组核查（2）/);
  await n.page.selectOption('#saved-filter', stored.id);
  await n.page.locator('#filter-title', { hasText: '两组核查' }).waitFor();
  await n.page.locator('#task-list li.task').first().waitFor();
  const networkKeys = await n.page.locator('#task-list li.task').evaluateAll((els) => els.map((e) => e.getAttribute('data-task-key')));
  t.deepEqual(networkKeys, ['networkStep', 'networkStep']);
  t.is(await n.page.locator('#delete-filter').count(), 0, 'not theirs to delete');
  await n.page.context().close();
  t.deepEqual(n.errors, []);

  o.page.once('dialog', (d) => void d.accept());
  await o.page.click('#delete-filter');
  await o.page.locator('.flash-ok', { hasText: '筛选已删除' }).waitFor();
  // The flash shows while the list loads again: the selector comes with the list.
  await o.page.locator('#saved-filter').waitFor();
  t.is(await o.page.locator('#saved-filter option').count(), 1, 'only the prompt is left');
  t.deepEqual((await network.get('/engine-rest/filter')).body, []);
  await o.page.context().close();
  t.deepEqual(o.errors, []);
});

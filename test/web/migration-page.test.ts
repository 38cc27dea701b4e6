import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, repoRoot, startTestServer, type TestServer } from '../helpers/server.ts';

/*
 * 迁移实例 / Migrate instances, in headless Chromium against the real server:
 * an administrator chooses the process and two versions, reviews the
 * generated mapping and the validation (one instance refused: it is on
 * another version), runs the batch and follows it to its end; the
 * instances are on the target version afterwards. An office user has no tab.
 */

const pglite = backends.find((b) => b.name === 'pglite')!;
let server!: TestServer;
let browser!: Browser;
const defs: string[] = [];

test.before(async () => {
  if (!fs.existsSync(path.join(repoRoot, 'dist', 'web', 'index.html'))) throw new Error('dist/web is not built: npm run build:web');
  server = await startTestServer(pglite, NO_PROCESSES);
  await makeUser(server, 'office-web-mig', ['office']);
  for (const v of ['v1', 'v2']) defs.push((await server.services.deployments.deploy(oneResource(`mig-${v}.bpmn`, fixture(`migration/mig-${v}.bpmn`)))).definitions[0]!.id);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

test.serial('an administrator reviews the mapping, migrates the instances as a batch and follows it to its end', async (t) => {
  const admin = client(server.url, ADMIN.user, ADMIN.password);
  const body = { variables: { starter: { value: 'admin' }, signers: { value: '["a","b"]', type: 'Json' } } };
  const ids = [(await admin.post(`/engine-rest/process-definition/${defs[0]}/start`, body)).body.id, (await admin.post(`/engine-rest/process-definition/${defs[0]}/start`, body)).body.id];
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', timezoneId: 'Asia/Shanghai' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`${server.url}/`);
  await page.waitForURL('**/login');
  await page.fill('#username', ADMIN.user);
  await page.fill('#password', ADMIN.password);
  await page.click('button[type=submit]');
  await page.locator('#current-user').waitFor();
  await page.click('#nav-monitor');
  await page.click('#tab-migrate');
  await page.selectOption('#migrate-key', 'mig');
  await page.locator('#migration-plan').waitFor();
  t.is(await page.locator('#migrate-source').inputValue(), defs[0]);
  t.is(await page.locator('#migrate-target').inputValue(), defs[1]);
  const rows = await page.locator('#migration-plan tbody tr').allInnerTexts();
  t.true(rows.some((r) => r.includes('review → review')));
  t.true(rows.some((r) => r.includes('sign → sign')));
  t.is(await page.locator('#migration-plan-valid').count(), 1);
  t.regex(await page.locator('#migration-movable').innerText(), /可迁移：2 个/);
  await page.click('#migration-run');
  await page.locator('#batch-ended').waitFor({ timeout: 60_000 });
  t.is(await page.locator('#batch-view').getAttribute('data-ended'), 'true');
  for (const id of ids) t.is((await admin.get(`/engine-rest/process-instance/${id}`)).body.definitionId, defs[1]);
  // Nothing left on v1: the page says so.
  await page.goto(`${server.url}/monitor/migrate?key=mig&source=${encodeURIComponent(defs[0])}&target=${encodeURIComponent(defs[1])}`);
  await page.locator('#migration-movable').waitFor();
  t.regex(await page.locator('#migration-movable').innerText(), /可迁移：0 个/);
  t.true(await page.locator('#migration-run').isDisabled());
  await context.close();
  t.deepEqual(errors, []);
});

test.serial('an office user has no migrate tab and the page is refused', async (t) => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  const page = await context.newPage();
  page.setDefaultTimeout(20_000);
  await page.goto(`${server.url}/`);
  await page.waitForURL('**/login');
  await page.fill('#username', 'office-web-mig');
  await page.fill('#password', 'office-web-mig-password');
  await page.click('button[type=submit]');
  await page.locator('#current-user').waitFor();
  await page.click('#nav-monitor');
  await page.locator('#tab-timers').waitFor();
  t.is(await page.locator('#tab-migrate').count(), 0);
  await page.goto(`${server.url}/monitor/migrate`);
  await page.locator('#forbidden').waitFor();
  await context.close();
});

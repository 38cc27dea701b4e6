import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn as signInAs } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, repoRoot, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The web DMN editor (dmn-js) in headless Chromium against the real server:
 * a deployed decision table is opened from its deployment and evaluated in
 * the page's panel, the output of a rule is changed in the table and deployed
 * as a new version, and the server's evaluation (panel and REST) gives the
 * new outcome; a new table starts from a
 * Chinese template and downloads as .dmn. Staff never see the editor.
 */

const artifacts = path.join(repoRoot, 'test-artifacts');
const pglite = backends.find((b) => b.name === 'pglite')!;
const TABLE = 'report-level.dmn';

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
const basic = () => `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

async function deployTable(name: string, bytes: Buffer): Promise<string> {
  const form = new FormData();
  form.append('deployment-name', name.replace(/\.dmn$/, ''));
  form.append(name, new Blob([bytes]), name);
  const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic() } });
  if (res.status !== 200) throw new Error(`deploy: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

/** The deployments holding `name`, oldest first, with that resource's text. */
async function tableVersions(name: string): Promise<{ deploymentId: string; text: string }[]> {
  const deployments: { id: string }[] = (await admin.get('/engine-rest/deployment?sortBy=deploymentTime&sortOrder=asc')).body;
  const found: { deploymentId: string; text: string }[] = [];
  for (const d of deployments) {
    const r = ((await admin.get(`/engine-rest/deployment/${d.id}/resources`)).body as { id: string; name: string }[]).find((x) => x.name === name);
    if (!r) continue;
    const res = await fetch(`${server.url}/engine-rest/deployment/${d.id}/resources/${r.id}/data`, { headers: { Authorization: basic() } });
    found.push({ deploymentId: d.id, text: await res.text() });
  }
  return found;
}

/** Replaces the text of one cell of the decision table, as a user types it. */
async function typeInCell(page: Page, rowId: string, colId: string, text: string): Promise<void> {
  const cell = page.locator(`#dmn-editor td[data-row-id="${rowId}"][data-col-id="${colId}"]`);
  await cell.click();
  const editor = cell.locator('[contenteditable="true"]').first();
  await editor.waitFor();
  await page.keyboard.press('Control+A');
  await page.keyboard.type(text);
  // Leave the cell: the table commits the edit.
  await page.locator('#dmn-editor .decision-table-name, #dmn-editor .decision-table-header').first().click();
  await cell.filter({ hasText: text }).waitFor();
}

test.serial('a rule edited in the web DMN editor deploys as a new version with the new outcome', async (t) => {
  const first = await deployTable(TABLE, fixture(TABLE));
  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  await page.click('#nav-dmn');
  const option = page.locator('#dmn-open option').filter({ hasText: TABLE });
  await option.waitFor({ state: 'attached' });
  await page.selectOption('#dmn-open', (await option.getAttribute('value'))!);
  // The table opens in the decision table view, its UI in Chinese.
  await page.locator('#dmn-editor td[data-row-id="leak"][data-col-id="level-output"]').filter({ hasText: '"一级"' }).waitFor();
  await page.locator('#dmn-editor .hit-policy').filter({ hasText: '命中策略' }).waitFor();
  await page.locator('#dmn-views .tab.active[data-view-type="decisionTable"]').filter({ hasText: '上报级别' }).waitFor();
  t.regex(page.url(), new RegExp(`deployment=${first}`));

  // The evaluate panel asks the server for the deployed version's outcome.
  await page.fill('#dmn-evaluate-category', '数据泄露');
  await page.click('#dmn-evaluate-run');
  await page.locator('#dmn-evaluate-table').filter({ hasText: '一级' }).waitFor();

  await typeInCell(page, 'leak', 'level-output', '"特级"');
  await shot(page, 'dmn-editor-1280.png');
  await page.click('#dmn-deploy');
  await page.locator('#dmn-status.flash-ok').filter({ hasText: '已部署：上报级别 版本 2' }).waitFor();

  const versions = await tableVersions(TABLE);
  t.is(versions.length, 2, 'a new deployment of the same resource');
  t.is(versions[0].deploymentId, first);
  t.true(versions[1].text.includes('<text>"特级"</text>'), 'the edited output entry is in the new version');
  t.false(versions[1].text.includes('<text>"一级"</text>'));
  t.true(versions[1].text.includes('<text>"三级"</text>'), 'the other rule is untouched');
  t.regex(page.url(), new RegExp(`deployment=${versions[1].deploymentId}`));

  // The new outcome: in the panel, and over REST as Camunda answers it, from version 2.
  await page.fill('#dmn-evaluate-category', '数据泄露');
  await page.click('#dmn-evaluate-run');
  await page.locator('#dmn-evaluate-table').filter({ hasText: '特级' }).waitFor();
  const evaluate = (category: string) => admin.post('/engine-rest/decision-definition/key/report-level/evaluate', { variables: { category: { value: category, type: 'String' } } });
  t.deepEqual((await evaluate('数据泄露')).body, [{ level: { type: 'String', value: '特级', valueInfo: {} } }]);
  t.deepEqual((await evaluate('病毒')).body, [{ level: { type: 'String', value: '三级', valueInfo: {} } }]);
  const latest = (await admin.get('/engine-rest/decision-definition/key/report-level')).body;
  t.like(latest, { key: 'report-level', version: 2, deploymentId: versions[1].deploymentId, resource: TABLE });
  await page.fill('#dmn-evaluate-category', '其他');
  await page.click('#dmn-evaluate-run');
  await page.locator('#dmn-evaluate-none').waitFor();

  // Deploying again without a change makes no new version.
  await page.click('#dmn-deploy');
  await page.locator('#dmn-status.flash-ok').filter({ hasText: '未改动' }).waitFor();
  t.is((await tableVersions(TABLE)).length, 2);

  // The DRD view works too.
  await page.click('#dmn-views .tab[data-view-type="drd"]');
  await page.locator('#dmn-editor .djs-shape[data-element-id="report-level"]').waitFor();
  await page.context().close();
  t.deepEqual(errors, []);
});

test.serial('a table the server cannot evaluate is refused: the problem names the cell, nothing is deployed', async (t) => {
  const before = (await tableVersions(TABLE)).length;
  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  await page.click('#nav-dmn');
  const option = page.locator('#dmn-open option').filter({ hasText: TABLE });
  await option.waitFor({ state: 'attached' });
  await page.selectOption('#dmn-open', (await option.getAttribute('value'))!);
  await typeInCell(page, 'virus', 'level-output', '"三级" +');
  await page.click('#dmn-deploy');
  const problem = page.locator('#dmn-problems li[data-element-id="virus-level"]');
  await problem.waitFor();
  t.regex(await problem.innerText(), /第 \d+ 行/);
  t.is((await tableVersions(TABLE)).length, before, 'nothing deployed');
  // The problem's link opens the decision with the cell marked.
  await page.click('#dmn-views .tab[data-view-type="drd"]');
  await problem.locator('button').click();
  await page.locator('#dmn-editor td.dmn-error-cell[data-element-id="virus-level"]').waitFor();
  await shot(page, 'dmn-refused-1280.png');
  await page.context().close();
  t.deepEqual(errors, []);
});

test.serial('a new table starts from the Chinese template, downloads as .dmn, and deploys', async (t) => {
  const { page, errors } = await signIn(ADMIN.user, ADMIN.password);
  await page.goto(`${server.url}/dmn`);
  await page.locator('#dmn-editor td.output-cell').filter({ hasText: '"示例结果"' }).waitFor();
  await page.locator('#dmn-editor .input-label').filter({ hasText: '类别' }).waitFor();
  const [download] = await Promise.all([page.waitForEvent('download'), page.click('#dmn-download')]);
  const name = download.suggestedFilename();
  t.regex(name, /^decision-[a-z0-9]+\.dmn$/);
  const xml = fs.readFileSync(await download.path()).toString('utf8');
  t.true(xml.includes('name="新决策"'));
  await page.click('#dmn-deploy');
  await page.locator('#dmn-status.flash-ok').filter({ hasText: '已部署' }).waitFor();
  t.is((await tableVersions(name)).length, 1);
  await page.context().close();
  t.deepEqual(errors, []);

  // Staff never reach it.
  const office = await signIn('wang', 'wang-password');
  t.is(await office.page.locator('#nav-dmn').count(), 0);
  await office.page.goto(`${server.url}/dmn`);
  await office.page.locator('#forbidden').waitFor();
  await office.page.context().close();
  t.deepEqual(office.errors, []);
});

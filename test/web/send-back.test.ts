import test from 'ava';
import type { Browser } from 'playwright-core';
import { launchChromium, requireWebBuild, signIn as signInAs } from '../helpers/browser.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { makeUser, repoRoot, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * 退回 and 撤回 in the staff web app (headless Chromium, real server, PGlite):
 * olga (office) applies; oscar (office) sends her application back from the
 * review with a reason; olga, the initiator, withdraws a resubmitted one from
 * the instance page, and is refused once oscar claimed the next step. nina,
 * of another role than the office, withdraws her own request: she finds it
 * under 我发起的 and its instance page offers her 撤回.
 */

const pglite = backends.find((b) => b.name === 'pglite')!;
let server!: TestServer;
let browser!: Browser;
let olga!: Client;
let oscar!: Client;
let nina!: Client;

test.before(async () => {
  requireWebBuild(repoRoot);
  server = await startTestServer(pglite);
  await server.services.deployments.deploy(oneResource('modify-chain.bpmn', fixture('modify-chain.bpmn')));
  olga = await makeUser(server, 'olga', ['office']);
  oscar = await makeUser(server, 'oscar', ['office']);
  nina = await makeUser(server, 'nina', ['network-security']);
  browser = await launchChromium();
});
test.after.always(async () => {
  await browser?.close();
  await server?.stop();
});

const signIn = (user: string) => signInAs(browser, server.url, user, `${user}-password`, { width: 1280, height: 900 });

const taskOf = async (who: Client, id: string, key: string) => (await who.get(`/engine-rest/task?processInstanceId=${id}`)).body.find((x: { taskDefinitionKey: string }) => x.taskDefinitionKey === key);

/** Olga applies and fills in: the instance waits at the office review. */
async function submitted(): Promise<string> {
  const id = (await olga.post('/engine-rest/process-definition/key/modify-chain/start', { variables: vars({ applicant: 'olga' }) })).body.id as string;
  await olga.post(`/engine-rest/task/${(await taskOf(olga, id, 'fill')).id}/complete`, {});
  return id;
}

test.serial('the reviewer sends the application back from the task page, with a reason the applicant then reads', async (t) => {
  const id = await submitted();
  const review = await taskOf(oscar, id, 'review');
  const { page, errors } = await signIn('oscar');
  await page.goto(`${server.url}/task/${review.id}`);
  await page.locator('#send-back').waitFor();
  t.is(await page.locator('#return-target option').innerText(), '填写申请');
  await page.click('#send-back-button');
  await page.locator('#return-error').filter({ hasText: /comment is required|必填/ }).waitFor();
  await page.fill('#return-comment', '附件缺少盖章页');
  await page.click('#send-back-button');
  await page.waitForURL(`${server.url}/`);
  const fill = await taskOf(olga, id, 'fill');
  t.is(fill.assignee, 'olga');
  t.regex((await olga.get(`/engine-rest/task/${fill.id}/comment`)).body[0].message, /附件缺少盖章页/);
  const applicant = await signIn('olga');
  await applicant.page.goto(`${server.url}/task/${fill.id}`);
  await applicant.page.locator('#comments').filter({ hasText: '附件缺少盖章页' }).waitFor();
  t.deepEqual([...errors, ...applicant.errors], []);
  await page.context().close();
  await applicant.page.context().close();
});

test.serial('the initiator withdraws from the instance page while the review is untouched; refused once it was claimed', async (t) => {
  const id = await submitted();
  const { page, errors } = await signIn('olga');
  await page.goto(`${server.url}/monitor/instance/${id}`);
  await page.fill('#withdraw-comment', '补充材料');
  await page.click('#withdraw-button');
  await page.locator('.flash').filter({ hasText: '已撤回到第一步' }).waitFor();
  t.truthy(await taskOf(olga, id, 'fill'));
  t.falsy(await taskOf(olga, id, 'review'));
  const other = await submitted();
  await oscar.post(`/engine-rest/task/${(await taskOf(oscar, other, 'review')).id}/claim`, { userId: 'oscar' });
  await page.goto(`${server.url}/monitor/instance/${other}`);
  await page.click('#withdraw-button');
  await page.locator('.flash').filter({ hasText: '不能撤回' }).waitFor();
  t.truthy(await taskOf(oscar, other, 'review'), 'nothing changed');
  const outsider = await signIn('oscar');
  await outsider.page.goto(`${server.url}/monitor/instance/${other}`);
  await outsider.page.locator('#history').waitFor();
  t.is(await outsider.page.locator('#withdraw-button').count(), 0, 'only the initiator is offered withdraw');
  t.deepEqual([...errors, ...outsider.errors], []);
  await page.context().close();
  await outsider.page.context().close();
});

test.serial('an initiator outside the office finds her request under 我发起的 and withdraws it from its instance page', async (t) => {
  const id = (await nina.post('/engine-rest/process-definition/key/modify-chain/start', { variables: vars({ applicant: 'nina' }) })).body.id as string;
  await nina.post(`/engine-rest/task/${(await taskOf(nina, id, 'fill')).id}/complete`, {});
  const { page, errors } = await signIn('nina');
  await page.click('#tab-started');
  await page.locator(`#started-list li[data-instance-id="${id}"]`).waitFor();
  t.is(await page.locator('#count-started').innerText(), '1');
  await page.click(`#started-list li[data-instance-id="${id}"] a.task-name`);
  await page.waitForURL(`${server.url}/monitor/instance/${id}`);
  await page.locator('#history').waitFor();
  t.is(await page.locator('#forbidden').count(), 0, 'the instance page is open to its initiator');
  await page.fill('#withdraw-comment', '写错了部门');
  await page.click('#withdraw-button');
  await page.locator('.flash').filter({ hasText: '已撤回到第一步' }).waitFor();
  const fill = await taskOf(nina, id, 'fill');
  t.is(fill.assignee, 'nina');
  t.falsy(await taskOf(oscar, id, 'review'));
  // Someone else's instance stays out of reach: the server shows her nothing of it.
  const others = await submitted();
  await page.goto(`${server.url}/monitor/instance/${others}`);
  await page.locator('#not-found').waitFor();
  t.is(await page.locator('#withdraw-button').count(), 0);
  t.deepEqual(errors, []);
  await page.context().close();
});

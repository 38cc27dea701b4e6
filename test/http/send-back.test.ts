import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * 退回 and 撤回 as the people in each role use them: alice (app-security) applies,
 * olga and oscar (office) review, nina (network-security) and dora (data-security)
 * check in parallel.
 */
for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; alice: Client; olga: Client; oscar: Client; nina: Client; dora: Client; x: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    for (const f of ['modify-chain', 'withdraw-mi', 'withdraw-sub', 'withdraw-join', 'send-back-offer']) await server.services.deployments.deploy(oneResource(`${f}.bpmn`, fixture(`${f}.bpmn`)));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      alice: await makeUser(server, 'alice', ['app-security']), olga: await makeUser(server, 'olga', ['office']), oscar: await makeUser(server, 'oscar', ['office']),
      nina: await makeUser(server, 'nina', ['network-security']), dora: await makeUser(server, 'dora', ['data-security']),
      x: await makeUser(server, 'office-x', ['app-security']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const taskOf = async (who: Client, id: string, key: string) => (await who.get(`/engine-rest/task?processInstanceId=${id}`)).body.find((x: { taskDefinitionKey: string }) => x.taskDefinitionKey === key);
  /** Alice starts and fills in; the instance waits at review. */
  const submitted = async () => {
    const id = (await c.alice.post('/engine-rest/process-definition/key/modify-chain/start', { variables: vars({ applicant: 'alice' }) })).body.id as string;
    const fill = await taskOf(c.alice, id, 'fill');
    t: {
      const r = await c.alice.post(`/engine-rest/task/${fill.id}/complete`, {});
      if (r.status !== 204) throw new Error(JSON.stringify(r.body));
    }
    return id;
  };
  const ops = async (id: string, type: string) => (await c.admin.get(`/engine-rest/history/user-operation?processInstanceId=${id}&operationType=${type}`)).body;

  test.serial(t('the reviewer sends back to the applicant with a comment; the returned task shows it and is alice\'s again'), async (t) => {
    const id = await submitted();
    const review = await taskOf(c.olga, id, 'review');
    t.deepEqual((await c.olga.get(`/engine-rest/task/${review.id}/return-targets`)).body, [{ activityId: 'fill', activityName: '填写申请' }]);
    t.is((await c.olga.post(`/engine-rest/task/${review.id}/claim`, { userId: 'olga' })).status, 204);
    t.is((await c.oscar.post(`/engine-rest/task/${review.id}/return`, { activityId: 'fill', comment: '材料不全' })).status, 403, 'claimed by olga');
    t.is((await c.nina.post(`/engine-rest/task/${review.id}/return`, { activityId: 'fill', comment: '材料不全' })).status, 404, 'not her task');
    t.is((await c.olga.post(`/engine-rest/task/${review.id}/return`, { activityId: 'review', comment: 'x' })).status, 400, 'not a target');
    t.is((await c.olga.post(`/engine-rest/task/${review.id}/return`, { activityId: 'fill' })).status, 400, 'comment required');
    t.is((await c.olga.post(`/engine-rest/task/${review.id}/return`, { activityId: 'fill', comment: '材料不全，请补充' })).status, 204);
    const back = await taskOf(c.alice, id, 'fill');
    t.is(back.assignee, 'alice');
    const comments = (await c.alice.get(`/engine-rest/task/${back.id}/comment`)).body;
    t.regex(comments[0].message, /材料不全，请补充/);
    t.is(comments[0].userId, 'olga');
    const [op] = await ops(id, 'Return');
    t.is(op.userId, 'olga');
    t.is(op.details.comment, '材料不全，请补充');
    const reviewRow = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=review`)).body[0];
    t.true(reviewRow.canceled);
  });

  test.serial(t('inside a parallel branch a task can return only within its branch: nothing before the split'), async (t) => {
    const id = await submitted();
    const review = await taskOf(c.olga, id, 'review');
    await c.olga.post(`/engine-rest/task/${review.id}/complete`, {});
    const legal = await taskOf(c.nina, id, 'legal');
    t.deepEqual((await c.nina.get(`/engine-rest/task/${legal.id}/return-targets`)).body, []);
    t.is((await c.nina.post(`/engine-rest/task/${legal.id}/return`, { activityId: 'review', comment: '退回' })).status, 400);
  });

  test.serial(t('the initiator withdraws while the next step is untouched; the first step is hers again'), async (t) => {
    const id = await submitted();
    t.is((await c.nina.post(`/engine-rest/process-instance/${id}/withdraw`, {})).status, 404, 'nina cannot see the instance');
    t.is((await c.olga.post(`/engine-rest/process-instance/${id}/withdraw`, {})).status, 403, 'olga sees it (her review) but did not start it');
    t.is((await c.admin.post(`/engine-rest/process-instance/${id}/withdraw`, {})).status, 403, 'not the initiator');
    t.is((await c.alice.post(`/engine-rest/process-instance/${id}/withdraw`, { comment: '我再改改' })).status, 204);
    const fill = await taskOf(c.alice, id, 'fill');
    t.is(fill.assignee, 'alice');
    t.is(await taskOf(c.olga, id, 'review'), undefined);
    t.is((await ops(id, 'Withdraw')).length, 1);
    t.is((await c.alice.post(`/engine-rest/process-instance/${id}/withdraw`, {})).status, 409, 'already at the first step');
  });

  test.serial(t('withdraw is refused (409, 中文 and English) once the next step was claimed or commented on'), async (t) => {
    const id = await submitted();
    const review = await taskOf(c.olga, id, 'review');
    await c.olga.post(`/engine-rest/task/${review.id}/claim`, { userId: 'olga' });
    const r = await c.alice.post(`/engine-rest/process-instance/${id}/withdraw`, {});
    t.is(r.status, 409);
    t.regex(r.body.message, /不能撤回.*can no longer be withdrawn/);
    const id2 = await submitted();
    const review2 = await taskOf(c.olga, id2, 'review');
    t.is((await c.oscar.post(`/engine-rest/task/${review2.id}/comment/create`, { message: '看过了' })).status, 200);
    t.is((await c.alice.post(`/engine-rest/process-instance/${id2}/withdraw`, {})).status, 409);
    t.truthy(await taskOf(c.olga, id2, 'review'), 'nothing changed');
  });

  /** office-x starts `key` and completes t1. */
  const pastFirst = async (key: string, variables: Record<string, unknown> = {}) => {
    const id = (await c.x.post(`/engine-rest/process-definition/key/${key}/start`, { variables: vars(variables) })).body.id as string;
    const t1 = await taskOf(c.x, id, 't1');
    const r = await c.x.post(`/engine-rest/task/${t1.id}/complete`, {});
    if (r.status !== 204) throw new Error(JSON.stringify(r.body));
    return id;
  };
  const openKeys = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey).sort();

  test.serial(t('withdraw from a multi-instance step and from a step inside a sub-process goes back to the first step'), async (t) => {
    const mi = await pastFirst('withdraw-mi', { reviewers: ['olga', 'oscar'] });
    t.deepEqual(await openKeys(mi), ['review', 'review']);
    const r = await c.x.post(`/engine-rest/process-instance/${mi}/withdraw`, {});
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await openKeys(mi), ['t1']);
    const sub = await pastFirst('withdraw-sub');
    t.deepEqual(await openKeys(sub), ['t2']);
    const t2 = await taskOf(c.olga, sub, 't2');
    t.deepEqual((await c.olga.get(`/engine-rest/task/${t2.id}/return-targets`)).body, [], 'nothing to send back to from inside a sub-process');
    t.is((await c.olga.post(`/engine-rest/task/${t2.id}/return`, { activityId: 't1', comment: '退回' })).status, 400);
    const r2 = await c.x.post(`/engine-rest/process-instance/${sub}/withdraw`, {});
    t.is(r2.status, 204, JSON.stringify(r2.body));
    t.deepEqual(await openKeys(sub), ['t1']);
    const t1 = await taskOf(c.x, sub, 't1');
    t.is((await c.x.post(`/engine-rest/task/${t1.id}/complete`, {})).status, 204);
    t.deepEqual(await openKeys(sub), ['t2'], 'the sub-process runs again from its start');
  });

  test.serial(t('the initiator\'s own urge (催办) on the next step does not block her withdraw'), async (t) => {
    const id = await submitted();
    const review = await taskOf(c.olga, id, 'review');
    t.is((await c.alice.post(`/engine-rest/task/${review.id}/urge`, { message: '请尽快审核' })).status, 200);
    const r = await c.alice.post(`/engine-rest/process-instance/${id}/withdraw`, {});
    t.is(r.status, 204, JSON.stringify(r.body));
    t.truthy(await taskOf(c.alice, id, 'fill'));
  });

  test.serial(t('a task sent back is announced to its receiver once, as sent back (with the reason), and offered to nobody'), async (t) => {
    const id = await pastFirst('send-back-offer');
    const check = await taskOf(c.olga, id, 'check');
    t.is((await c.olga.post(`/engine-rest/task/${check.id}/complete`, {})).status, 204);
    const approve = await taskOf(c.oscar, id, 'approve');
    t.is((await c.oscar.post(`/engine-rest/task/${approve.id}/return`, { activityId: 'check', comment: '再看看' })).status, 204);
    const back = await taskOf(c.olga, id, 'check');
    t.is(back.assignee, 'olga');
    const about = async (who: Client) => (await who.get('/engine-rest/notification?maxResults=100')).body
      .filter((n: { taskId: string }) => n.taskId === back.id).map((n: { type: string }) => n.type);
    t.deepEqual(await about(c.olga), ['task-sent-back'], 'the 退回 notice replaces the plain assignment one');
    t.deepEqual(await about(c.oscar), [], 'the candidates are not offered a task already handed back');
  });

  test.serial(t('withdraw clears a parallel join\'s waiting token: the join waits for both branches again'), async (t) => {
    const id = await pastFirst('withdraw-join');
    const a = await taskOf(c.olga, id, 'a');
    t.is((await c.olga.post(`/engine-rest/task/${a.id}/complete`, {})).status, 204);
    const r = await c.x.post(`/engine-rest/process-instance/${id}/withdraw`, {});
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await openKeys(id), ['t1']);
    const t1 = await taskOf(c.x, id, 't1');
    t.is((await c.x.post(`/engine-rest/task/${t1.id}/complete`, {})).status, 204);
    const b = await taskOf(c.olga, id, 'b');
    t.is((await c.olga.post(`/engine-rest/task/${b.id}/complete`, {})).status, 204);
    t.deepEqual(await openKeys(id), ['a'], 'the join waits for the new a');
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; definitionId: string };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('modify-chain.bpmn', fixture('modify-chain.bpmn')));
    await server.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
    await server.services.deployments.deploy(oneResource('modify-multi.bpmn', fixture('modify-multi.bpmn')));
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    const [def] = (await admin.get('/engine-rest/process-definition?key=modify-chain')).body;
    c = { server, admin, office: await makeUser(server, 'office-m', ['office']), definitionId: def.id };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async () => (await c.admin.post('/engine-rest/process-definition/key/modify-chain/start', { variables: vars({ applicant: 'alice' }) })).body.id as string;
  const active = async (id: string) => (await c.admin.get(`/engine-rest/process-instance/${id}/activity-instances`)).body.childActivityInstances
    .map((a: { activityId: string }) => a.activityId).sort();
  const openTasks = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey).sort();
  const history = async (id: string) => (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body as { activityId: string; canceled: boolean; endTime: string | null }[];
  const modify = (id: string, body: unknown, who = c.admin) => who.post(`/engine-rest/process-instance/${id}/modification`, body);

  test.serial(t('cancel by activityId and startBeforeActivity in one modification: the task moves, history and trace show it'), async (t) => {
    const id = await start();
    const r = await modify(id, {
      annotation: '填错了，重新审核 / wrong step',
      instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'review', variables: { reason: { value: '管理员调整', type: 'String' } } }],
    });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await active(id), ['review']);
    t.deepEqual(await openTasks(id), ['review']);
    const fill = (await history(id)).find((a) => a.activityId === 'fill')!;
    t.true(fill.canceled);
    t.truthy(fill.endTime);
    t.truthy((await history(id)).find((a) => a.activityId === 'review' && !a.endTime));
    t.deepEqual((await c.admin.get(`/engine-rest/process-instance/${id}/variables/reason`)).body.value, '管理员调整');
    const [op] = (await c.admin.get(`/engine-rest/history/user-operation?processInstanceId=${id}&operationType=ModifyProcessInstance`)).body;
    t.is(op.userId, 'admin');
    t.is(op.annotation, '填错了，重新审核 / wrong step');
    t.is(op.details.instructions.length, 2);
  });

  test.serial(t('cancel by activityInstanceId from activity-instances; startAfterActivity takes the one outgoing flow'), async (t) => {
    const id = await start();
    const tree = (await c.admin.get(`/engine-rest/process-instance/${id}/activity-instances`)).body;
    const fillInstance = tree.childActivityInstances[0].id;
    t.is((await modify(id, { instructions: [{ type: 'startAfterActivity', activityId: 'fill' }, { type: 'cancel', activityInstanceId: fillInstance }] })).status, 204);
    t.deepEqual(await openTasks(id), ['review']);
  });

  test.serial(t('startTransition into a parallel join adds one token: the join waits for the other, as in Camunda'), async (t) => {
    const id = await start();
    t.is((await modify(id, { instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'legal' }, { type: 'startTransition', transitionId: 'f7' }] })).status, 204);
    t.deepEqual(await openTasks(id), ['legal']);
    const [legal] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is((await c.admin.post(`/engine-rest/task/${legal.id}/complete`, {})).status, 204);
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0].state, 'COMPLETED');
  });

  test.serial(t('cancelling everything ends the instance as deleted; cancelCurrentActiveActivityInstances spares what the modification started'), async (t) => {
    const id = await start();
    t.is((await modify(id, { instructions: [{ type: 'cancel', activityId: 'fill' }] })).status, 204);
    const hist = (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0];
    t.is(hist.state, 'EXTERNALLY_TERMINATED');
    t.deepEqual(await openTasks(id), []);
    const id2 = await start();
    t.is((await modify(id2, { instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'fill' }, { type: 'cancel', activityId: 'fill', cancelCurrentActiveActivityInstances: true }] })).status, 400,
      'the first cancel took the only instance that existed before');
    t.is((await modify(id2, { instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'fill' }] })).status, 204, 'restart a step');
    t.deepEqual(await openTasks(id2), ['fill']);
    const fills = (await history(id2)).filter((a) => a.activityId === 'fill');
    t.deepEqual(fills.map((a) => a.canceled), [true, false]);
  });

  test.serial(t('refusals name the instruction: unknown activity, running twice, join, skip flags, transition instances, local variables; nothing is saved'), async (t) => {
    const id = await start();
    const refused = async (body: unknown, pattern: RegExp) => {
      const r = await modify(id, body);
      t.is(r.status, 400, JSON.stringify(r.body));
      t.regex(r.body.message, pattern);
    };
    await refused({ instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'nowhere' }] }, /instruction 1.*nowhere/);
    await refused({ instructions: [{ type: 'startBeforeActivity', activityId: 'fill' }] }, /instruction 0.*already has an active instance/);
    await refused({ instructions: [{ type: 'startBeforeActivity', activityId: 'join' }] }, /instruction 0.*startTransition/);
    await refused({ instructions: [{ type: 'cancel', transitionInstanceId: 'x' }] }, /指令 0.*transition instances/);
    await refused({ instructions: [{ type: 'startBeforeActivity', activityId: 'review', ancestorActivityInstanceId: 'fill:x' }] }, /ancestorActivityInstanceId/);
    await refused({ instructions: [{ type: 'startBeforeActivity', activityId: 'review', variables: { a: { value: 1, local: true } } }] }, /local/);
    await refused({ instructions: [{ type: 'startAfterActivity', activityId: 'split' }] }, /exactly one/);
    await refused({ instructions: [{ type: 'jump', activityId: 'review' }] }, /type must be one of/);
    await refused({ instructions: [] }, /non-empty/);
    await refused({ instructions: [{ type: 'cancel', activityId: 'review' }] }, /no active instance/);
    t.deepEqual(await openTasks(id), ['fill'], 'nothing changed');
    t.is((await modify(id, { skipCustomListeners: true, skipIoMappings: true, instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'review' }] })).status, 204,
      'no listeners or mappings in this diagram: skipping them changes nothing, so it is honoured');
  });

  test.serial(t('only administrators modify: 403 for others, 404 for an unknown instance'), async (t) => {
    const id = await start();
    const r = await modify(id, { instructions: [{ type: 'cancel', activityId: 'fill' }] }, c.office);
    t.is(r.status, 403);
    t.is((await modify('no-such-instance', { instructions: [{ type: 'cancel', activityId: 'fill' }] })).status, 404);
    t.deepEqual(await openTasks(id), ['fill']);
  });

  test.serial(t('modification/execute by ids and by query; one refusal saves nothing (Camunda sync execute fails as a whole)'), async (t) => {
    const key = `EXEC-${backend.name}`;
    const a = (await c.admin.post('/engine-rest/process-definition/key/modify-chain/start', { businessKey: key, variables: vars({ applicant: 'alice' }) })).body.id;
    const b = (await c.admin.post('/engine-rest/process-definition/key/modify-chain/start', { businessKey: key, variables: vars({ applicant: 'bob' }) })).body.id;
    const instructions = [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'review' }];
    const bad = await c.admin.post('/engine-rest/modification/execute', { processDefinitionId: c.definitionId, processInstanceIds: [a], processInstanceQuery: { businessKey: key }, instructions: [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'fill' }] });
    t.is(bad.status, 400);
    t.deepEqual(await openTasks(a), ['fill']);
    t.deepEqual(await openTasks(b), ['fill']);
    const ok = await c.admin.post('/engine-rest/modification/execute', { processDefinitionId: c.definitionId, processInstanceQuery: { businessKey: key }, instructions, annotation: 'batch' });
    t.is(ok.status, 204, JSON.stringify(ok.body));
    t.deepEqual(await openTasks(a), ['review']);
    t.deepEqual(await openTasks(b), ['review']);
    t.is((await c.admin.post('/engine-rest/modification/execute', { processDefinitionId: c.definitionId, processInstanceIds: [a], instructions: [{ type: 'cancel', activityInstanceId: 'review:x' }] })).status, 400);
    t.is((await c.office.post('/engine-rest/modification/execute', { processDefinitionId: c.definitionId, processInstanceIds: [a], instructions })).status, 403);
  });

  test.serial(t('timers open and close with the elements a modification cancels and starts: a boundary timer, an intermediate timer'), async (t) => {
    const id = (await c.admin.post('/engine-rest/process-definition/key/deadlines/start', {})).body.id as string;
    const jobs = async () => (await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body.map((j: { id: string }) => j.id) as string[];
    const [boundary] = await jobs();
    t.truthy(boundary);
    t.is((await modify(id, { instructions: [{ type: 'cancel', activityId: 'decide' }, { type: 'startBeforeActivity', activityId: 'decide' }] })).status, 204);
    const [again] = await jobs();
    t.truthy(again);
    t.not(again, boundary, 'the cancelled task\'s timer went with it; the new one has its own');
    t.is((await modify(id, { instructions: [{ type: 'startBeforeActivity', activityId: 'cooldown' }, { type: 'cancel', activityId: 'decide' }] })).status, 204);
    t.deepEqual(await openTasks(id), []);
    t.is((await jobs()).length, 1, 'only the intermediate timer waits');
    t.deepEqual(await active(id), ['cooldown']);
    t.is((await modify(id, { instructions: [{ type: 'cancel', activityId: 'cooldown' }] })).status, 204);
    t.deepEqual(await jobs(), []);
  });

  test.serial(t('a multi-instance task is cancelled as a whole body; one of its instances alone is refused'), async (t) => {
    const id = (await c.admin.post('/engine-rest/process-definition/key/modify-multi/start', { variables: { signers: { value: JSON.stringify(['a', 'b']), type: 'Json' } } })).body.id as string;
    const tasks = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body as { executionId: string; taskDefinitionKey: string }[];
    t.is(tasks.length, 2);
    const one = await modify(id, { instructions: [{ type: 'cancel', activityInstanceId: `sign:${tasks[0]!.executionId}` }] });
    t.is(one.status, 400);
    t.regex(one.body.message, /multi-instance/);
    t.is((await modify(id, { instructions: [{ type: 'cancel', activityId: 'sign' }, { type: 'startBeforeActivity', activityId: 'after' }] })).status, 204);
    t.deepEqual(await openTasks(id), ['after']);
    const rows = await history(id);
    t.true(rows.filter((a) => a.activityId === 'sign').every((a) => a.canceled && a.endTime));
  });

  test.serial(t('cancel naming a parallel join removes its waiting token: the join waits for every branch again'), async (t) => {
    const id = await start();
    for (const key of ['fill', 'review', 'legal']) {
      const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=${key}`)).body;
      t.is((await c.admin.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204, key);
    }
    t.deepEqual(await active(id), ['finance', 'join'], 'the waiting join is an activity instance, as in Camunda');
    const join = (await c.admin.get(`/engine-rest/process-instance/${id}/activity-instances`)).body.childActivityInstances.find((a: { activityId: string }) => a.activityId === 'join');
    t.is(join.activityType, 'parallelGateway');
    const r = await modify(id, { instructions: [{ type: 'cancel', activityInstanceId: join.id }, { type: 'startBeforeActivity', activityId: 'legal' }] });
    t.is(r.status, 204, JSON.stringify(r.body));
    const [finance] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=finance`)).body;
    t.is((await c.admin.post(`/engine-rest/task/${finance.id}/complete`, {})).status, 204);
    t.deepEqual(await openTasks(id), ['legal'], 'the join waits for the new legal');
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0].state, 'ACTIVE');
  });

  test.serial(t('cancelling all but a join\'s waiting token keeps the instance waiting at the join, as Camunda does; cancelling the join too ends it'), async (t) => {
    const id = await start();
    for (const key of ['fill', 'review', 'legal']) {
      const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=${key}`)).body;
      t.is((await c.admin.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204, key);
    }
    const r = await modify(id, { instructions: [{ type: 'cancel', activityId: 'finance' }] });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await active(id), ['join'], 'the instance waits at the join');
    t.deepEqual(await openTasks(id), []);
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0].state, 'ACTIVE');
    const join = (await c.admin.get(`/engine-rest/process-instance/${id}/activity-instances`)).body.childActivityInstances[0];
    const again = await modify(id, { instructions: [{ type: 'cancel', activityInstanceId: join.id }] });
    t.is(again.status, 204, JSON.stringify(again.body));
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0].state, 'EXTERNALLY_TERMINATED');
  });
}

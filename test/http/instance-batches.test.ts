import test from 'ava';
import { backends } from '../helpers/db.ts';
import { oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's asynchronous instance operations: POST /process-instance/delete,
 * /delete-historic-query-based, /suspended-async, /variables-async,
 * /message-async and /{id}/modification-async. Each writes a batch; the test
 * drives the scheduler, so it sees each batch before its jobs run.
 */

const WAITS = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:message id="m" name="go" />
  <bpmn:process id="batch-waits" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:messageEventDefinition messageRef="m" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="wait" targetRef="work" />
    <bpmn:userTask id="work" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    await server.services.deployments.deploy(oneResource('batch-waits.bpmn', Buffer.from(WAITS)));
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-ib', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (businessKey: string) => (await c.admin.post('/engine-rest/process-definition/key/batch-waits/start', { businessKey })).body.id as string;
  const instance = async (id: string) => (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0];
  const stats = async (id: string) => (await c.admin.get(`/engine-rest/history/batch/${id}`)).body;
  const ops = async (id: string, type: string) => (await c.admin.get(`/engine-rest/history/user-operation?processInstanceId=${id}&operationType=${type}&entityType=ProcessInstance`)).body as unknown[];

  test.serial(t('refused up front, nothing written: not an administrator, no selection, fields not read, skipSubprocesses'), async (t) => {
    const a = await start('R-1');
    const sel = { processInstanceIds: [a] };
    for (const [path, body] of [
      ['delete', sel], ['delete-historic-query-based', sel], ['suspended-async', { ...sel, suspended: true }],
      ['variables-async', { ...sel, variables: vars({ x: 1 }) }], ['message-async', { ...sel, messageName: 'go' }],
    ] as const) {
      t.is((await c.office.post(`/engine-rest/process-instance/${path}`, body)).status, 403, path);
      const none = await c.admin.post(`/engine-rest/process-instance/${path}`, { ...body, processInstanceIds: [] });
      t.is(none.status, 400, path);
      t.regex(none.body.message, /processInstanceIds/);
      const extra = await c.admin.post(`/engine-rest/process-instance/${path}`, { ...body, unknownField: 1 });
      t.is(extra.status, 400, path);
      t.regex(extra.body.message, /unknownField/);
    }
    t.is((await c.office.post(`/engine-rest/process-instance/${a}/modification-async`, { instructions: [{ type: 'cancel', activityId: 'wait' }] })).status, 403);
    // Each its own query: /delete takes no historic one, /delete-historic-query-based no runtime one.
    t.regex((await c.admin.post('/engine-rest/process-instance/delete', { historicProcessInstanceQuery: {} })).body.message, /historicProcessInstanceQuery/);
    t.regex((await c.admin.post('/engine-rest/process-instance/delete-historic-query-based', { processInstanceQuery: {} })).body.message, /processInstanceQuery/);
    const sub = await c.admin.post('/engine-rest/process-instance/delete', { ...sel, skipSubprocesses: true });
    t.is(sub.status, 400);
    t.regex(sub.body.message, /skipSubprocesses/);
    t.is((await c.admin.post('/engine-rest/process-instance/delete', { processInstanceQuery: { noSuchCriterion: 'x' } })).status, 400);
    t.is((await c.admin.post('/engine-rest/process-instance/suspended-async', sel)).status, 400, 'suspended is required');
    t.is((await c.admin.post('/engine-rest/process-instance/variables-async', sel)).status, 400, 'variables are required');
    t.is((await c.admin.post('/engine-rest/process-instance/message-async', sel)).status, 400, 'messageName is required');
    t.is((await c.admin.get('/engine-rest/batch/count')).body.count, 0);
    t.is(await c.server.scheduler.runDue(), 0);
  });

  test.serial(t('variables-async and message-async: each job sets the variables / delivers the message to its instance once, traced as the batch creator'), async (t) => {
    const a = await start('VM-1');
    const b = await start('VM-2');
    const r = await c.admin.post('/engine-rest/process-instance/variables-async', {
      processInstanceQuery: { businessKeyLike: 'VM-%' }, variables: vars({ secret_code: 'swordfish', level: 3 }),
    });
    t.is(r.status, 200, JSON.stringify(r.body));
    t.like(r.body, { type: 'set-variables', totalJobs: 2, createUserId: 'admin' });
    // The variables wait sealed in the batch row: a sensitive value is never stored in the clear.
    const [row] = await c.server.db('batches').where({ id: r.body.id });
    t.false(JSON.stringify(row.configuration).includes('swordfish'));
    t.is(await c.server.scheduler.runDue(), 2);
    t.is(await c.server.scheduler.runDue(), 0, 'each job runs once');
    for (const id of [a, b]) {
      t.like((await c.admin.get(`/engine-rest/process-instance/${id}/variables/level`)).body, { value: 3 });
      t.is((await ops(id, 'ModifyVariables')).length, 1);
    }
    t.truthy((await stats(r.body.id)).endTime);

    // The message goes to waiting executions only; an instance not waiting (b, moved on) is no failure.
    t.is((await c.admin.post('/engine-rest/message', { messageName: 'go', processInstanceId: b })).status, 204);
    const m = await c.admin.post('/engine-rest/process-instance/message-async', { processInstanceIds: [a, b], messageName: 'go', variables: vars({ via: 'batch' }) });
    t.is(m.status, 200, JSON.stringify(m.body));
    t.like(m.body, { type: 'correlate-message', totalJobs: 2 });
    t.is((await c.admin.get(`/engine-rest/task?processInstanceId=${a}`)).body.length, 0, 'nothing moves before the scheduler');
    t.is(await c.server.scheduler.runDue(), 2);
    t.is((await c.admin.get(`/engine-rest/task?processInstanceId=${a}`)).body[0].taskDefinitionKey, 'work');
    t.like((await c.admin.get(`/engine-rest/process-instance/${a}/variables/via`)).body, { value: 'batch' });
    t.is((await c.admin.get(`/engine-rest/process-instance/${b}/variables/via`)).status, 404);
    t.is((await ops(a, 'Correlate')).length, 1);
    t.like((await c.admin.get(`/engine-rest/history/batch/${m.body.id}`)).body, { type: 'correlate-message' });
    t.truthy((await stats(m.body.id)).endTime, 'both jobs done, none failed');
  });

  test.serial(t('suspended-async suspends, and activates, every instance named; modification-async modifies one instance'), async (t) => {
    const a = await start('S-1');
    const b = await start('S-2');
    const s = await c.admin.post('/engine-rest/process-instance/suspended-async', { historicProcessInstanceQuery: { processInstanceBusinessKeyLike: 'S-%' }, suspended: true });
    t.like(s.body, { type: 'instance-update-suspension-state', totalJobs: 2 });
    t.false((await c.admin.get(`/engine-rest/process-instance/${a}`)).body.suspended);
    t.is(await c.server.scheduler.runDue(), 2);
    for (const id of [a, b]) t.true((await c.admin.get(`/engine-rest/process-instance/${id}`)).body.suspended);
    t.is((await ops(a, 'Suspend')).length, 1);
    await c.admin.post('/engine-rest/process-instance/suspended-async', { processInstanceIds: [a, b], suspended: false });
    t.is(await c.server.scheduler.runDue(), 2);
    t.false((await c.admin.get(`/engine-rest/process-instance/${b}`)).body.suspended);

    const tree = (await c.admin.get(`/engine-rest/process-instance/${a}/activity-instances`)).body;
    const waitInstance = tree.childActivityInstances[0].id;
    t.is((await c.admin.post('/engine-rest/process-instance/no-such/modification-async', { instructions: [{ type: 'cancel', activityId: 'wait' }] })).status, 404);
    const mod = await c.admin.post(`/engine-rest/process-instance/${a}/modification-async`, {
      instructions: [{ type: 'cancel', activityInstanceId: waitInstance }, { type: 'startBeforeActivity', activityId: 'work' }], annotation: 'async',
    });
    t.is(mod.status, 200, JSON.stringify(mod.body));
    t.like(mod.body, { type: 'instance-modification', totalJobs: 1 });
    t.is(await c.server.scheduler.runDue(), 1);
    t.is((await c.admin.get(`/engine-rest/task?processInstanceId=${a}`)).body[0].taskDefinitionKey, 'work');
    t.is((await ops(a, 'ModifyProcessInstance')).length, 1);
  });

  test.serial(t('delete and delete-historic-query-based: each job deletes its instance with the reason; failIfNotExists decides over one gone meanwhile'), async (t) => {
    const a = await start('D-1');
    const b = await start('D-2');
    const gone = await start('D-3');
    await c.admin.delete(`/engine-rest/process-instance/${gone}`);
    const r = await c.admin.post('/engine-rest/process-instance/delete', { processInstanceIds: [a, gone], deleteReason: '清理 / cleanup' });
    t.like(r.body, { type: 'instance-deletion', totalJobs: 2 });
    t.is(await c.server.scheduler.runDue(), 2);
    t.like(await instance(a), { state: 'EXTERNALLY_TERMINATED', deleteReason: '清理 / cleanup' });
    const [failed] = await c.server.db('batch_jobs').where({ batch_id: r.body.id, state: 'failed' });
    t.is(failed.process_instance_id, gone, 'failIfNotExists defaults to true');
    t.is((await ops(a, 'Delete')).length, 1);

    const h = await c.admin.post('/engine-rest/process-instance/delete-historic-query-based', {
      historicProcessInstanceQuery: { processInstanceBusinessKeyLike: 'D-%' }, failIfNotExists: false, skipCustomListeners: true,
    });
    t.like(h.body, { type: 'instance-deletion', totalJobs: 3 }, 'the historic query names ended instances too');
    t.is(await c.server.scheduler.runDue(), 3);
    t.like(await instance(b), { state: 'EXTERNALLY_TERMINATED' });
    t.truthy((await stats(h.body.id)).endTime, 'ended instances skipped, no job failed');
    t.is((await c.server.db('batch_jobs').where({ batch_id: h.body.id, state: 'failed' })).length, 0);
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's history resources (issue 18 item 9): counts that agree with
 * their lists, single items by id, variable updates over time (sealed at
 * rest when sensitive), and history deletion for administrators, of
 * finished instances only.
 */
const SECRET = '身份证 110101199003074512';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; network: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    await server.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      // A candidate of the review's network task sees the instance; an office clerk does not.
      network: await makeUser(server, 'hist-net', ['network-security']),
      office: await makeUser(server, 'hist-office', ['office']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (values: Record<string, unknown>) =>
    (await c.admin.post('/engine-rest/process-definition/key/parallel-review/start', { variables: vars(values) })).body.id as string;

  test.serial(t('every value a variable took is a detail, in order, with its revision; initial only for the start'), async (t) => {
    const pi = await start({ ticket: 'A' });
    t.is((await c.admin.put(`/engine-rest/process-instance/${pi}/variables/ticket`, { value: 'B' })).status, 204);
    t.is((await c.admin.put(`/engine-rest/process-instance/${pi}/variables/ticket`, { value: 'C' })).status, 204);
    const list = (await c.network.get(`/engine-rest/history/detail?processInstanceId=${pi}&variableInstanceId=${pi}:ticket`)).body;
    t.deepEqual(list.map((d: { value: string; revision: number; initial: boolean }) => [d.value, d.revision, d.initial]), [['A', 0, true], ['B', 1, false], ['C', 2, false]]);
    t.like(list[0], { type: 'variableUpdate', variableName: 'ticket', variableType: 'String', processInstanceId: pi, variableInstanceId: `${pi}:ticket` });
    const sorted = (await c.network.get(`/engine-rest/history/detail?processInstanceId=${pi}&sortBy=variableRevision&sortOrder=desc`)).body;
    t.deepEqual(sorted.map((d: { value: string }) => d.value), ['C', 'B', 'A']);
    const byBody = (await c.network.post('/engine-rest/history/detail?maxResults=2', { processInstanceId: pi, sorting: [{ sortBy: 'variableRevision', sortOrder: 'desc' }] })).body;
    t.deepEqual(byBody, sorted.slice(0, 2), 'POST with a body answers as GET, paged by the query string');
    t.deepEqual((await c.network.get(`/engine-rest/history/detail/count?processInstanceId=${pi}`)).body, { count: 3 });
    t.deepEqual((await c.network.get(`/engine-rest/history/detail/${list[1].id}`)).body, list[1]);
    t.is((await c.network.get(`/engine-rest/history/detail?processInstanceId=${pi}&initial=true`)).body.length, 1);

    // An outsider finds nothing, and nothing by id.
    t.deepEqual((await c.office.get(`/engine-rest/history/detail?processInstanceId=${pi}`)).body, []);
    t.deepEqual((await c.office.get(`/engine-rest/history/detail/count?processInstanceId=${pi}`)).body, { count: 0 });
    t.is((await c.office.get(`/engine-rest/history/detail/${list[1].id}`)).status, 404);

    // What this server cannot answer as Camunda would is refused, naming it.
    const forms = await c.admin.get(`/engine-rest/history/detail?processInstanceId=${pi}&formFields=true`);
    t.is(forms.status, 400);
    t.regex(forms.body.message, /formFields/);
    t.is((await c.admin.post('/engine-rest/history/detail', { taskId: 'x' })).status, 400);
  });

  test.serial(t('a sensitive value is sealed in its detail row and opened for a reader of its instance'), async (t) => {
    const pi = await start({ secret_idNumber: SECRET });
    const [row] = await c.server.db('history_details').where({ process_instance_id: pi, variable_name: 'secret_idNumber' });
    t.truthy(row.key_id, 'sealed under a key');
    t.false(JSON.stringify(row.value).includes('110101199003074512'), 'no plaintext at rest');
    const [detail] = (await c.network.get(`/engine-rest/history/detail?processInstanceId=${pi}&variableNameLike=SECRET%25`)).body;
    t.is(detail.value, SECRET);
    const [{ last }] = await c.server.db('trace').max({ last: 'id' });
    await c.network.get(`/engine-rest/history/detail/${detail.id}`);
    const [read] = await c.server.db('trace').where('id', '>', last).andWhere('user_id', 'hist-net');
    t.like(read, { operation: 'Read', entity_type: 'Variable', process_instance_id: pi });
    t.deepEqual((typeof read.details === 'string' ? JSON.parse(read.details) : read.details).variables, ['secret_idNumber']);
  });

  test.serial(t('counts agree with their lists; single items by id; an outsider gets 404'), async (t) => {
    const pi = await start({ ticket: 'count', other: 1 });
    const acts = (await c.network.get(`/engine-rest/history/activity-instance?processInstanceId=${pi}`)).body;
    t.true(acts.length >= 3);
    t.deepEqual((await c.network.get(`/engine-rest/history/activity-instance/count?processInstanceId=${pi}`)).body, { count: acts.length });
    t.deepEqual((await c.network.post('/engine-rest/history/activity-instance/count', { processInstanceId: pi, unfinished: true })).body,
      { count: acts.filter((a: { endTime: string | null }) => a.endTime == null).length });
    t.deepEqual((await c.network.get(`/engine-rest/history/activity-instance/${acts[0].id}`)).body, acts[0]);
    t.is((await c.office.get(`/engine-rest/history/activity-instance/${acts[0].id}`)).status, 404);

    const tasks = (await c.network.get(`/engine-rest/history/task?processInstanceId=${pi}`)).body;
    t.is(tasks.length, 2);
    t.deepEqual((await c.network.post('/engine-rest/history/task/count', { processInstanceId: pi })).body, { count: 2 });
    t.deepEqual((await c.office.get(`/engine-rest/history/task/count?processInstanceId=${pi}`)).body, { count: 0 });

    t.deepEqual((await c.network.get(`/engine-rest/history/variable-instance/count?processInstanceId=${pi}`)).body, { count: 2 });
    t.deepEqual((await c.network.post('/engine-rest/history/variable-instance/count', { processInstanceId: pi, variableName: 'other' })).body, { count: 1 });
    t.like((await c.network.get(`/engine-rest/history/variable-instance/${pi}:ticket`)).body, { name: 'ticket', value: 'count', processInstanceId: pi });
    t.is((await c.office.get(`/engine-rest/history/variable-instance/${pi}:ticket`)).status, 404);

    t.like((await c.network.get(`/engine-rest/history/process-instance/${pi}`)).body, { id: pi, processDefinitionKey: 'parallel-review', state: 'ACTIVE' });
    t.is((await c.office.get(`/engine-rest/history/process-instance/${pi}`)).status, 404);
    t.deepEqual((await c.admin.get('/engine-rest/history/incident/count')).body, { count: (await c.admin.get('/engine-rest/history/incident')).body.length });
  });

  test.serial(t('the identity link log names who a task was for, who changed it and when, for readers of its instance'), async (t) => {
    const pi = await start({ ticket: 'links' });
    const task = (await c.network.get(`/engine-rest/task?processInstanceId=${pi}&taskDefinitionKey=networkCheck`)).body[0];
    t.is((await c.network.post(`/engine-rest/task/${task.id}/claim`, { userId: 'hist-net' })).status, 204);
    t.is((await c.admin.post(`/engine-rest/task/${task.id}/assignee`, { userId: 'admin' })).status, 204);
    t.is((await c.admin.post(`/engine-rest/task/${task.id}/identity-links`, { userId: 'hist-net', type: 'candidate' })).status, 204);
    const log = (await c.network.get(`/engine-rest/history/identity-link-log?taskId=${task.id}`)).body;
    t.deepEqual(log.map((l: Record<string, unknown>) => [l.type, l.operationType, l.userId, l.groupId, l.assignerId]), [
      ['candidate', 'add', null, 'network-security', null],
      ['assignee', 'add', 'hist-net', null, 'hist-net'],
      ['assignee', 'delete', 'hist-net', null, 'admin'],
      ['assignee', 'add', 'admin', null, 'admin'],
      ['candidate', 'add', 'hist-net', null, 'admin'],
    ]);
    t.like(log[0], { taskId: task.id, processDefinitionKey: 'parallel-review' });
    t.deepEqual((await c.network.get(`/engine-rest/history/identity-link-log/count?taskId=${task.id}&operationType=delete`)).body, { count: 1 });
    const sorted = (await c.network.get(`/engine-rest/history/identity-link-log?taskId=${task.id}&type=assignee&sortBy=userId&sortOrder=asc&maxResults=1`)).body;
    t.is(sorted[0].userId, 'admin');
    t.deepEqual((await c.office.get(`/engine-rest/history/identity-link-log?taskId=${task.id}`)).body, [], 'an outsider sees none');
    t.is((await c.admin.get('/engine-rest/history/identity-link-log?operationType=moved')).status, 400);
  });

  test.serial(t('the external task log records creation, a failure with its details, and the success'), async (t) => {
    const worker = await makeUser(c.server, `hist-robot-${Math.random().toString(36).slice(2, 6)}`, ['workers']);
    const pi = (await c.admin.post('/engine-rest/process-definition/key/external-check/start', { variables: vars({ mode: 'ok' }) })).body.id;
    const fetch = () => worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks: 10, topics: [{ topicName: 'backup-check', lockDuration: 60000 }] });
    const mine = async () => ((await fetch()).body as { id: string; processInstanceId: string }[]).find((x) => x.processInstanceId === pi)!;
    const task = await mine();
    t.is((await worker.post(`/engine-rest/external-task/${task.id}/failure`, { workerId: 'w1', errorMessage: 'disk', errorDetails: 'trace line 1', retries: 2, retryTimeout: 0 })).status, 204);
    t.truthy(await mine());
    t.is((await worker.post(`/engine-rest/external-task/${task.id}/complete`, { workerId: 'w1' })).status, 204);
    const log = (await c.admin.get(`/engine-rest/history/external-task-log?processInstanceId=${pi}`)).body;
    t.deepEqual(log.map((l: Record<string, unknown>) => [l.creationLog, l.failureLog, l.successLog, l.deletionLog, l.workerId, l.retries]),
      [[true, false, false, false, null, null], [false, true, false, false, 'w1', 2], [false, false, true, false, 'w1', 2]]);
    t.like(log[1], { externalTaskId: task.id, topicName: 'backup-check', errorMessage: 'disk', processDefinitionKey: 'external-check' });
    const details = await c.admin.get(`/engine-rest/history/external-task-log/${log[1].id}/error-details`);
    t.is(details.body, 'trace line 1');
    t.deepEqual((await c.admin.get(`/engine-rest/history/external-task-log/${log[2].id}`)).body, log[2]);
    t.deepEqual((await c.admin.post('/engine-rest/history/external-task-log/count', { processInstanceId: pi, failureLog: true })).body, { count: 1 });
    t.deepEqual((await c.office.get(`/engine-rest/history/external-task-log/count?processInstanceId=${pi}`)).body, { count: 0 }, 'an outsider sees none');
    t.is((await c.office.get(`/engine-rest/history/external-task-log/${log[1].id}`)).status, 404);
  });

  test.serial(t('history is deleted by administrators, of finished instances only, and the deletion is traced'), async (t) => {
    const pi = await start({ ticket: 'gone' });
    t.is((await c.admin.delete(`/engine-rest/history/process-instance/${pi}`)).status, 409, 'a running instance keeps its history');
    t.is((await c.admin.delete(`/engine-rest/history/variable-instance/${pi}:ticket`)).status, 409);
    t.is((await c.admin.delete(`/engine-rest/process-instance/${pi}`)).status, 204);
    t.is((await c.network.delete(`/engine-rest/history/process-instance/${pi}`)).status, 403);

    t.is((await c.admin.delete(`/engine-rest/history/variable-instance/${pi}:ticket`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/history/variable-instance/${pi}:ticket`)).status, 404);
    t.deepEqual((await c.admin.get(`/engine-rest/history/detail/count?variableInstanceId=${pi}:ticket`)).body, { count: 0 }, 'its updates went with it');
    t.is((await c.admin.delete(`/engine-rest/history/variable-instance/${pi}:ticket`)).status, 404);

    t.is((await c.admin.delete(`/engine-rest/history/process-instance/${pi}`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/history/process-instance/${pi}`)).status, 404);
    t.deepEqual((await c.admin.get(`/engine-rest/history/activity-instance/count?processInstanceId=${pi}`)).body, { count: 0 });
    const missing = await c.admin.delete(`/engine-rest/history/process-instance/${pi}`);
    t.is(missing.status, 404);
    t.regex(missing.body.message, /does not exist/);
    t.is((await c.admin.delete(`/engine-rest/history/process-instance/${pi}?failIfNotExists=false`)).status, 204);
    const rows = await c.server.db('trace').where({ process_instance_id: pi, operation: 'Delete', user_id: ADMIN.user }).orderBy('id');
    const ofHistory = rows.filter((r: { details: unknown }) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details)?.history === true);
    t.deepEqual(ofHistory.map((r: { entity_type: string }) => r.entity_type), ['Variable', 'ProcessInstance'], 'one row per deletion of history that happened');
  });

  test.serial(t('all variables of a finished instance go at once; an unknown instance is 404'), async (t) => {
    const pi = await start({ ticket: 'x', other: 2 });
    t.is((await c.admin.delete(`/engine-rest/process-instance/${pi}`)).status, 204);
    t.is((await c.admin.delete(`/engine-rest/history/process-instance/${pi}/variable-instances`)).status, 204);
    t.deepEqual((await c.admin.get(`/engine-rest/history/variable-instance/count?processInstanceId=${pi}`)).body, { count: 0 });
    t.like((await c.admin.get(`/engine-rest/history/process-instance/${pi}`)).body, { id: pi, state: 'EXTERNALLY_TERMINATED' }, 'the instance stays');
    t.is((await c.admin.delete('/engine-rest/history/process-instance/nope/variable-instances')).status, 404);
  });
}

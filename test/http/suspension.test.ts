import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { timerDiagram } from '../helpers/timer-diagrams.ts';

/*
 * Issue 16.3, suspension, over REST as the office and an administrator
 * would use it: a suspended instance's tasks refuse to be worked (409,
 * Camunda's SuspendedEntityInteractionException text), its timer and
 * external task wait and go on once it is activated, messages pass it by;
 * a suspended definition starts nothing. Each change is in the trace.
 */

const HOUR = 3_600_000;
const KEY = 'suspendable';

/** Four branches at once: a user task, a one-hour timer before a second task, an external task, a message catch. */
const diagram = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="x">
  <bpmn:message id="ping" name="suspend-ping" />
  <bpmn:process id="${KEY}" isExecutable="true">
    <bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="fork" />
    <bpmn:parallelGateway id="fork" />
    <bpmn:sequenceFlow id="f1" sourceRef="fork" targetRef="review" />
    <bpmn:userTask id="review" name="审核" camunda:candidateGroups="network-security" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="endA" /><bpmn:endEvent id="endA" />
    <bpmn:sequenceFlow id="f3" sourceRef="fork" targetRef="wait" />
    <bpmn:intermediateCatchEvent id="wait"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f4" sourceRef="wait" targetRef="after" />
    <bpmn:userTask id="after" name="计时后" camunda:candidateGroups="network-security" />
    <bpmn:sequenceFlow id="f5" sourceRef="after" targetRef="endB" /><bpmn:endEvent id="endB" />
    <bpmn:sequenceFlow id="f6" sourceRef="fork" targetRef="check" />
    <bpmn:serviceTask id="check" camunda:type="external" camunda:topic="suspend-check" />
    <bpmn:sequenceFlow id="f7" sourceRef="check" targetRef="endC" /><bpmn:endEvent id="endC" />
    <bpmn:sequenceFlow id="f8" sourceRef="fork" targetRef="pinged" />
    <bpmn:intermediateCatchEvent id="pinged"><bpmn:messageEventDefinition messageRef="ping" /></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f9" sourceRef="pinged" targetRef="endD" /><bpmn:endEvent id="endD" />
  </bpmn:process>
</bpmn:definitions>`;

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  let admin!: Client;
  let office!: Client;
  let reviewer!: Client;
  let worker!: Client;
  test.before(async () => {
    server = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    admin = client(server.url, ADMIN.user, ADMIN.password);
    office = await makeUser(server, 'zhou-office', ['office']);
    reviewer = await makeUser(server, 'li-review', ['network-security']);
    worker = await makeUser(server, 'checker', ['workers']);
    for (const [name, xml] of [[`${KEY}.bpmn`, diagram], ['tick.bpmn', timerDiagram('start', 'timeCycle', 'R/PT1H', 'suspend-tick')]]) {
      const form = new FormData();
      form.append('deployment-name', name);
      form.append(name, new Blob([xml]), name);
      const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
      const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic } });
      if (res.status !== 200) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
    }
  });
  test.after.always(async () => server?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  async function start(): Promise<string> {
    const r = await admin.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ title: '挂起测试' }) });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id;
  }
  const taskOf = async (pi: string, key = 'review') => (await admin.get(`/engine-rest/task?processInstanceId=${pi}&taskDefinitionKey=${key}`)).body[0];
  const operations = async (pi: string) => (await admin.get(`/engine-rest/history/user-operation?processInstanceId=${pi}`)).body.map((e: { operationType: string; userId: string }) => `${e.operationType} ${e.userId}`);
  const fetchAndLock = () => worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks: 10, topics: [{ topicName: 'suspend-check', lockDuration: 60_000 }] });
  /** Drops whatever the worker locked, so a later fetch sees every task again. */
  const unlockAll = async (tasks: { id: string }[]) => {
    for (const x of tasks) await admin.post(`/engine-rest/external-task/${x.id}/unlock`);
  };

  test.serial(t('the office suspends an instance: its task refuses claim and complete with 409, its timer and external task wait, messages pass it by'), async (t) => {
    const pi = await start();
    const task = await taskOf(pi);
    t.is((await reviewer.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: true })).status, 403, 'a reviewer may not suspend');
    const r = await office.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: true });
    t.is(r.status, 204, JSON.stringify(r.body));

    t.true((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended);
    t.true((await admin.get(`/engine-rest/task/${task.id}`)).body.suspended);
    t.deepEqual((await admin.get(`/engine-rest/process-instance?suspended=true&processDefinitionKey=${KEY}`)).body.map((i: { id: string }) => i.id), [pi]);
    t.false((await admin.get(`/engine-rest/process-instance?active=true&processDefinitionKey=${KEY}`)).body.some((i: { id: string }) => i.id === pi));
    t.is((await admin.get(`/engine-rest/task/count?suspended=true&processInstanceId=${pi}`)).body.count, 1);
    t.is((await admin.get(`/engine-rest/task/count?active=true&processInstanceId=${pi}`)).body.count, 0);
    const [job] = (await admin.get(`/engine-rest/job?processInstanceId=${pi}`)).body;
    t.true(job.suspended);
    const [ext] = (await admin.get(`/engine-rest/external-task?processInstanceId=${pi}`)).body;
    t.true(ext.suspended);
    t.is((await admin.get(`/engine-rest/external-task/count?suspended=true&processInstanceId=${pi}`)).body.count, 1);

    const claim = await reviewer.post(`/engine-rest/task/${task.id}/claim`, { userId: 'li-review' });
    t.is(claim.status, 409);
    t.is(claim.body.type, 'SuspendedEntityInteractionException');
    t.true(claim.body.message.endsWith(`ENGINE-03043 task with id '${task.id}' is suspended.`), claim.body.message);
    const complete = await admin.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ ok: true }) });
    t.is(complete.status, 409);
    t.regex(complete.body.message, /is suspended/);
    t.is((await admin.post(`/engine-rest/task/${task.id}/assignee`, { userId: 'li-review' })).status, 409, 'nor assigned');
    t.is((await admin.post(`/engine-rest/task/${task.id}/delegate`, { userId: 'li-review' })).status, 409, 'nor delegated');
    t.is((await admin.post(`/engine-rest/task/${task.id}/transfer`, { userId: 'li-review' })).status, 409, 'nor transferred (转办)');
    const modify = await admin.post(`/engine-rest/process-instance/${pi}/modification`, { instructions: [{ type: 'cancel', activityId: 'review' }] });
    t.is(modify.status, 409, 'nor modified');
    t.is(modify.body.type, 'SuspendedEntityInteractionException');
    t.is((await admin.post(`/engine-rest/task/${task.id}/identity-links`, { userId: 'li-review', type: 'candidate' })).status, 409, 'nor a candidate added');
    t.is((await admin.post(`/engine-rest/task/${task.id}/cc`, { userIds: ['li-review'] })).status, 409, 'nor copied (抄送)');
    t.is((await admin.post(`/engine-rest/task/${task.id}/urge`, { message: '请尽快' })).status, 409, 'nor urged (催办)');
    t.is((await server.db('carbon_copies').where({ process_instance_id: pi })).length, 0);
    t.is((await taskOf(pi)).assignee, null, 'nothing changed');
    t.truthy(await taskOf(pi), 'the task is still open');

    const fetched = await fetchAndLock();
    t.is(fetched.status, 200);
    t.false(fetched.body.some((x: { processInstanceId: string }) => x.processInstanceId === pi), 'fetchAndLock passes it by');
    await unlockAll(fetched.body);

    const ping = await admin.post('/engine-rest/message', { messageName: 'suspend-ping', processInstanceId: pi });
    t.is(ping.status, 400, 'the only instance waiting is suspended: no match, as in Camunda');
    t.is(ping.body.type, 'MismatchingMessageCorrelationException');

    clock.advance(2 * HOUR);
    await server.scheduler.runDue();
    t.is((await admin.get(`/engine-rest/job?processInstanceId=${pi}`)).body.length, 1, 'the overdue timer waits');
    t.is(await taskOf(pi, 'after'), undefined);
    t.deepEqual((await operations(pi)).filter((o: string) => o.startsWith('Suspend')), ['Suspend zhou-office']);
  });

  test.serial(t('activated, the overdue timer fires on the next scheduler pass and the tasks can be worked again'), async (t) => {
    const pi = (await admin.get(`/engine-rest/process-instance?suspended=true&processDefinitionKey=${KEY}`)).body[0].id;
    t.is((await admin.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: false })).status, 204);
    t.false((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended);
    t.true(await server.scheduler.runDue() >= 1);
    t.truthy(await taskOf(pi, 'after'), 'the timer fired');
    const fetched = await fetchAndLock();
    const mine = fetched.body.find((x: { processInstanceId: string }) => x.processInstanceId === pi);
    t.truthy(mine, 'fetchAndLock hands its external task out again');
    t.is((await worker.post(`/engine-rest/external-task/${mine.id}/complete`, { workerId: 'w1' })).status, 204);
    await unlockAll(fetched.body.filter((x: { id: string }) => x.id !== mine.id));
    const task = await taskOf(pi);
    t.is((await reviewer.post(`/engine-rest/task/${task.id}/claim`, { userId: 'li-review' })).status, 204);
    t.is((await reviewer.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
    t.is((await admin.post('/engine-rest/message', { messageName: 'suspend-ping', processInstanceId: pi })).status, 204);
    t.deepEqual((await operations(pi)).filter((o: string) => /^(Suspend|Activate) /.test(o)), ['Suspend zhou-office', 'Activate admin']);
  });

  test.serial(t('a suspended instance refuses the worker who holds its external task, as Camunda does'), async (t) => {
    const pi = await start();
    const fetched = await fetchAndLock();
    const mine = fetched.body.find((x: { processInstanceId: string }) => x.processInstanceId === pi);
    await unlockAll(fetched.body.filter((x: { id: string }) => x.id !== mine.id));
    t.is((await office.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: true })).status, 204);
    for (const [path, body] of [['complete', {}], ['failure', { errorMessage: 'x', retries: 1, retryTimeout: 0 }], ['extendLock', { newDuration: 1000 }]] as const) {
      const r = await worker.post(`/engine-rest/external-task/${mine.id}/${path}`, { workerId: 'w1', ...body });
      t.is(r.status, 409, path);
      t.is(r.body.message, `流程实例已挂起 / ENGINE-03043 ExternalTask with id '${mine.id}' is suspended.`);
    }
    t.is((await office.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: false })).status, 204);
    t.is((await worker.post(`/engine-rest/external-task/${mine.id}/complete`, { workerId: 'w1' })).status, 204);
  });

  test.serial(t('a suspended definition starts nothing; with includeProcessInstances its instances follow; administrators only'), async (t) => {
    const pi = await start();
    const [def] = (await admin.get(`/engine-rest/process-definition?key=${KEY}`)).body;
    t.is((await office.put(`/engine-rest/process-definition/${def.id}/suspended`, { suspended: true })).status, 403, 'the office may not');
    const delayed = await admin.put(`/engine-rest/process-definition/${def.id}/suspended`, { suspended: true, executionDate: '2026-12-24T00:00:00.000+0800' });
    t.is(delayed.status, 400, 'a delayed suspension is refused, not run at once');
    t.regex(delayed.body.message, /executionDate/);
    t.false((await admin.get(`/engine-rest/process-definition/${def.id}`)).body.suspended);

    t.is((await admin.put(`/engine-rest/process-definition/${def.id}/suspended`, { suspended: true, includeProcessInstances: true })).status, 204);
    t.true((await admin.get(`/engine-rest/process-definition/${def.id}`)).body.suspended);
    t.deepEqual((await admin.get(`/engine-rest/process-definition?suspended=true&key=${KEY}`)).body.map((d: { id: string }) => d.id), [def.id]);
    t.is((await admin.get(`/engine-rest/process-definition/count?active=true&key=${KEY}`)).body.count, 0);
    t.true((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended, 'its instances are suspended too');
    const refused = await admin.post(`/engine-rest/process-definition/key/${KEY}/start`, {});
    t.is(refused.status, 409);
    t.is(refused.body.message, `流程定义已挂起 / ENGINE-03043 Process Definition with id '${def.id}' is suspended.`);
    const ops = (await admin.get(`/engine-rest/history/user-operation?entityType=ProcessDefinition&entityId=${encodeURIComponent(def.id)}&operationType=SuspendProcessDefinition`)).body;
    t.deepEqual(ops.map((e: { operationType: string }) => e.operationType), ['SuspendProcessDefinition']);
    t.is(ops[0].details.includeProcessInstances, true);

    // By key, without its instances: the definition is active again, the instance stays suspended.
    t.is((await admin.put(`/engine-rest/process-definition/key/${KEY}/suspended`, { suspended: false })).status, 204);
    t.false((await admin.get(`/engine-rest/process-definition/${def.id}`)).body.suspended);
    t.true((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended);
    t.is((await admin.post(`/engine-rest/process-definition/key/${KEY}/start`, {})).status, 200);
    t.is((await admin.put('/engine-rest/process-definition/suspended', { processDefinitionKey: KEY, suspended: false, includeProcessInstances: true })).status, 204);
    t.false((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended);
  });

  test.serial(t('the bulk form suspends by ids, by definition key and by query, and refuses what it cannot honour with 400'), async (t) => {
    const a = await start();
    const b = await start();
    t.is((await office.put('/engine-rest/process-instance/suspended', { processInstanceIds: [a], suspended: true })).status, 204);
    t.true((await admin.get(`/engine-rest/process-instance/${a}`)).body.suspended);
    t.false((await admin.get(`/engine-rest/process-instance/${b}`)).body.suspended);
    t.is((await office.put('/engine-rest/process-instance/suspended', { processDefinitionKey: KEY, suspended: true })).status, 204);
    t.true((await admin.get(`/engine-rest/process-instance/${b}`)).body.suspended);
    t.is((await admin.put('/engine-rest/process-instance/suspended', { processInstanceQuery: { processDefinitionKey: KEY }, suspended: false })).status, 204);
    t.is((await admin.get(`/engine-rest/process-instance/count?suspended=true&processDefinitionKey=${KEY}`)).body.count, 0);

    const bad = [
      [{ processDefinitionKey: KEY, processInstanceIds: [a], suspended: true }, /Choose either/],
      [{ processDefinitionKey: KEY, processDefinitionId: 'x', suspended: true }, /Only one of/],
      [{ suspended: true }, /Either processDefinitionId or processDefinitionKey/],
      [{ processDefinitionKey: KEY }, /suspended must be true or false/],
      [{ historicProcessInstanceQuery: {}, suspended: true }, /historicProcessInstanceQuery/],
      [{ processInstanceQuery: { variables: [] }, suspended: true }, /processInstanceQuery: unsupported criteria variables/],
    ] as const;
    for (const [body, message] of bad) {
      const r = await admin.put('/engine-rest/process-instance/suspended', body);
      t.is(r.status, 400, JSON.stringify(body));
      t.regex(r.body.message, message);
    }
    t.is((await reviewer.put('/engine-rest/process-instance/suspended', { processInstanceIds: [a], suspended: true })).status, 403);
    t.is((await admin.put('/engine-rest/process-instance/no-such/suspended', { suspended: true })).status, 404);
  });

  test.serial(t('history shows a suspended instance as SUSPENDED and filters by Camunda\'s state flags (suspended, active, ...), one at a time'), async (t) => {
    const a = await start();
    const b = await start();
    const historic = async (query: string) => (await admin.get(`/engine-rest/history/process-instance?processDefinitionKey=${KEY}&${query}`)).body as { id: string; state: string }[];
    const ids = async (query: string) => (await historic(query)).map((r) => r.id);
    const count = async (query: string) => (await admin.get(`/engine-rest/history/process-instance/count?processDefinitionKey=${KEY}&${query}`)).body.count;
    t.is((await office.put(`/engine-rest/process-instance/${a}/suspended`, { suspended: true })).status, 204);
    t.is((await historic(`processInstanceId=${a}`))[0]!.state, 'SUSPENDED');
    t.is((await historic(`processInstanceId=${b}`))[0]!.state, 'ACTIVE');
    t.true((await ids('suspended=true')).includes(a));
    t.false((await ids('suspended=true')).includes(b));
    t.true((await ids('active=true')).includes(b));
    t.false((await ids('active=true')).includes(a));
    t.is(await count(`suspended=true&processInstanceIds=${a},${b}`), 1);
    t.is(await count(`active=true&processInstanceIds=${a},${b}`), 1);
    t.deepEqual(await ids(`unfinished=true&suspended=true&processInstanceIds=${a},${b}`), [a], 'a suspended instance is unfinished');
    t.is((await historic('completed=true')).filter((r) => r.id === a || r.id === b).length, 0);
    const two = await admin.get(`/engine-rest/history/process-instance?suspended=true&active=true`);
    t.is(two.status, 400);
    t.regex(two.body.message, /another state/);
    t.is((await admin.put(`/engine-rest/process-instance/${a}/suspended`, { suspended: false })).status, 204);
    t.is((await historic(`processInstanceId=${a}`))[0]!.state, 'ACTIVE');
    t.false((await ids('suspended=true')).includes(a));
    t.is((await admin.post(`/engine-rest/process-instance/${b}/terminate`, { reason: '测试 / test' })).status, 204);
    t.deepEqual(await ids(`externallyTerminated=true&processInstanceIds=${a},${b}`), [b]);
  });

  test.serial(t('a suspended definition\'s timer start waits and starts once when activated'), async (t) => {
    const count = async () => (await admin.get('/engine-rest/history/process-instance/count?processDefinitionKey=suspend-tick')).body.count;
    await server.scheduler.runDue();
    const before = await count();
    t.is((await admin.put('/engine-rest/process-definition/key/suspend-tick/suspended', { suspended: true })).status, 204);
    clock.advance(3 * HOUR);
    await server.scheduler.runDue();
    t.is(await count(), before, 'nothing started while suspended');
    t.is((await admin.put('/engine-rest/process-definition/key/suspend-tick/suspended', { suspended: false })).status, 204);
    await server.scheduler.runDue();
    t.is(await count(), before + 1, 'the overdue cycle fires once');
  });
}

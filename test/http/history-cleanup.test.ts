import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Issue 18 item 9, history cleanup: a finished instance's history goes once
 * its end plus its definition's historyTimeToLive has passed on the server's
 * clock, with the instances it called; running instances, younger ones and
 * those of definitions without a time to live stay. The trace is never
 * touched and still verifies. The job is one row, claimed once however many
 * servers ask; the window (22:00–06:00 here) decides when the scheduler runs it.
 */

const DAY = 86_400_000;

const taskProcess = (key: string, ttl: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="${key}" isExecutable="true" ${ttl ? `camunda:historyTimeToLive="${ttl}"` : ''}>
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="review" />
    <bpmn:userTask id="review" camunda:assignee="admin" /><bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="hc-callee" /><bpmn:sequenceFlow id="f3" sourceRef="call" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>`;

const CALLEE = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="hc-callee" isExecutable="true">
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" /><bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>`;

for (const backend of backends) {
  // Inside the window (22:00–06:00 Asia/Shanghai): 2026-12-01T23:00+08:00.
  const clock = new ManualClock(new Date('2026-12-01T15:00:00Z'));
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  test.before(async () => {
    s = await startTestServer(backend, {
      ...NO_PROCESSES, HISTORY_CLEANUP_BATCH_WINDOW_START_TIME: '22:00', HISTORY_CLEANUP_BATCH_WINDOW_END_TIME: '06:00', HISTORY_CLEANUP_BATCH_SIZE: '2',
    }, { clock, runScheduler: false });
    admin = client(s.url, ADMIN.user, ADMIN.password);
    office = await makeUser(s, 'hc-office', ['office']);
    for (const [name, xml] of [['hc-callee.bpmn', CALLEE], ['hc-five.bpmn', taskProcess('hc-five', '5')], ['hc-forever.bpmn', taskProcess('hc-forever', '')], ['hc-thirty.bpmn', taskProcess('hc-thirty', '30')]]) {
      await s.services.deployments.deploy(oneResource(name, Buffer.from(xml)));
    }
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  /** Starts `key`, with a variable and a comment on its task; finished unless `running`. */
  async function instance(key: string, running = false): Promise<string> {
    const started = await admin.post(`/engine-rest/process-definition/key/${key}/start`, { variables: vars({ note: '机房巡检' }) });
    const pi = started.body.id as string;
    const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${pi}`)).body;
    await admin.post(`/engine-rest/task/${task.id}/comment/create`, { message: '已核对' });
    if (!running) {
      const done = await admin.post(`/engine-rest/task/${task.id}/complete`, {});
      if (done.status !== 204) throw new Error(`complete: ${done.status} ${JSON.stringify(done.body)}`);
    }
    return pi;
  }
  const exists = async (pi: string) => (await s.db('process_instances').where({ id: pi }).first()) != null;
  const endOf = async (pi: string) => new Date((await s.db('process_instances').where({ id: pi }).first()).end_time);
  const calleesOf = async (pi: string) => (await s.db('process_instances').where({ super_process_instance_id: pi })).map((r: { id: string }) => r.id);
  const report = async () => (await admin.get('/engine-rest/history/process-definition/cleanable-process-instance-report?processDefinitionKeyIn=hc-five,hc-forever')).body as
    { processDefinitionKey: string; finishedProcessInstanceCount: number; cleanableProcessInstanceCount: number; historyTimeToLive: number | null }[];

  test.serial(t('cleanup removes a finished instance past its time to live with all its history and callees; others stay; the trace verifies'), async (t) => {
    const old = await instance('hc-five');
    const callees = await calleesOf(old);
    t.is(callees.length, 1, 'the called instance is history of the root');
    const forever = await instance('hc-forever');
    const running = await instance('hc-five', true);
    const traceRows = Number((await s.db('trace').count({ n: '*' }))[0].n);

    // Just before end + 5 days: nothing is due.
    clock.set(new Date((await endOf(old)).getTime() + 5 * DAY - 60_000));
    t.is((await report()).find((r) => r.processDefinitionKey === 'hc-five')?.cleanableProcessInstanceCount, 0);
    const young = await instance('hc-thirty');
    t.is((await admin.post('/engine-rest/history/cleanup')).status, 200);
    await s.scheduler.runDue();
    t.true(await exists(old), 'not yet due');

    clock.set(new Date((await endOf(old)).getTime() + 5 * DAY + 60_000));
    const before = await report();
    t.like(before.find((r) => r.processDefinitionKey === 'hc-five'), { historyTimeToLive: 5, finishedProcessInstanceCount: 1, cleanableProcessInstanceCount: 1 });
    t.like(before.find((r) => r.processDefinitionKey === 'hc-forever'), { historyTimeToLive: null, finishedProcessInstanceCount: 1, cleanableProcessInstanceCount: 0 });
    t.is((await admin.get('/engine-rest/history/process-definition/cleanable-process-instance-report/count?processDefinitionKeyIn=hc-five,hc-forever')).body.count, 2);

    const job = (await admin.post('/engine-rest/history/cleanup?immediatelyDue=true')).body;
    t.like(job, { id: 'history-cleanup', processInstanceId: null, suspended: false, retries: 3 });
    await s.scheduler.runDue();
    t.false(await exists(old), 'the expired instance is gone');
    for (const c of callees) t.false(await exists(c), 'with the instance it called');
    for (const table of ['tasks', 'variables', 'activity_instances', 'task_comments', 'history_details', 'identity_link_log']) {
      t.is(Number((await s.db(table).where({ process_instance_id: old }).count({ n: '*' }))[0].n), 0, `no ${table} left`);
    }
    for (const pi of [forever, running, young]) t.true(await exists(pi), 'the others stay');
    t.is((await admin.get(`/engine-rest/history/process-instance/${old}`)).status, 404);
    t.is((await admin.get(`/engine-rest/task?processInstanceId=${running}`)).body.length, 1, 'a running instance keeps its task');
    t.like((await report()).find((r) => r.processDefinitionKey === 'hc-five'), { finishedProcessInstanceCount: 0, cleanableProcessInstanceCount: 0 });

    // The trace: nothing removed, the chain whole, the run recorded.
    t.true(Number((await s.db('trace').count({ n: '*' }))[0].n) > traceRows, 'the trace only grew');
    t.is(Number((await s.db('trace').where({ process_instance_id: old }).count({ n: '*' }))[0].n) > 0, true, 'the removed instance\'s trace rows stay');
    t.true((await s.services.trace.verify()).ok, 'the trace verifies after cleanup');
    const runs = await s.db('trace').where({ operation: 'HistoryCleanup', entity_type: 'Job' }).orderBy('id');
    t.true(runs.some((r: { details: { processInstanceIds?: string[] } }) => r.details.processInstanceIds?.includes(old)), 'the batch names what it removed');
    const after = (await admin.get('/engine-rest/history/cleanup/job')).body;
    t.truthy(after.dueDate, 'scheduled again, at the next window');
    t.true(new Date(after.dueDate).getTime() > (await clock.now()).getTime());
  });

  test.serial(t('two cleanup runs side by side never remove one instance twice; the job is claimed by one server only'), async (t) => {
    const pis = [];
    for (let i = 0; i < 5; i++) pis.push(await instance('hc-five'));
    clock.set(new Date((await endOf(pis[4]!)).getTime() + 6 * DAY));
    const deleteRows = async () => Number((await s.db('trace').where({ operation: 'HistoryCleanup' }).count({ n: '*' }))[0].n);
    const [a, b] = await Promise.all([s.services.historyCleanup.runBatch(), s.services.historyCleanup.runBatch()]);
    const [c] = await Promise.all([s.services.historyCleanup.runBatch()]);
    // Batches of 2 roots, each with its callee: 5 roots + 5 callees, all once.
    t.is(a.instances + b.instances + c.instances + (await s.services.historyCleanup.runBatch()).instances, 10);
    for (const pi of pis) t.false(await exists(pi));
    t.true(await deleteRows() >= 3);

    t.is((await admin.post('/engine-rest/history/cleanup')).status, 200);
    const claims = await Promise.all([s.services.historyCleanup.source.claimDue('server-a', 10, 60_000), s.services.historyCleanup.source.claimDue('server-b', 10, 60_000)]);
    t.is(claims.flat().length, 1, 'one server holds the job');
    t.true((await s.services.trace.verify()).ok);
  });

  test.serial(t('the window: the scheduler makes the job due at the window\'s start and runs it inside only; the configuration shows it'), async (t) => {
    const own = new ManualClock(new Date());
    const w = await startTestServer(backend, { ...NO_PROCESSES, HISTORY_CLEANUP_BATCH_WINDOW_START_TIME: '22:00', HISTORY_CLEANUP_BATCH_WINDOW_END_TIME: '06:00' }, { clock: own, runScheduler: false });
    try {
      await w.services.deployments.deploy(oneResource('hc-callee.bpmn', Buffer.from(CALLEE)));
      await w.services.deployments.deploy(oneResource('hc-five.bpmn', Buffer.from(taskProcess('hc-five', '5'))));
      const a = client(w.url, ADMIN.user, ADMIN.password);
      const pi = (await a.post('/engine-rest/process-definition/key/hc-five/start', {})).body.id as string;
      const [task] = (await a.get(`/engine-rest/task?processInstanceId=${pi}`)).body;
      t.is((await a.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
      const end = new Date((await w.db('process_instances').where({ id: pi }).first()).end_time);
      // Noon in Asia/Shanghai, six days after the end: past the time to live, outside the window.
      const later = new Date(end.getTime() + 6 * DAY);
      const hour = Number(new Intl.DateTimeFormat('en', { hour: 'numeric', hourCycle: 'h23', timeZone: 'Asia/Shanghai' }).format(later));
      own.set(new Date(Math.floor((later.getTime() + ((12 - hour + 24) % 24) * 3_600_000) / 3_600_000) * 3_600_000));
      const config = (await a.get('/engine-rest/history/cleanup/configuration')).body;
      t.true(config.enabled);
      t.regex(config.batchWindowStartTime, /T22:00:00\.000\+0800$/);
      t.regex(config.batchWindowEndTime, /T06:00:00\.000\+0800$/);
      t.is(new Date(config.batchWindowEndTime).getTime() - new Date(config.batchWindowStartTime).getTime(), 8 * 3_600_000);
      t.true(new Date(config.batchWindowStartTime).getTime() > (await own.now()).getTime(), 'the next window, tonight');

      await w.scheduler.runDue();
      t.true((await w.db('process_instances').where({ id: pi }).first()) != null, 'outside the window the job waits');
      const job = (await a.get('/engine-rest/history/cleanup/job')).body;
      t.is(new Date(job.dueDate).getTime(), new Date(config.batchWindowStartTime).getTime(), 'due at the window\'s start');
      own.set(new Date(new Date(config.batchWindowStartTime).getTime() + 60_000));
      await w.scheduler.runDue();
      t.true((await w.db('process_instances').where({ id: pi }).first()) == null, 'inside, it runs');
      const next = (await a.get('/engine-rest/history/cleanup/job')).body;
      t.is(new Date(next.dueDate).getTime(), new Date(config.batchWindowStartTime).getTime() + DAY, 'and is due again at the next window');
      t.true((await w.services.trace.verify()).ok);
    } finally {
      await w.stop();
    }
  });

  test.serial(t('POST /history/process-instance/delete: a batch deleting finished instances\' history; a running one fails its job'), async (t) => {
    const done = await instance('hc-forever');
    const running = await instance('hc-forever', true);
    t.is((await office.post('/engine-rest/history/process-instance/delete', { historicProcessInstanceIds: [done] })).status, 403);
    t.is((await admin.post('/engine-rest/history/process-instance/delete', { historicProcessInstanceIds: [done], skipCustomListeners: true })).status, 400);
    t.is((await admin.post('/engine-rest/history/process-instance/delete', {})).status, 400);
    const batch = await admin.post('/engine-rest/history/process-instance/delete', { historicProcessInstanceIds: [done, running], deleteReason: '过期' });
    t.is(batch.status, 200);
    t.like(batch.body, { type: 'historic-instance-deletion', totalJobs: 2 });
    await s.scheduler.runDue();
    t.false(await exists(done));
    t.true(await exists(running), 'a running instance\'s history is its live state');
    const jobs = await s.db('batch_jobs').where({ batch_id: batch.body.id }).orderBy('process_instance_id');
    t.deepEqual(jobs.map((j: { process_instance_id: string; state: string }) => [j.process_instance_id, j.state]).sort(), [[done, 'done'], [running, 'failed']].sort());
    t.regex(jobs.find((j: { state: string }) => j.state === 'failed').exception_message, /still running/);
    t.true((await s.services.trace.verify()).ok);
  });

  test.serial(t('refusals: administrators only, immediatelyDue=false without a window, a trace retention below 180 days'), async (t) => {
    for (const url of ['/engine-rest/history/cleanup/configuration', '/engine-rest/history/cleanup/job', '/engine-rest/history/cleanup/jobs',
      '/engine-rest/history/process-definition/cleanable-process-instance-report', '/engine-rest/history/decision-definition/cleanable-decision-instance-report/count',
      '/engine-rest/history/batch/cleanable-batch-report']) {
      t.is((await office.get(url)).status, 403, url);
    }
    t.is((await office.post('/engine-rest/history/cleanup')).status, 403);
    t.is((await admin.get('/engine-rest/history/process-definition/cleanable-process-instance-report?sortBy=name&sortOrder=asc')).status, 400);
    t.is((await admin.get('/engine-rest/history/batch/cleanable-batch-report/count')).status, 200);
    t.throws(() => loadConfig({ TRACE_RETENTION_DAYS: '179' }), { instanceOf: ConfigError, message: /TRACE_RETENTION_DAYS/ });
    t.is(loadConfig({ TRACE_RETENTION_DAYS: '400' }).traceRetentionDays, 400);
    t.is(loadConfig({}).traceRetentionDays, 180);
    t.throws(() => loadConfig({ HISTORY_CLEANUP_BATCH_WINDOW_START_TIME: '22:00' }), { instanceOf: ConfigError, message: /HISTORY_CLEANUP_BATCH_WINDOW_END_TIME/ });
    t.throws(() => loadConfig({ HISTORY_CLEANUP_BATCH_WINDOW_START_TIME: '25:00', HISTORY_CLEANUP_BATCH_WINDOW_END_TIME: '06:00' }), { instanceOf: ConfigError });
    const plain = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    try {
      const a = client(plain.url, ADMIN.user, ADMIN.password);
      t.is((await a.get('/engine-rest/history/cleanup/job')).status, 404, 'no job before it is asked for');
      t.deepEqual((await a.get('/engine-rest/history/cleanup/jobs')).body, []);
      t.is((await a.post('/engine-rest/history/cleanup?immediatelyDue=false')).status, 400);
      t.like((await a.get('/engine-rest/history/cleanup/configuration')).body, { batchWindowStartTime: null, batchWindowEndTime: null, enabled: true });
    } finally {
      await plain.stop();
    }
  });

  test.serial(t('standalone decision evaluations go by evaluation time and their definition\'s time to live'), async (t) => {
    const deployed = await s.services.deployments.deploy(oneResource('hc-dish.dmn', fixture('dmn-rest/dish.dmn')));
    const id = deployed.decisions.decisions[0].id as string;
    t.is((await admin.put(`/engine-rest/decision-definition/${id}/history-time-to-live`, { historyTimeToLive: 1 })).status, 204);
    const evaluated = await admin.post(`/engine-rest/decision-definition/${id}/evaluate`, { variables: vars({ season: 'Spring', guestCount: 4 }) });
    t.is(evaluated.status, 200, JSON.stringify(evaluated.body));
    const count = async () => (await admin.get(`/engine-rest/history/decision-definition/cleanable-decision-instance-report?decisionDefinitionIdIn=${id}`)).body[0];
    const evaluatedAt = new Date((await s.db('history_decision_instances').where({ decision_definition_id: id }).first()).evaluation_time);
    clock.set(new Date(evaluatedAt.getTime() + DAY / 2));
    t.like(await count(), { finishedDecisionInstanceCount: 1, cleanableDecisionInstanceCount: 0, historyTimeToLive: 1 });
    clock.set(new Date(evaluatedAt.getTime() + 2 * DAY));
    t.like(await count(), { finishedDecisionInstanceCount: 1, cleanableDecisionInstanceCount: 1 });
    await admin.post('/engine-rest/history/cleanup');
    await s.scheduler.runDue();
    t.like(await count(), { finishedDecisionInstanceCount: 0, cleanableDecisionInstanceCount: 0 });
    t.true((await s.services.trace.verify()).ok);
  });
}

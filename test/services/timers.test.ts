import test from 'ava';
import pino from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { ConflictError } from '../../src/errors.ts';
import { ProcessEngineError } from '../../src/services/engine-errors.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { backends, saveWaitsForLock } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, TEST_KEY_ENV, type TestServer } from '../helpers/server.ts';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

for (const backend of backends) {
  // The scheduler loop is off: each test moves the clock and runs the due timers itself.
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    await s.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
    await s.services.deployments.deploy(oneResource('expression-deadline.bpmn', fixture('expression-deadline.bpmn')));
    await s.services.deployments.deploy(oneResource('repeat-reminder.bpmn', fixture('repeat-reminder.bpmn')));
    await s.services.deployments.deploy(oneResource('wait-date.bpmn', fixture('wait-date.bpmn')));
    await s.services.deployments.deploy(oneResource('timer-end.bpmn', fixture('timer-end.bpmn')));
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (key: string) => (await s.services.instances.startByKey(key, { variables: {} }, adminPrincipal)).instance.id;
  const open = async (id: string) => (await s.services.tasks.list({ processInstanceId: id }, adminPrincipal)).map((x) => x.task_definition_key).sort();
  const armed = (id: string) => s.db('timers').where({ process_instance_id: id }).orderBy('activity_id');

  test.serial(t('a boundary timer fires once when the deadline passes, and not before'), async (t) => {
    const id = await start('deadlines');
    const [timer] = await armed(id);
    t.is(timer.activity_id, 'deadline');
    t.is(new Date(timer.due_at).getTime(), (await clock.now()).getTime() + 2 * HOUR, 'due two hours after it was armed, by the injected clock');
    clock.advance(2 * HOUR - 1000);
    t.is(await s.scheduler.runDue(), 0);
    t.deepEqual(await open(id), ['decide']);
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(id), ['escalate'], 'the interrupting deadline cancelled the decision and escalated');
    const [decide] = await s.services.tasks.history({ processInstanceId: id, taskDefinitionKey: 'decide' }, adminPrincipal);
    t.is(decide.delete_reason, 'deleted');
    t.deepEqual(await armed(id), []);
    t.is(await s.scheduler.runDue(), 0, 'fired exactly once');
  });

  test.serial(t('a boundary timer whose task is completed first never fires; the next timer does'), async (t) => {
    const id = await start('deadlines');
    const [decide] = await s.services.tasks.list({ processInstanceId: id }, adminPrincipal);
    await s.services.tasks.complete(decide.id, {}, adminPrincipal);
    const timers = await armed(id);
    t.deepEqual(timers.map((x: { activity_id: string }) => x.activity_id), ['cooldown'], 'the deadline went with the task');
    clock.advance(30 * MINUTE);
    t.is(await s.scheduler.runDue(), 1);
    clock.advance(3 * HOUR);
    t.is(await s.scheduler.runDue(), 0);
    t.deepEqual(await open(id), ['followUp']);
  });

  test.serial(t('due timers of many instances fire as one batch, each once, even when two servers fire the same batch at once'), async (t) => {
    const escalating: string[] = [];
    for (let i = 0; i < 5; i++) escalating.push(await start('deadlines'));
    // Saved states travel to the database as one array: a key with quotes, backslashes, braces and commas is in one of them.
    const awkwardKey = '报告 "A{1,2}" \\ 第\\n二, NULL';
    escalating.push((await s.services.instances.startByKey('deadlines', { variables: {}, businessKey: awkwardKey }, adminPrincipal)).instance.id);
    const ending = [await start('timer-end'), await start('timer-end')];
    // Its deadline goes with the task, before the batch is read: only its 30-minute cooldown stays armed.
    const decided = await start('deadlines');
    const [decide] = await s.services.tasks.list({ processInstanceId: decided }, adminPrincipal);
    await s.services.tasks.complete(decide.id, {}, adminPrincipal);
    clock.advance(2 * HOUR);
    const rows = await s.db('timers').whereIn('process_instance_id', [...escalating, ...ending]);
    t.is(rows.length, 8);
    // Both claimed the same rows (as two servers would if a lease ran out): one batch fires them all, the other none.
    const [a, b] = await Promise.all([s.services.timers.fireMany(rows), s.services.timers.fireMany(rows)]);
    t.deepEqual([a.length, b.length].sort(), [0, 8]);
    for (const id of escalating) t.deepEqual(await open(id), ['escalate'], 'the deadline escalated');
    const awkward = await s.db('process_instances').where({ id: escalating[5] }).first();
    t.true(JSON.stringify(awkward.engine_state).includes(JSON.stringify(awkwardKey)), 'the saved state keeps the key exactly');
    const [escalate] = await s.services.tasks.list({ processInstanceId: escalating[5] }, adminPrincipal);
    await s.services.tasks.complete(escalate.id, {}, adminPrincipal);
    t.is((await s.db('process_instances').where({ id: escalating[5] }).first()).state, 'COMPLETED', 'and runs on from it');
    for (const id of ending) t.is((await s.db('process_instances').where({ id }).first()).state, 'COMPLETED', 'the timer ended its instance');
    t.is(Number((await s.db('timers').whereIn('id', rows.map((r) => r.id)).count({ n: '*' }))[0].n), 0, 'the fired timers are gone');
    const executed = await s.db('trace').where({ operation: 'Execute', entity_type: 'Job', user_id: 'system' }).whereIn('entity_id', rows.map((r) => r.id));
    t.deepEqual(executed.map((r) => r.entity_id).sort(), rows.map((r) => r.id).sort(), 'one trace row per firing');
    t.true((await s.services.trace.verify()).ok, 'the trace chains still verify');
    // The scheduler's own round: the decided instance's cooldown (and other tests' leftovers) fire one by one or in batches alike.
    await s.scheduler.runDue();
    t.deepEqual(await open(decided), ['followUp']);
  });

  if (backend.name === 'postgres') {
    test.serial(t('an instance that changes while its batch runs is left out, and the rest of the batch still fires'), async (t) => {
      const ids: string[] = [];
      for (let i = 0; i < 4; i++) ids.push(await start('deadlines'));
      clock.advance(2 * HOUR);
      const rows = await s.db('timers').whereIn('process_instance_id', ids);
      // Someone else holds one instance (as a person completing a task in it would) and changes it while the batch runs.
      const other = await s.db.transaction();
      try {
        await other('process_instances').where({ id: ids[2] }).forUpdate().first();
        const batch = s.services.timers.fireMany(rows);
        // The batch has read the old revision and now waits for that row.
        t.true(await saveWaitsForLock(s.db), 'the batch reached its save and waits for the held row');
        await other('process_instances').where({ id: ids[2] }).increment('rev', 1);
        await other.commit();
        const fired = await batch;
        t.deepEqual(fired.map((r) => r.process_instance_id).sort(), ids.filter((id) => id !== ids[2]).sort(), 'three fired in the batch, the changed one left');
      } finally {
        if (!other.isCompleted()) await other.rollback();
      }
      for (const id of ids.filter((x) => x !== ids[2])) t.deepEqual(await open(id), ['escalate']);
      t.deepEqual(await open(ids[2]), ['decide'], 'the changed instance was not advanced on its old state');
      // Left for the one-by-one path, which re-reads it.
      await s.services.timers.fire(rows.find((r) => r.process_instance_id === ids[2])!);
      t.deepEqual(await open(ids[2]), ['escalate']);
      t.true((await s.services.trace.verify()).ok);
    });
  }

  test.serial(t('a deadline taken from a variable; a non-interrupting boundary timer leaves the task open'), async (t) => {
    const id = (await s.services.instances.startByKey('expression-deadline', { variables: { reportWindow: { type: 'String', value: 'PT3H' } } }, adminPrincipal)).instance.id;
    const [timer] = await armed(id);
    t.is(new Date(timer.due_at).getTime(), (await clock.now()).getTime() + 3 * HOUR);
    clock.advance(3 * HOUR);
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(id), ['remind', 'report'], 'reminded, and the report is still open');
  });

  test.serial(t('the job API lists timers, moves a due date, and fires one on request'), async (t) => {
    const admin = client(s.url, ADMIN.user, ADMIN.password);
    const office = await makeUser(s, 'office-jobs', ['office']);
    const first = await start('deadlines');
    const second = await start('deadlines');
    const [job] = (await admin.get(`/engine-rest/job?processInstanceId=${first}`)).body;
    t.is(job.processDefinitionKey, 'deadlines');
    t.regex(job.dueDate, /\+0800$/);
    t.is((await admin.get(`/engine-rest/job/count?processInstanceId=${first}&dueDates=${encodeURIComponent("lt_2099-01-01T00:00:00.000+0800")}`)).body.count, 1);
    t.is((await admin.get(`/engine-rest/job/count?processInstanceId=${first}&dueDates=${encodeURIComponent("lt_2000-01-01T00:00:00.000+0800")}`)).body.count, 0);
    t.is((await admin.get('/engine-rest/job?dueDates=soon')).status, 400);
    // Camunda's job types: every job here is a timer, so timers=true changes nothing and messages=true matches nothing.
    const ids = (r: { body: { id: string }[] }) => r.body.map((j) => j.id).sort();
    const all = await admin.get(`/engine-rest/job?processDefinitionKey=deadlines`);
    t.is(all.body.length, 2);
    t.deepEqual(ids(await admin.get('/engine-rest/job?processDefinitionKey=deadlines&timers=true')), ids(all));
    t.deepEqual(ids(await admin.get('/engine-rest/job?processDefinitionKey=deadlines&timers=false')), ids(all));
    t.deepEqual((await admin.get('/engine-rest/job?messages=true')).body, []);
    t.is((await admin.get('/engine-rest/job/count?messages=true')).body.count, 0);
    t.is((await admin.get('/engine-rest/job/count?timers=true&processDefinitionKey=deadlines')).body.count, 2);
    const both = await admin.get('/engine-rest/job?timers=true&messages=true');
    t.is(both.status, 400, 'as Camunda: the two cannot be combined');
    t.regex(both.body.message, /timers.*messages/);
    t.is((await admin.get('/engine-rest/job?timers=yes')).status, 400);
    // The other filters a Camunda client sends.
    t.deepEqual(ids(await admin.get(`/engine-rest/job?jobDefinitionId=${encodeURIComponent(job.jobDefinitionId)}`)), ids(all), 'one job definition: the deadline of this version');
    t.deepEqual(ids(await admin.get(`/engine-rest/job?activityId=deadline&executionId=${job.executionId}&processDefinitionId=${job.processDefinitionId}`)), [job.id]);
    t.deepEqual((await admin.get('/engine-rest/job?activityId=cooldown')).body, []);
    t.deepEqual((await admin.get('/engine-rest/job?withException=true')).body, []);
    // Staff see the timers of the instances they may see (the web monitor), and nothing else.
    const network = await makeUser(s, 'network-jobs', ['network-security']);
    const own = (await office.post('/engine-rest/process-definition/key/deadlines/start', {})).body.id;
    t.teardown(() => s.services.instances.remove(own, null, adminPrincipal).catch(() => undefined));
    const seen = await office.get('/engine-rest/job');
    t.is(seen.status, 200);
    t.deepEqual(seen.body.map((j: { processInstanceId: string }) => j.processInstanceId), [own], 'the instance office started, not the two of the administrator');
    t.is((await office.get('/engine-rest/job/count')).body.count, 1);
    t.is((await office.get(`/engine-rest/job/${job.id}`)).status, 404, 'another\'s timer does not exist for office');
    t.deepEqual((await network.get('/engine-rest/job')).body, [], 'a role with no part in any instance sees no timer');
    t.is((await network.get('/engine-rest/job/count')).body.count, 0);
    // Moving and firing stay with the administrator, even for a timer one may see.
    t.is((await office.put(`/engine-rest/job/${seen.body[0].id}/duedate`, { duedate: new Date().toISOString() })).status, 403);
    t.is((await office.post(`/engine-rest/job/${seen.body[0].id}/execute`)).status, 403);
    // Moved to now: the next round fires it.
    const now = await clock.now();
    t.is((await admin.put(`/engine-rest/job/${job.id}/duedate`, { duedate: now.toISOString() })).status, 204);
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(first), ['escalate']);
    // Executed on request, two hours early.
    const [other] = (await admin.get(`/engine-rest/job?processInstanceId=${second}`)).body;
    t.is((await office.post(`/engine-rest/job/${other.id}/execute`)).status, 403);
    t.is((await admin.post(`/engine-rest/job/${other.id}/execute`)).status, 204);
    t.deepEqual(await open(second), ['escalate']);
    t.is((await admin.post(`/engine-rest/job/${other.id}/execute`)).status, 404, 'a fired timer is gone');
  });

  test.serial(t('durations of months and years are calendar-exact in Asia/Shanghai'), async (t) => {
    const saved = await clock.now();
    const ids: string[] = [];
    const startWith = async (window: string) => {
      ids.push((await s.services.instances.startByKey('expression-deadline', { variables: { reportWindow: { type: 'String', value: window } } }, adminPrincipal)).instance.id);
      return ids.at(-1)!;
    };
    t.teardown(async () => {
      clock.set(saved);
      // Out of the way of the tests that move the clock by months.
      for (const id of ids) await s.services.instances.remove(id, null, adminPrincipal).catch(() => undefined);
    });
    // 30 November 10:00 local: three months on is 28 February (no 30th), one year on is the same local hour.
    clock.set(new Date('2026-11-30T02:00:00Z'));
    const [threeMonths] = await armed(await startWith('P3M'));
    t.is(new Date(threeMonths.due_at).toISOString(), '2027-02-28T02:00:00.000Z');
    const [oneYear] = await armed(await startWith('P1Y'));
    t.is(new Date(oneYear.due_at).toISOString(), '2027-11-30T02:00:00.000Z');
    const [mixed] = await armed(await startWith('P1M2DT3H'));
    t.is(new Date(mixed.due_at).toISOString(), '2027-01-01T05:00:00.000Z', '30 Dec, +2 days, +3 hours');
  });

  test.serial(t('a repeating non-interrupting reminder (R3/PT1H) fires three times, then never; downtime does not replay it'), async (t) => {
    const id = await start('repeat-reminder');
    // Each firing runs the reminder (a script: a repeating cycle whose path would wait is refused, check-timer-cycles.ts).
    const reminders = async () => (await s.db('activity_instances').where({ process_instance_id: id, activity_id: 'remind' }).whereNotNull('end_time')).length;
    const due = async () => new Date((await armed(id))[0].due_at).getTime();
    clock.advance(HOUR);
    t.is(await s.scheduler.runDue(), 1);
    t.is(await reminders(), 1);
    t.is(await due(), (await clock.now()).getTime() + HOUR, 're-armed one period after it fired');
    // Five hours of downtime: the overdue reminder fires once, and the next is an hour after that.
    clock.advance(5 * HOUR);
    t.is(await s.scheduler.runDue(), 1);
    t.is(await s.scheduler.runDue(), 0, 'no replay of the missed hours');
    t.is(await due(), (await clock.now()).getTime() + HOUR);
    clock.advance(HOUR);
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await armed(id), [], 'three repetitions, then the timer is gone');
    clock.advance(10 * HOUR);
    t.is(await s.scheduler.runDue(), 0);
    t.is(await reminders(), 3, 'every firing ran the reminder');
    t.deepEqual(await open(id), ['report'], 'the report itself is still open');
  });

  test.serial(t('a date timer is judged by the server clock, not the process clock'), async (t) => {
    const saved = await clock.now();
    t.teardown(() => clock.set(saved));
    // March 2020: long past by the wall clock, three days ahead by the server's (injected) clock.
    clock.set(new Date('2020-03-01T01:00:00Z'));
    const id = (await s.services.instances.startByKey('wait-date', { variables: { maintenanceWindow: { type: 'String', value: '2020-03-04T09:00:00+08:00' } } }, adminPrincipal)).instance.id;
    t.deepEqual(await open(id), [], 'still waiting for the window');
    const [timer] = await armed(id);
    t.is(new Date(timer.due_at).toISOString(), '2020-03-04T01:00:00.000Z');
    clock.set(new Date('2020-03-04T00:59:59Z'));
    t.is(await s.scheduler.runDue(), 0);
    clock.set(new Date('2020-03-04T01:00:00Z'));
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(id), ['apply']);
    // Without an offset a date is local time in the server's zone (Asia/Shanghai by default), not the host's.
    const local = (await s.services.instances.startByKey('wait-date', { variables: { maintenanceWindow: { type: 'String', value: '2020-03-05T09:00:00' } } }, adminPrincipal)).instance.id;
    t.is(new Date((await armed(local))[0].due_at).toISOString(), '2020-03-05T01:00:00.000Z');
    t.teardown(() => s.services.instances.remove(local, null, adminPrincipal).catch(() => undefined));
    // A window already past by the server's clock opens at once, as in Camunda.
    const late = (await s.services.instances.startByKey('wait-date', { variables: { maintenanceWindow: { type: 'String', value: '2020-03-02T09:00:00+08:00' } } }, adminPrincipal)).instance.id;
    t.deepEqual(await open(late), ['apply']);
    t.deepEqual(await armed(late), []);
  });

  test.serial(t('a 90-day timer neither fires early nor is lost across a restart'), async (t) => {
    const id = await start('long-wait');
    clock.advance(89 * DAY);
    t.is(await s.scheduler.runDue(), 0);
    // Restart: a new server on the same database and clock.
    await s.close();
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ...NO_PROCESSES, ...TEST_KEY_ENV });
    const restarted = await startServer(config, { db: s.testDb.db, log: pino({ level: 'silent' }), clock, runScheduler: false });
    Object.assign(s, { ...restarted, stop: async () => { await restarted.close(); await s.testDb.drop(); } });
    clock.advance(DAY - 1000);
    t.is(await s.scheduler.runDue(), 0, 'one second early: nothing');
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 1);
    t.deepEqual(await open(id), ['review']);
  });

  test.serial(t('a timer whose firing keeps failing backs off, raises an incident after three attempts, and waits for an administrator'), async (t) => {
    const admin = client(s.url, ADMIN.user, ADMIN.password);
    const id = await start('long-wait');
    const [timer] = await armed(id);
    // A stale row: the engine has no such timer waiting, so every firing fails.
    await s.db('timers').where({ id: timer.id }).update({ execution_id: `${timer.execution_id}-stale` });
    clock.advance(90 * DAY);
    const job = async () => (await admin.get(`/engine-rest/job/${timer.id}`)).body;
    const incidents = async () => (await admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body;
    t.like(await job(), { retries: 3, exceptionMessage: null });
    t.is(await s.scheduler.runDue(), 0);
    t.like(await job(), { retries: 2 });
    t.regex((await job()).exceptionMessage, /not waiting/);
    t.is(await s.scheduler.runDue(), 0, 'backing off: not tried again at once');
    t.deepEqual((await armed(id)).map((r: { attempts: number }) => r.attempts), [1]);
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 0);
    t.like(await job(), { retries: 1 });
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 0, 'the second backoff is two seconds');
    clock.advance(1000);
    t.is(await s.scheduler.runDue(), 0);
    t.like(await job(), { retries: 0 });
    const [incident] = await incidents();
    t.like(incident, { incidentType: 'failedJob', configuration: timer.id, activityId: 'ninetyDays' });
    t.regex(incident.incidentMessage, /not waiting/);
    // No retries left: never claimed again, however long one waits.
    clock.advance(DAY);
    t.is(await s.scheduler.runDue(), 0);
    t.deepEqual((await armed(id)).map((r: { attempts: number }) => r.attempts), [3]);
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}&noRetriesLeft=true`)).body.map((j: { id: string }) => j.id), [timer.id]);
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}&withRetriesLeft=true`)).body, []);
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}&withException=true`)).body.map((j: { id: string }) => j.id), [timer.id]);
    // The administrator repairs the cause and executes the job: it fires, and the incident is resolved.
    await s.db('timers').where({ id: timer.id }).update({ execution_id: timer.execution_id });
    t.is((await admin.post(`/engine-rest/job/${timer.id}/execute`)).status, 204);
    t.deepEqual(await open(id), ['review']);
    t.deepEqual(await incidents(), []);
    const [history] = (await admin.get(`/engine-rest/history/incident?processInstanceId=${id}`)).body;
    t.like(history, { resolved: true, configuration: timer.id });
  });

  test.serial(t('a database hiccup or a lost race backs a timer off without using up a retry; the model failing does'), async (t) => {
    const id = await start('long-wait');
    const [timer] = await armed(id);
    await s.services.timers.fail(timer, new Error('Connection terminated unexpectedly'));
    await s.services.timers.fail(timer, new ConflictError('流程实例并发修改过多 / keeps changing'));
    const [row] = await armed(id);
    t.like(row, { attempts: 2, retries: 3 });
    t.truthy(row.locked_until, 'backing off');
    await s.services.timers.fail(row, new ProcessEngineError('流程无法继续 / the process cannot continue'));
    t.like((await armed(id))[0], { attempts: 3, retries: 2 });
    // Leave nothing due for the tests after this one.
    t.is((await client(s.url, ADMIN.user, ADMIN.password).delete(`/engine-rest/process-instance/${id}`)).status, 204);
  });

  test.serial(t('an incident does not outlive its timer: deleting the instance ends it as deleted'), async (t) => {
    const admin = client(s.url, ADMIN.user, ADMIN.password);
    const id = await start('long-wait');
    const [timer] = await armed(id);
    await s.db('timers').where({ id: timer.id }).update({ execution_id: `${timer.execution_id}-stale`, retries: 1 });
    clock.advance(90 * DAY);
    t.is(await s.scheduler.runDue(), 0);
    t.is((await admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body.length, 1, 'the last retry failed');
    t.is((await admin.delete(`/engine-rest/process-instance/${id}`)).status, 204);
    t.deepEqual((await admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body, []);
    const [history] = (await admin.get(`/engine-rest/history/incident?processInstanceId=${id}`)).body;
    t.like(history, { deleted: true, configuration: timer.id });
  });

  test.serial(t('a failing timer whose instance is no longer running is removed, not retried'), async (t) => {
    const id = await start('long-wait');
    const [timer] = await armed(id);
    await s.db('timers').where({ id: timer.id }).update({ execution_id: `${timer.execution_id}-stale` });
    // As if the instance had ended without taking its timer along.
    await s.db('process_instances').where({ id }).update({ state: 'EXTERNALLY_TERMINATED' });
    clock.advance(90 * DAY);
    t.is(await s.scheduler.runDue(), 0);
    t.deepEqual(await armed(id), []);
    t.deepEqual(await s.db('incidents').where({ process_instance_id: id }), []);
  });
}

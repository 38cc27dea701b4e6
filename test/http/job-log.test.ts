import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { ProcessEngineError } from '../../src/services/engine-errors.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal } from '../helpers/fixtures.ts';
import type { Client, TestServer } from '../helpers/server.ts';
import { startTimerServer } from '../helpers/timer-server.ts';

/*
 * Issue 18, the historic job log: each instance timer is logged as it is
 * created, as a firing fails, as it fires and as it is removed unfired,
 * each row written in the transaction of that change.
 */

const HOUR = 3_600_000;
const flags = (l: { creationLog: boolean; failureLog: boolean; successLog: boolean; deletionLog: boolean }) =>
  l.creationLog ? 'creation' : l.failureLog ? 'failure' : l.successLog ? 'success' : l.deletionLog ? 'deletion' : '?';

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  test.before(async () => {
    ({ s, admin, office } = await startTimerServer(backend, clock, 'qian-office', [['log-wait', 'intermediate', 'timeDuration', 'PT1H'], ['log-late', 'boundary', 'timeDuration', 'PT2H']]));
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (key = 'log-wait') => (await s.services.instances.startByKey(key, { variables: {} }, adminPrincipal)).instance.id;
  const jobOf = async (pi: string) => (await admin.get(`/engine-rest/job?processInstanceId=${pi}`)).body[0];
  const logOf = async (pi: string) => (await admin.get(`/engine-rest/history/job-log?processInstanceId=${pi}`)).body;

  test.serial(t('a timer that fails, then fires, is logged created, failed and succeeded; the failure\'s message is its stack trace'), async (t) => {
    const pi = await start();
    const job = await jobOf(pi);
    const [row] = await s.db('timers').where({ id: job.id });
    await s.services.timers.fail(row, new ProcessEngineError('表达式错误 / bad expression'));
    clock.advance(2 * HOUR);
    t.true(await s.scheduler.runDue() >= 1);
    const log = await logOf(pi);
    t.deepEqual(log.map(flags), ['creation', 'failure', 'success'], 'no deletion: the firing removed it');
    t.like(log[0], {
      jobId: job.id, jobDefinitionId: job.jobDefinitionId, jobDefinitionType: 'timer-intermediate-transition', jobDefinitionConfiguration: 'DURATION: PT1H',
      jobRetries: 3, jobPriority: 0, jobExceptionMessage: null, failedActivityId: null, activityId: 'wait', processInstanceId: pi,
      processDefinitionKey: 'log-wait', rootProcessInstanceId: pi, tenantId: null, jobDueDate: job.dueDate,
    });
    t.like(log[1], { jobRetries: 3, jobExceptionMessage: '表达式错误 / bad expression', failedActivityId: 'wait' });
    t.truthy(log[0].deploymentId);

    const trace = await admin.get(`/engine-rest/history/job-log/${log[1].id}/stacktrace`);
    t.is(trace.status, 200);
    t.true((trace.headers.get('content-type') ?? '').startsWith('text/plain'));
    t.is(trace.body, '表达式错误 / bad expression');
    const none = await admin.get(`/engine-rest/history/job-log/${log[0].id}/stacktrace`);
    t.is(none.status, 200);
    t.is(none.body, null, 'no failure: empty text');
    t.deepEqual((await admin.get(`/engine-rest/history/job-log/${log[2].id}`)).body, log[2]);
    t.is((await admin.get('/engine-rest/history/job-log/no-such-log')).status, 404);
    const reads = await s.db('trace').where({ operation: 'Read', entity_type: 'JobLog' }).whereRaw("process_instance_id = ?", [pi]);
    t.true(reads.length >= 1, 'reads are traced with the instance');
  });

  test.serial(t('a removed timer is logged as a deletion: DELETE /job, its instance cancelled, its boundary\'s task done'), async (t) => {
    const [a, b, c] = [await start(), await start(), await start('log-late')];
    const jobA = await jobOf(a);
    t.is((await admin.delete(`/engine-rest/job/${jobA.id}`)).status, 204);
    t.is((await admin.delete(`/engine-rest/process-instance/${b}`)).status, 204);
    const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${c}`)).body;
    t.is((await admin.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
    for (const pi of [a, b, c]) t.deepEqual((await logOf(pi)).map(flags), ['creation', 'deletion'], pi);
    t.like((await logOf(c))[0], { jobDefinitionType: 'timer-transition', activityId: 'late', jobDefinitionConfiguration: 'DURATION: PT2H' });
    t.like((await logOf(a))[1], { jobId: jobA.id, jobExceptionMessage: null });
  });

  test.serial(t('queries filter, sort and page as Camunda\'s; criteria not applied are refused; outsiders see nothing'), async (t) => {
    const [a, b] = [await start(), await start('log-late')];
    const [jobA, jobB] = [await jobOf(a), await jobOf(b)];
    await admin.put(`/engine-rest/job/${jobB.id}/priority`, { priority: 7 });
    const [row] = await s.db('timers').where({ id: jobB.id });
    await s.services.timers.fail(row, new ProcessEngineError('坏了 / broken'));
    const both = { processInstanceIdIn: undefined, activityIdIn: ['wait', 'late'] };
    const count = async (q: string) => (await admin.get(`/engine-rest/history/job-log/count?${q}`)).body.count;
    t.is(await count(`jobId=${jobA.id}`), 1);
    t.is(await count(`jobId=${jobB.id}&failureLog=true`), 1);
    t.is(await count(`jobId=${jobB.id}&creationLog=true&failureLog=true`), 0, 'two states match none');
    t.is(await count(`jobId=${jobB.id}&failedActivityIdIn=late`), 1);
    t.is(await count(`jobId=${jobB.id}&jobExceptionMessage=${encodeURIComponent('坏了 / broken')}`), 1);
    t.is(await count(`jobDefinitionId=${encodeURIComponent(jobB.jobDefinitionId)}&processInstanceId=${b}`), 2);
    t.is(await count(`jobDefinitionId=${encodeURIComponent(jobA.jobDefinitionId)}&processInstanceId=${b}`), 0);
    t.is(await count(`processDefinitionKey=log-late&jobPriorityHigherThanOrEquals=7`), 1, 'the failure, logged after the priority was set');
    t.is(await count(`deploymentId=${(await logOf(a))[0].deploymentId}&processInstanceId=${a}`), 1);
    t.is(await count('deploymentId=no-such-deployment'), 0);

    const body = await admin.post('/engine-rest/history/job-log?maxResults=2', { ...both, sorting: [{ sortBy: 'jobPriority', sortOrder: 'desc' }] });
    t.is(body.status, 200);
    t.is(body.body.length, 2);
    t.is(body.body[0].jobPriority, 7);
    const byTime = (await admin.get(`/engine-rest/history/job-log?processInstanceId=${b}&sortBy=timestamp&sortOrder=desc`)).body;
    t.deepEqual(byTime.map(flags), ['failure', 'creation']);
    t.is((await admin.post('/engine-rest/history/job-log/count', { processInstanceId: b, failureLog: true })).body.count, 1);

    for (const q of ['hostname=x', 'jobDefinitionType=timer-transition', 'tenantIdIn=t1', 'sortBy=hostname&sortOrder=asc']) {
      t.is((await admin.get(`/engine-rest/history/job-log?${q}`)).status, 400, q);
    }
    t.is((await admin.post('/engine-rest/history/job-log', { jobDefinitionConfiguration: 'x' })).status, 400);
    t.is((await admin.post('/engine-rest/history/job-log', { madeUp: 1 })).status, 400);
    t.is((await office.get(`/engine-rest/history/job-log/count?processInstanceId=${a}`)).body.count, 0, 'an outsider sees none');
    const [one] = await logOf(a);
    t.is((await office.get(`/engine-rest/history/job-log/${one.id}`)).status, 404);
    t.is((await office.get(`/engine-rest/history/job-log/${one.id}/stacktrace`)).status, 404);
  });
}

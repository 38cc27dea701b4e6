import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { ProcessEngineError } from '../../src/services/engine-errors.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal } from '../helpers/fixtures.ts';
import type { Client, TestServer } from '../helpers/server.ts';
import { startTimerServer } from '../helpers/timer-server.ts';

/*
 * Issue 18 item 7, jobs: an administrator suspends, activates, re-tries and
 * deletes timer jobs as Camunda's cockpit does. A suspended job is not fired
 * by any scheduler (the claim itself passes it by); retries resolve or raise
 * the failed-job incident; a deleted timer leaves its instance waiting.
 */

const HOUR = 3_600_000;

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  test.before(async () => {
    ({ s, admin, office } = await startTimerServer(backend, clock, 'zhou-office', [['job-wait', 'intermediate', 'timeDuration', 'PT1H'], ['job-other', 'intermediate', 'timeDuration', 'PT1H']]));
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (key = 'job-wait') => (await s.services.instances.startByKey(key, { variables: {} }, adminPrincipal)).instance.id;
  const jobOf = async (pi: string) => (await admin.get(`/engine-rest/job?processInstanceId=${pi}`)).body[0];
  const state = async (pi: string) => (await s.db('process_instances').where({ id: pi }).first()).state as string;
  const operations = async (id: string) => (await s.db('trace').where({ entity_id: id }).whereNot({ operation: 'Read' }).orderBy('id')).map((r: { operation: string }) => r.operation);

  test.serial(t('a suspended job is not fired when due, by any scheduler; activated, it fires on the next pass'), async (t) => {
    const pi = await start();
    const job = await jobOf(pi);
    t.is((await office.put(`/engine-rest/job/${job.id}/suspended`, { suspended: true })).status, 403, 'administrators only');
    t.is((await admin.put(`/engine-rest/job/${job.id}/suspended`, {})).status, 400);
    t.is((await admin.put('/engine-rest/job/no-such-job/suspended', { suspended: true })).status, 404);
    t.is((await admin.put(`/engine-rest/job/${job.id}/suspended`, { suspended: true })).status, 204);
    t.true((await jobOf(pi)).suspended);
    t.is((await admin.get(`/engine-rest/job/count?suspended=true&processInstanceId=${pi}`)).body.count, 1);
    t.is((await admin.get(`/engine-rest/job/count?active=true&processInstanceId=${pi}`)).body.count, 0);
    t.false((await admin.get(`/engine-rest/process-instance/${pi}`)).body.suspended, 'the instance runs on');

    clock.advance(2 * HOUR);
    t.is(await s.scheduler.runDue(), 0);
    t.is(await state(pi), 'ACTIVE', 'the overdue timer waits');
    // A second scheduler (another server) claims from the same table: nothing for it either.
    t.deepEqual(await s.services.timers.claimDue('other-server', 10, 60_000), []);

    t.is((await admin.put(`/engine-rest/job/${job.id}/suspended`, { suspended: false })).status, 204);
    t.false((await jobOf(pi)).suspended);
    t.true(await s.scheduler.runDue() >= 1);
    t.is(await state(pi), 'COMPLETED', 'fired once activated');
    t.deepEqual(await operations(job.id), ['SuspendJob', 'ActivateJob', 'Execute']);
  });

  test.serial(t('PUT /job/suspended by definition key or job definition suspends those jobs only; criteria are checked as Camunda checks them'), async (t) => {
    const [a, b, other] = [await start(), await start(), await start('job-other')];
    const one = await admin.put('/engine-rest/job/suspended', { suspended: true, processDefinitionKey: 'job-wait', processInstanceId: a });
    t.is(one.status, 400);
    t.regex(one.body.message, /Only one of jobDefinitionId, processDefinitionId, processInstanceId or processDefinitionKey/);
    t.is((await admin.put('/engine-rest/job/suspended', { suspended: true })).status, 400, 'no selection');
    t.is((await admin.put('/engine-rest/job/suspended', { suspended: true, processDefinitionKey: 'job-wait', dueDate: 'x' })).status, 400, 'an unknown field is refused');
    t.is((await office.put('/engine-rest/job/suspended', { suspended: true, processDefinitionKey: 'job-wait' })).status, 403);

    t.is((await admin.put('/engine-rest/job/suspended', { suspended: true, processDefinitionKey: 'job-wait' })).status, 204);
    t.true((await jobOf(a)).suspended);
    t.true((await jobOf(b)).suspended);
    t.false((await jobOf(other)).suspended);

    const jobDefinitionId = (await jobOf(a)).jobDefinitionId;
    t.is((await admin.put('/engine-rest/job/suspended', { suspended: false, jobDefinitionId })).status, 204);
    t.false((await jobOf(a)).suspended);
    t.is((await admin.put('/engine-rest/job/suspended', { suspended: true, processInstanceId: b })).status, 204, 'already suspended: nothing to change');
    t.is((await admin.put('/engine-rest/job/suspended', { suspended: false, processInstanceId: b })).status, 204);
    t.false((await jobOf(b)).suspended);
    for (const pi of [a, b, other]) t.is((await admin.delete(`/engine-rest/process-instance/${pi}`)).status, 204);
  });

  test.serial(t('a job of a suspended instance cannot be activated alone, and one being fired cannot be suspended'), async (t) => {
    const pi = await start();
    const job = await jobOf(pi);
    t.is((await admin.put(`/engine-rest/job/${job.id}/suspended`, { suspended: true })).status, 204);
    t.is((await admin.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: true })).status, 204);
    const refused = await admin.put(`/engine-rest/job/${job.id}/suspended`, { suspended: false });
    t.is(refused.status, 409);
    t.regex(refused.body.message, /activate the instance first/);
    t.is((await admin.put(`/engine-rest/process-instance/${pi}/suspended`, { suspended: false })).status, 204);
    t.true((await jobOf(pi)).suspended, 'its own suspension stays');
    t.is((await admin.put(`/engine-rest/job/${job.id}/suspended`, { suspended: false })).status, 204);

    clock.advance(2 * HOUR);
    const [claimed] = await s.services.timers.claimDue('firing-server', 10, 60_000);
    t.is(claimed.id, job.id);
    t.is((await admin.put(`/engine-rest/job/${job.id}/suspended`, { suspended: true })).status, 409, 'being fired');
    t.is((await admin.delete(`/engine-rest/job/${job.id}`)).status, 409, 'nor deleted');
    await s.services.timers.fire(claimed);
    t.is(await state(pi), 'COMPLETED');
  });

  test.serial(t('retries: none left raise the failed-job incident, retries again resolve it and the timer fires; the stack trace is the failure message'), async (t) => {
    const pi = await start();
    const job = await jobOf(pi);
    t.is((await office.put(`/engine-rest/job/${job.id}/retries`, { retries: 1 })).status, 403);
    const negative = await admin.put(`/engine-rest/job/${job.id}/retries`, { retries: -1 });
    t.is(negative.status, 400);
    t.regex(negative.body.message, /non-negative Integer/);
    t.is((await admin.put(`/engine-rest/job/${job.id}/retries`, { retries: 'two' })).status, 400);
    t.is((await admin.put('/engine-rest/job/no-such-job/retries', { retries: 1 })).status, 404);

    const [row] = await s.db('timers').where({ id: job.id });
    await s.services.timers.fail(row, new ProcessEngineError('流程无法继续 / the process cannot continue'));
    const trace = await admin.get(`/engine-rest/job/${job.id}/stacktrace`);
    t.is(trace.status, 200);
    t.true((trace.headers.get('content-type') ?? '').startsWith('text/plain'));
    t.is(trace.body, '流程无法继续 / the process cannot continue');

    t.is((await admin.put(`/engine-rest/job/${job.id}/retries`, { retries: 0 })).status, 204);
    t.is((await jobOf(pi)).retries, 0);
    const [incident] = (await admin.get(`/engine-rest/incident?processInstanceId=${pi}`)).body;
    t.like(incident, { incidentType: 'failedJob', configuration: job.id });
    clock.advance(2 * HOUR);
    t.is(await s.scheduler.runDue(), 0, 'no retries: it waits for a person');

    t.is((await admin.put(`/engine-rest/job/${job.id}/retries`, { retries: 2 })).status, 204);
    t.deepEqual((await admin.get(`/engine-rest/incident?processInstanceId=${pi}`)).body, []);
    const [history] = (await admin.get(`/engine-rest/history/incident?processInstanceId=${pi}`)).body;
    t.like(history, { resolved: true });
    t.true(await s.scheduler.runDue() >= 1, 'given retries, it is tried at once (its backoff dropped)');
    t.is(await state(pi), 'COMPLETED');
    t.deepEqual(await operations(job.id), ['SetJobRetries', 'SetJobRetries', 'Execute']);
  });

  test.serial(t('a job\'s priority is kept and shown; due time, not priority, decides what fires'), async (t) => {
    const [late, early] = [await start(), await start()];
    const [lateJob, earlyJob] = [await jobOf(late), await jobOf(early)];
    t.is(lateJob.priority, 0);
    t.is((await office.put(`/engine-rest/job/${lateJob.id}/priority`, { priority: 10 })).status, 403);
    t.is((await admin.put(`/engine-rest/job/${lateJob.id}/priority`, { priority: 'high' })).status, 400);
    t.is((await admin.put(`/engine-rest/job/${lateJob.id}/priority`, {})).status, 400);
    t.is((await admin.put('/engine-rest/job/no-such-job/priority', { priority: 1 })).status, 404);
    t.is((await admin.put(`/engine-rest/job/${lateJob.id}/priority`, { priority: 10 })).status, 204);
    t.is((await jobOf(late)).priority, 10);
    t.is((await jobOf(early)).priority, 0);
    t.deepEqual(await operations(lateJob.id), ['SetPriority']);
    // Due time, not priority, orders the firing (Camunda's default, jobExecutorAcquireByPriority false).
    await s.db('timers').where({ id: earlyJob.id }).update({ due_at: new Date(clock.peek().getTime() + 10 * 60_000) });
    clock.advance(30 * 60_000);
    t.is(await s.scheduler.runDue(), 1);
    t.is(await state(early), 'COMPLETED');
    t.is(await state(late), 'ACTIVE');
    for (const pi of [late]) t.is((await admin.delete(`/engine-rest/process-instance/${pi}`)).status, 204);
  });

  test.serial(t('a deleted timer job never fires; its instance keeps waiting at the timer and can still be cancelled'), async (t) => {
    const pi = await start();
    const job = await jobOf(pi);
    t.is((await office.delete(`/engine-rest/job/${job.id}`)).status, 403);
    t.is((await admin.delete(`/engine-rest/job/${job.id}`)).status, 204);
    t.is((await admin.get(`/engine-rest/job/${job.id}`)).status, 404);
    t.is((await admin.delete(`/engine-rest/job/${job.id}`)).status, 404);
    clock.advance(2 * HOUR);
    t.is(await s.scheduler.runDue(), 0);
    t.is(await state(pi), 'ACTIVE');
    const activities = (await admin.get(`/engine-rest/process-instance/${pi}/activity-instances`)).body;
    t.deepEqual(activities.childActivityInstances.map((a: { activityId: string }) => a.activityId), ['wait'], 'still at the timer');
    t.deepEqual(await operations(job.id), ['Delete']);
    t.is((await admin.delete(`/engine-rest/process-instance/${pi}`)).status, 204);
  });
}

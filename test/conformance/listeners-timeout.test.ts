import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { deployFixture } from './helpers.ts';
import { assertNothingOpen, complete, openKeys, start, taskEnds, variablesOf, conformanceSuite, type Conformance } from './events-kit.ts';

/*
 * `timeout` task listeners (Camunda 7.12+), over REST on both databases: the
 * timers of a user task's timeout listeners are armed when it is created
 * (GET /job lists them) and fired by the scheduler, driven by hand on an
 * injected clock; the listener runs with `task` and the task stays open;
 * what it set is saved; a cycle fires its count; the timers go with the
 * task. A failing listener fails its timer as any failing timer does.
 */

const HOUR = 3_600_000;

/** The instance's armed timers over REST, as `<hours from now>` sorted. */
async function jobs(c: Conformance, clock: ManualClock, id: string): Promise<number[]> {
  const r = await c.admin.get(`/engine-rest/job?processInstanceId=${id}`);
  if (r.status !== 200) throw new Error(`jobs: ${r.status}`);
  const now = (await clock.now()).getTime();
  return r.body.map((j: { dueDate: string }) => (new Date(j.dueDate).getTime() - now) / HOUR).sort();
}

const REFUSED: [fixture: string, says: RegExp][] = [
  ['task-timeout-expression', /review.*timeout listener needs one timer definition .* valid literal value or expression/],
  ['task-timeout-no-timer', /review.*timeout listener needs one timer definition/],
  ['task-timeout-bad-duration', /timeout listener timer of task review: .*invalid duration .*banana/],
];

conformanceSuite(['task-timeout.bpmn', 'task-timeout-date.bpmn', 'task-timeout-expr.bpmn'], 'tto', (c, t, clockOf) => {
  const clock = clockOf as ManualClock;
  const fire = () => c.server.scheduler.runDue();
  const log = async (id: string) => JSON.parse((await variablesOf(c, id)).log as string);
  const taskOf = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body[0];
  const nudges = async (executionId: string) => (await c.admin.get(`/engine-rest/execution/${executionId}/localVariables/nudges`)).body.value;

  test.serial(t('the task\'s timeout timers are armed when it is created; when due the listener runs, the task stays open, a cycle fires its count'), async (t) => {
    const id = await start(c, 'task-timeout');
    t.deepEqual(await jobs(c, clock, id), [1, 2]);
    clock.advance(HOUR - 1000);
    t.is(await fire(), 0, 'not before it is due');
    clock.advance(1000);
    t.is(await fire(), 1);
    t.deepEqual(await log(id), ['create', 'remind:timeout']);
    const task = await taskOf(id);
    t.is(task.taskDefinitionKey, 'review', 'the task stays open');
    t.is(await nudges(task.executionId), 1, 'the listener changed the task\'s local variable');
    t.deepEqual(await jobs(c, clock, id), [1], 'a duration fires once; the cycle waits');
    clock.advance(HOUR);
    t.is(await fire(), 1);
    t.deepEqual(await jobs(c, clock, id), [2], 'the cycle is armed again');
    clock.advance(2 * HOUR);
    t.is(await fire(), 1);
    t.deepEqual(await jobs(c, clock, id), [], 'R2: two firings');
    t.deepEqual(await log(id), ['create', 'remind:timeout', 'chase', 'chase']);
    t.deepEqual(await openKeys(c, id), ['review']);
    await complete(c, id, 'review');
    await assertNothingOpen(t, c, id);
    t.is((await variablesOf(c, id)).nudgesOut, 1);
    t.deepEqual(await taskEnds(c, id), ['review:completed']);
  });

  test.serial(t('the timers go with the task when it is completed first'), async (t) => {
    const id = await start(c, 'task-timeout');
    clock.advance(HOUR / 2);
    await complete(c, id, 'review');
    t.deepEqual(await jobs(c, clock, id), []);
    clock.advance(5 * HOUR);
    t.is(await fire(), 0);
    t.deepEqual(await log(id), ['create']);
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('the timers go with the instance when it is deleted'), async (t) => {
    const id = await start(c, 'task-timeout');
    t.is((await c.admin.delete(`/engine-rest/process-instance/${id}`)).status, 204);
    t.deepEqual(await jobs(c, clock, id), []);
    clock.advance(5 * HOUR);
    t.is(await fire(), 0);
  });

  test.serial(t('a timeDate timeout fires at its date'), async (t) => {
    const id = await start(c, 'task-timeout-date');
    const due = new Date('2027-01-01T05:00:00Z');
    t.is(new Date((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body[0].dueDate).getTime(), due.getTime());
    clock.set(new Date(due.getTime() - 1000));
    t.is(await fire(), 0, 'not before its date');
    clock.set(due);
    t.is(await fire(), 1);
    t.is((await variablesOf(c, id)).x, 1);
    t.deepEqual(await openKeys(c, id), ['review']);
    await complete(c, id, 'review');
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('a failing timeout listener fails its timer: retries with backoff, then an incident; nothing it set is saved; executed by hand once fixed'), async (t) => {
    const id = await start(c, 'task-timeout', { fail: true });
    clock.advance(HOUR);
    const now = await clock.now();
    const [remind] = (await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body.filter((j: { dueDate: string }) => new Date(j.dueDate) <= now);
    const job = async () => (await c.admin.get(`/engine-rest/job/${remind.id}`)).body;
    t.is(await fire(), 0);
    t.like(await job(), { retries: 2 });
    t.regex((await job()).exceptionMessage, /reminder failed on purpose/);
    for (const wait of [1000, 2000]) {
      clock.advance(wait);
      t.is(await fire(), 0);
    }
    t.like(await job(), { retries: 0 });
    const incidents = async () => (await c.admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body;
    t.like((await incidents())[0], { incidentType: 'failedJob', configuration: remind.id, activityId: 'review' });
    t.deepEqual(await log(id), ['create'], 'nothing the failing listener did is saved');
    t.deepEqual(await openKeys(c, id), ['review']);
    t.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/fail`, { value: false, type: 'Boolean' })).status, 204);
    t.is((await c.admin.post(`/engine-rest/job/${remind.id}/execute`, {})).status, 204);
    t.deepEqual(await log(id), ['create', 'remind:timeout']);
    t.deepEqual(await incidents(), [], 'its incident is resolved');
    t.is((await c.admin.get(`/engine-rest/job/${remind.id}`)).status, 404);
    await c.admin.delete(`/engine-rest/process-instance/${id}`);
  });

  test.serial(t('timer values that are expressions are resolved when the task is created; a cycle repeats the resolved value'), async (t) => {
    const id = await start(c, 'task-timeout-expr', { wait: 'PT2H', cycle: 'R2/PT3H' });
    t.deepEqual(await jobs(c, clock, id), [2, 3], 'armed from the resolved values');
    t.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/wait`, { value: 'PT9H', type: 'String' })).status, 204);
    clock.advance(2 * HOUR);
    t.is(await fire(), 1);
    t.is((await variablesOf(c, id)).reminded, 'timeout', 'the expression-form timeout listener ran');
    clock.advance(HOUR);
    t.is(await fire(), 1);
    t.is((await variablesOf(c, id)).nags, 1);
    t.deepEqual(await jobs(c, clock, id), [3], 'the cycle\'s next firing, from the value resolved at creation');
    clock.advance(3 * HOUR);
    t.is(await fire(), 1);
    t.deepEqual(await jobs(c, clock, id), [], 'R2: fired twice');
    await complete(c, id, 'review');
    await assertNothingOpen(t, c, id);
    const bad = await c.office.post('/engine-rest/process-definition/key/task-timeout-expr/start', { variables: { wait: { value: 'banana' }, cycle: { value: 'R2/PT3H' } } });
    t.is(bad.status, 400, JSON.stringify(bad.body));
    t.regex(bad.body.message, /review.*timeout listener timer of task review \(\$\{wait\}\)/);
  });

  test.serial(t('a timeout listener without one literal, valid timer is refused at deployment, naming the task'), async (t) => {
    for (const [fixture, says] of REFUSED) {
      const r = await deployFixture(c.server, fixture);
      t.is(r.status, 400, fixture);
      t.regex(JSON.stringify(r.body), says, fixture);
    }
  });
}, () => new ManualClock(new Date('2026-12-01T01:00:00Z')));

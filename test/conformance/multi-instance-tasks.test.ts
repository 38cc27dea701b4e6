import test from 'ava';
import { conformanceSuite } from './events-kit.ts';
import { assertNothingLeft, assertRefusedFixture, json, start, tasksOf } from './helpers.ts';

/*
 * Multi-instance on external and script tasks as Camunda 7 runs it: one
 * external task per instance, whose fetchAndLock carries the instance's own
 * variables (element variable, loopCounter) and the body's nrOf* counters;
 * a completion condition closing the other instances' external tasks in the
 * same command; script tasks running once per instance with the loop
 * variables as locals; history with one activity instance per instance.
 */

const int = (value: number) => ({ value, type: 'Integer' });
const RECIPIENTS = ['张三', 'li-si', 'wang-wu'];

conformanceSuite(['mi-external', 'mi-external-sequential', 'mi-external-condition', 'mi-script', 'mi-script-parallel'], 'mi-tasks', (c, t) => {
  async function fetch(topic: string, maxTasks: number, variables?: string[]): Promise<any[]> {
    const r = await c.worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks, topics: [{ topicName: topic, lockDuration: 60_000, ...(variables ? { variables } : {}) }] });
    if (r.status !== 200) throw new Error(`fetchAndLock: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  }
  const done = (id: string, variables: Record<string, unknown> = {}) => c.worker.post(`/engine-rest/external-task/${id}/complete`, { workerId: 'w1', variables });
  const value = (task: any, name: string) => task.variables[name]?.value;

  async function finishAfter(id: string) {
    const [after] = await tasksOf(c.admin, id);
    if (after?.taskDefinitionKey !== 'after') throw new Error(`expected the task after the loop, got ${JSON.stringify(after)}`);
    const r = await c.office.post(`/engine-rest/task/${after.id}/complete`, {});
    if (r.status !== 204) throw new Error(`complete after: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const activities = async (id: string, activityId: string) =>
    (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=${encodeURIComponent(activityId)}`)).body;

  test.serial(t('parallel external tasks: one per element, each fetched with its own element variable and loopCounter, counters as they stand'), async (t) => {
    const id = await start(c.admin, 'mi-external', { recipients: json(RECIPIENTS) });
    const open = (await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body;
    t.is(open.length, 3);
    t.true(open.every((x: any) => x.activityId === 'notify' && x.topicName === 'mi-notify'));
    t.is(new Set(open.map((x: any) => x.executionId)).size, 3, 'each instance has an execution of its own');

    const [first] = await fetch('mi-notify', 1);
    t.is(value(first, 'recipient'), RECIPIENTS[value(first, 'loopCounter')], 'the element of its own loopCounter');
    t.deepEqual([value(first, 'nrOfInstances'), value(first, 'nrOfActiveInstances'), value(first, 'nrOfCompletedInstances')], [3, 3, 0]);
    t.deepEqual(JSON.parse(value(first, 'recipients')), RECIPIENTS, 'the process variables too');
    t.is((await done(first.id)).status, 204);

    const rest = await fetch('mi-notify', 5, ['recipient', 'nrOfCompletedInstances', 'nrOfActiveInstances']);
    t.is(rest.length, 2);
    t.deepEqual(rest.map((x) => Object.keys(x.variables).sort()), [0, 1].map(() => ['nrOfActiveInstances', 'nrOfCompletedInstances', 'recipient']), 'only the names asked for');
    t.deepEqual([...rest.map((x) => value(x, 'recipient')), value(first, 'recipient')].sort(), [...RECIPIENTS].sort(), 'every element once');
    t.true(rest.every((x) => value(x, 'nrOfCompletedInstances') === 1 && value(x, 'nrOfActiveInstances') === 2));
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body.recipient, undefined, 'the element variable is no process variable');
    for (const x of rest) t.is((await done(x.id)).status, 204);

    const rows = await activities(id, 'notify');
    t.is(rows.length, 3, 'one activity instance per element');
    t.true(rows.every((a: any) => a.endTime && !a.canceled));
    t.is((await activities(id, 'notify#multiInstanceBody')).length, 1);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('sequential external tasks: the next one is created when the previous completes; the completion condition stops the loop'), async (t) => {
    const id = await start(c.admin, 'mi-external-sequential', { recipients: json(RECIPIENTS), stop: { value: false, type: 'Boolean' } });
    const [a] = await fetch('mi-notify-seq', 5);
    t.deepEqual([value(a, 'recipient'), value(a, 'loopCounter'), value(a, 'nrOfActiveInstances'), value(a, 'nrOfCompletedInstances')], [RECIPIENTS[0], 0, 1, 0]);
    t.deepEqual(await fetch('mi-notify-seq', 5), [], 'one at a time');
    t.is((await done(a.id)).status, 204);
    const [b] = await fetch('mi-notify-seq', 5);
    t.deepEqual([value(b, 'recipient'), value(b, 'loopCounter'), value(b, 'nrOfCompletedInstances')], [RECIPIENTS[1], 1, 1]);
    t.is((await done(b.id, { stop: { value: true } })).status, 204);
    t.deepEqual(await fetch('mi-notify-seq', 5), [], 'no third instance: the condition held');
    t.deepEqual((await tasksOf(c.admin, id)).map((x) => x.taskDefinitionKey), ['after']);
    const rows = await activities(id, 'notify');
    t.deepEqual(rows.map((r: any) => r.canceled), [false, false]);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('completion condition on parallel external tasks: three workers complete at once, the third is closed with the loop in the same command'), async (t) => {
    const id = await start(c.admin, 'mi-external-condition', { copies: int(3) });
    const locked = await fetch('mi-scan', 5);
    t.is(locked.length, 3);
    t.deepEqual(locked.map((x) => value(x, 'loopCounter')).sort(), [0, 1, 2]);
    const answers = await Promise.all(locked.map((x) => done(x.id)));
    // The third finds its task closed (404), or, racing the command that closed it, loses as Camunda's would (409).
    const statuses = answers.map((r) => r.status);
    t.deepEqual(statuses.filter((s) => s === 204), [204, 204], JSON.stringify(answers.map((r) => r.body)));
    const late = answers.find((r) => r.status !== 204)!;
    t.true([404, 409].includes(late.status), JSON.stringify(late.body));
    t.is(typeof late.body.message, 'string');
    t.deepEqual((await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body, [], 'no external task left open');
    t.deepEqual((await tasksOf(c.admin, id)).map((x) => x.taskDefinitionKey), ['after'], 'the flow went on once');
    const ends = await c.server.db('external_tasks').where({ process_instance_id: id }).pluck('end_reason');
    t.deepEqual(ends.sort(), ['completed', 'completed', 'deleted']);
    t.deepEqual((await activities(id, 'scan')).map((a: any) => a.canceled).sort(), [false, false, true], 'history says one was cancelled');
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('sequential script task: runs once per element with the loop variables as its locals, until the completion condition holds'), async (t) => {
    const id = await start(c.admin, 'mi-script', { items: json([1, 2, 3, 4]), total: int(0), limit: int(5), seen: { value: '', type: 'String' } });
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.total.value, 6, '1 + 2 + 3: the fourth never ran');
    t.is(vars.seen.value, '0:1/4;1:2/4;2:3/4;');
    t.is(vars.loopCounter, undefined, 'setting a local changes the local, not a process variable');
    t.is(vars.item, undefined);
    const rows = await activities(id, 'score');
    t.is(rows.length, 3);
    t.true(rows.every((a: any) => a.endTime && !a.canceled));
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('parallel script task: every element, each with its own loopCounter'), async (t) => {
    const id = await start(c.admin, 'mi-script-parallel', { items: json([1, 2, 3]), total: int(0), limit: int(100), seen: { value: '', type: 'String' } });
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.total.value, 6);
    t.is(vars.seen.value, '0:1/3;1:2/3;2:3/3;');
    t.is((await activities(id, 'score')).length, 3);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('what still differs is refused at deployment, naming each element, and nothing is stored'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'mi-refused-more', [
      ['score', /parallel multi-instance script task score cannot have a completionCondition/],
      ['call', /camunda:out variables="all" on the multi-instance call activity call/],
      ['plain', /multi-instance on plain \(ServiceTask\)/],
    ]);
  });
});


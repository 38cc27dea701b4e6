import test from 'ava';
import { assertNothingOpen, complete, openKeys, passed, start, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * camunda:inputOutput (Camunda 7): input parameters (text, expressions,
 * lists, maps) are the element's local variables, seen by its own
 * attributes and output parameters but not by the process; output
 * parameters write process variables when the element ends, before its
 * outgoing flows are chosen.
 */

conformanceSuite(['io-mapping.bpmn', 'io-subprocess.bpmn'], 'io', (c, t) => {

  test.serial(t('input parameters resolve the task\'s attributes; output parameters set process variables and steer the gateway'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'io-office', round: 1 });
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(task.taskDefinitionKey, 'review');
    t.is(task.assignee, 'io-office', 'assignee from the input parameter reviewer = ${who}');
    t.is(task.name, '审核 第 2 轮', 'name from the input parameter label');
    const during = await variablesOf(c, id);
    for (const local of ['reviewer', 'label', 'fixed', 'steps', 'meta']) t.false(local in during, `${local} stays local to the task`);

    await complete(c, id, 'review', { approved: true });
    const ext = await c.worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'io-w', maxTasks: 5, topics: [{ topicName: 'io-mapped', lockDuration: 60_000 }] });
    t.is(ext.status, 200);
    const work = ext.body.find((x: { processInstanceId: string }) => x.processInstanceId === id);
    t.truthy(work, 'the external task\'s topic is resolved from its input parameter kind');
    // Lists and maps are Json variables, as in Camunda with Spin.
    const vars = await variablesOf(c, id);
    t.is(vars.decision, '同意');
    t.is(vars.reviewedBy, 'io-office');
    t.deepEqual(JSON.parse(vars.trail as string), ['固定值', '第 2 轮'], 'a list output over the task\'s local variables');
    t.deepEqual(JSON.parse(vars.summary as string), { meta: { round: 1, tags: ['a', 'b'] }, steps: ['起草', 'io-office'] }, 'a map output of the list and map inputs');
    t.false('kind' in vars);

    const done = await c.worker.post(`/engine-rest/external-task/${work.id}/complete`, { workerId: 'io-w', variables: { result: { value: 'ok' } } });
    t.is(done.status, 204, JSON.stringify(done.body));
    await assertNothingOpen(t, c, id);
    const end = await variablesOf(c, id);
    t.is(end.workResult, 'ok (mapped)');
    t.is(end.eventMark, 'done-ok (mapped)', 'an event\'s input and output parameters');
    t.false('mark' in end);
    t.true((await passed(c, id)).includes('end'));
  });

  test.serial(t('an output parameter decides the outgoing flow of the next gateway'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'io-office', round: 0 });
    await complete(c, id, 'review', { approved: false });
    await assertNothingOpen(t, c, id);
    t.is((await variablesOf(c, id)).decision, '退回');
    t.true((await passed(c, id)).includes('rejected'));
    t.deepEqual(await openKeys(c, id), []);
  });

  test.serial(t('a sub-process\'s output parameter is resolved when it ends, over what its children set'), async (t) => {
    const id = await start(c, 'io-subprocess');
    await complete(c, id, 'inner', { score: 21 });
    const [after] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(after.name, '后续 42');
    t.is((await variablesOf(c, id)).subResult, 42);
    await complete(c, id, 'after');
    await assertNothingOpen(t, c, id);
  });
});

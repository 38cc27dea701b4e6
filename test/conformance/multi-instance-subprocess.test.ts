import test from 'ava';
import { conformanceSuite } from './events-kit.ts';
import { assertNothingLeft, json, start, tasksOf } from './helpers.ts';

/*
 * Multi-instance embedded sub-processes as Camunda 7 runs them: each
 * instance a scope of its own, whose elements read the instance's loop
 * variables before the process's and write other variables to the process;
 * a task of one instance completes only that instance's; a completion
 * condition ends the other instances with everything open inside them.
 */

const str = (value: string) => ({ value, type: 'String' });
const REGIONS = ['east', 'west', 'north'];

conformanceSuite(['mi-subprocess', 'mi-subprocess-condition', 'mi-subprocess-sequential', 'subprocess-variables'], 'mi-sub', (c, t) => {
  const activities = async (id: string, activityId: string) =>
    (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=${encodeURIComponent(activityId)}`)).body;
  const completeTask = async (task: any) => {
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, {});
    if (r.status !== 204) throw new Error(`complete ${task.name}: ${r.status} ${JSON.stringify(r.body)}`);
  };
  async function finishAfter(id: string) {
    const open = await tasksOf(c.admin, id);
    if (open.length !== 1 || open[0].taskDefinitionKey !== 'after') throw new Error(`expected only the task after the loop, got ${JSON.stringify(open)}`);
    await completeTask(open[0]);
  }

  test.serial(t('parallel: each instance a scope; its task completes only itself; its script writes the process variable; workers get the instance variables'), async (t) => {
    const id = await start(c.admin, 'mi-subprocess', { regionList: json(REGIONS.slice(0, 2)), checked: str(''), region: str('global') });
    const tasks = await tasksOf(c.admin, id);
    t.deepEqual(tasks.map((x) => x.name).sort(), ['检查 east #0', '检查 west #1'], 'the instance variable hides the process variable of the same name');
    t.is(new Set(tasks.map((x) => x.executionId)).size, 2);
    await completeTask(tasks.find((x) => x.name === '检查 west #1'));
    t.deepEqual((await tasksOf(c.admin, id)).map((x) => x.name), ['检查 east #0'], "the other instance's task stays open");
    await completeTask(tasks.find((x) => x.name === '检查 east #0'));

    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.checked.value, 'west@1;east@0;', 'what the inner script set is the process variable');
    t.is(vars.region.value, 'global', 'the process variable of the same name is untouched');
    t.is(vars.loopCounter, undefined);

    const r = await c.worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks: 5, topics: [{ topicName: 'mi-sub-scan', lockDuration: 60_000 }] });
    t.is(r.body.length, 2);
    t.deepEqual(r.body.map((x: any) => `${x.variables.region.value}@${x.variables.loopCounter.value}/${x.variables.nrOfInstances.value}`).sort(), ['east@0/2', 'west@1/2']);
    t.true(r.body.every((x: any) => x.variables.checked.value === 'west@1;east@0;'));
    for (const x of r.body) t.is((await c.worker.post(`/engine-rest/external-task/${x.id}/complete`, { workerId: 'w1' })).status, 204);

    const instances = await activities(id, 'regions');
    t.is(instances.length, 2, 'one activity instance per instance of the sub-process');
    t.true(instances.every((a: any) => a.endTime && !a.canceled));
    t.is((await activities(id, 'regions#multiInstanceBody')).length, 1);
    t.is((await activities(id, 'inspect')).length, 2);
    t.is((await activities(id, 'subEnd')).length, 2);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('completion condition: the instances still running end with their open tasks, in the same command; history says so'), async (t) => {
    const id = await start(c.admin, 'mi-subprocess-condition', { regionList: json(REGIONS) });
    const tasks = await tasksOf(c.admin, id);
    t.deepEqual(tasks.map((x) => x.name).sort(), ['确认 east 0/3', '确认 north 2/3', '确认 west 1/3']);
    await completeTask(tasks.find((x) => x.name === '确认 north 2/3'));
    t.is((await tasksOf(c.admin, id)).length, 2, '1 of 3 is not 2');
    await completeTask(tasks.find((x) => x.name === '确认 east 0/3'));
    const late = await c.office.post(`/engine-rest/task/${tasks.find((x) => x.name === '确认 west 1/3').id}/complete`, {});
    t.is(late.status, 404, "west's task ended with the loop");
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=confirm`)).body;
    t.deepEqual(history.map((h: any) => `${h.name}:${h.deleteReason}`).sort(), ['确认 east 0/3:completed', '确认 north 2/3:completed', '确认 west 1/3:deleted']);
    t.deepEqual((await activities(id, 'regions')).map((a: any) => a.canceled).sort(), [false, false, true]);
    t.deepEqual((await activities(id, 'confirm')).map((a: any) => a.canceled).sort(), [false, false, true]);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('a plain sub-process: what its script sets, existing or new, is the process variable'), async (t) => {
    const id = await start(c.admin, 'subprocess-variables', { region: str('east'), checked: str('') });
    const [inspect] = await tasksOf(c.admin, id);
    t.is(inspect.name, '检查 east');
    await completeTask(inspect);
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.checked.value, 'east;');
    t.is(vars.fresh.value, 'set inside');
    const [after] = await tasksOf(c.admin, id);
    t.is(after.name, '归档 set inside', 'seen by what follows the sub-process');
    await completeTask(after);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('sequential: the next instance starts when the previous one ends, until the completion condition holds'), async (t) => {
    const id = await start(c.admin, 'mi-subprocess-sequential', { regionList: json(REGIONS) });
    for (const name of ['确认 east 0/3', '确认 west 1/3']) {
      const open = await tasksOf(c.admin, id);
      t.deepEqual(open.map((x) => x.name), [name], 'one instance at a time');
      await completeTask(open[0]);
    }
    t.deepEqual((await activities(id, 'regions')).map((a: any) => a.canceled), [false, false], 'no third instance');
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });
});

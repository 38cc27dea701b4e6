import test from 'ava';
import { conformanceSuite } from './events-kit.ts';
import { assertNothingLeft, json, start, tasksOf } from './helpers.ts';

/*
 * `camunda:in variables="all"` on a sequential multi-instance call activity,
 * as Camunda 7 runs it: the instance's execution sees the process variables,
 * its own element variable and loopCounter, and the body's counters
 * (nrOfInstances, nrOfActiveInstances = 1, nrOfCompletedInstances = the
 * instances before it), and the child is given all of them, each child when
 * it starts (the next one in the command that ended the one before). On a
 * parallel one, and `camunda:out variables="all"` on any, it stays refused
 * (call-activity.test.ts, call-activity-multi-instance.test.ts).
 */

conformanceSuite(['ca-child.bpmn', 'ca-mi-in-all.bpmn'], 'ca-mi-all', (c, t) => {
  async function runningChild(parent: string): Promise<{ id: string; vars: Record<string, { value: unknown; type: string }> }> {
    const list = (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${parent}`)).body as { id: string }[];
    if (list.length !== 1) throw new Error(`expected one running child, got ${list.length}`);
    const id = list[0]!.id;
    return { id, vars: (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body };
  }
  const plain = (vars: Record<string, { value: unknown; type: string }>) => Object.fromEntries(Object.entries(vars).map(([k, v]) => [k, `${v.type}:${JSON.stringify(v.value)}`]));

  test.serial(t('each child gets the process variables and its instance\'s loop variables with the counters as they stand'), async (t) => {
    const parent = await start(c.office, 'ca-mi-in-all', { items: json(['a', 'b']), shared: { value: 'S', type: 'String' } });
    const first = await runningChild(parent);
    t.like(plain(first.vars), {
      shared: 'String:"S"', item: 'String:"a"', loopCounter: 'Integer:0',
      nrOfInstances: 'Integer:2', nrOfActiveInstances: 'Integer:1', nrOfCompletedInstances: 'Integer:0',
    });
    t.is(first.vars.items?.type, 'Json', 'a process variable keeps its type');
    const [task] = await tasksOf(c.admin, first.id);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
    const second = await runningChild(parent);
    t.not(second.id, first.id);
    t.like(plain(second.vars), {
      shared: 'String:"S"', item: 'String:"b"', loopCounter: 'Integer:1',
      nrOfInstances: 'Integer:2', nrOfActiveInstances: 'Integer:1', nrOfCompletedInstances: 'Integer:1',
    });
    const [task2] = await tasksOf(c.admin, second.id);
    t.is((await c.office.post(`/engine-rest/task/${task2.id}/complete`, {})).status, 204);
    const open = await tasksOf(c.admin, parent);
    t.deepEqual(open.map((x) => x.taskDefinitionKey), ['after']);
    const parentVars = (await c.admin.get(`/engine-rest/process-instance/${parent}/variables`)).body;
    t.false('loopCounter' in parentVars, 'the loop variables stay the instances\' own');
    t.is((await c.office.post(`/engine-rest/task/${open[0].id}/complete`, {})).status, 204);
    await assertNothingLeft(t, c.server, c.admin, parent);
  });
});

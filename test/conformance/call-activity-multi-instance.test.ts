import test from 'ava';
import { conformanceSuite, stateOf } from './events-kit.ts';
import { assertNothingLeft, assertRefusedFixture, json, start, tasksOf } from './helpers.ts';

/*
 * Multi-instance call activities (Camunda 7): one child instance per loop
 * instance, each given by camunda:in what its own scope holds (the element
 * variable, loopCounter) before the process variables; the caller goes on
 * once every child ended, or the completion condition held, which ends the
 * children still running (INTERNALLY_TERMINATED, their tasks closed) in the
 * same command. camunda:out (call-activity-multi-instance-out.test.ts) but
 * variables="all" or to a loop variable is refused at deployment.
 */

const int = (value: number) => ({ value, type: 'Integer' });
const str = (value: string) => ({ value, type: 'String' });

conformanceSuite(['ca-child.bpmn', 'ca-mi-parallel.bpmn', 'ca-mi-sequential.bpmn', 'ca-mi-error.bpmn'], 'ca-mi', (c, t) => {
  async function children(parent: string): Promise<{ id: string; vars: Record<string, unknown> }[]> {
    const list = (await c.admin.get(`/engine-rest/history/process-instance?superProcessInstanceId=${parent}`)).body as { id: string }[];
    const out = [];
    for (const { id } of list) {
      const vars = (await c.admin.get(`/engine-rest/history/variable-instance?processInstanceId=${id}`)).body as { name: string; value: unknown }[];
      out.push({ id, vars: Object.fromEntries(vars.map((v) => [v.name, v.value])) });
    }
    return out.sort((a, b) => Number(a.vars.childIndex) - Number(b.vars.childIndex));
  }
  const running = async (parent: string) => (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${parent}`)).body.map((i: { id: string }) => i.id).sort();
  async function completeWork(child: string) {
    const [task] = await tasksOf(c.admin, child);
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, {});
    if (r.status !== 204) throw new Error(`complete work of ${child}: ${r.status} ${JSON.stringify(r.body)}`);
  }
  async function finishAfter(parent: string) {
    const open = await tasksOf(c.admin, parent);
    if (open.length !== 1 || open[0].taskDefinitionKey !== 'after') throw new Error(`expected only 'after', got ${JSON.stringify(open)}`);
    await c.office.post(`/engine-rest/task/${open[0].id}/complete`, {});
  }
  async function assertTerminated(tt: any, id: string) {
    tt.is(await stateOf(c, id), 'INTERNALLY_TERMINATED');
    tt.deepEqual(await tasksOf(c.admin, id), [], 'its task closed');
    tt.deepEqual(await c.server.db('activity_instances').where({ process_instance_id: id }).whereNull('end_time').pluck('activity_id'), []);
  }

  test.serial(t('parallel: one child per item, each with its own camunda:in; the caller goes on when all ended'), async (t) => {
    const parent = await start(c.office, 'ca-mi-parallel', { items: json(['a', 'b', 'c']), shared: str('S'), stopAfter: int(99) });
    const kids = await children(parent);
    t.deepEqual(kids.map((k) => k.vars), [
      { childItem: 'a', childIndex: 0, childShared: 'S' }, { childItem: 'b', childIndex: 10, childShared: 'S' }, { childItem: 'c', childIndex: 20, childShared: 'S' },
    ]);
    t.deepEqual(await tasksOf(c.admin, parent), [], 'the caller waits');
    const calls = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${parent}&activityId=call`)).body as { calledProcessInstanceId: string }[];
    t.deepEqual(calls.map((a) => a.calledProcessInstanceId).filter(Boolean).sort(), kids.map((k) => k.id).sort(), 'each instance names its child');
    await completeWork(kids[1]!.id);
    await completeWork(kids[0]!.id);
    t.deepEqual(await running(parent), [kids[2]!.id]);
    t.deepEqual(await tasksOf(c.admin, parent), []);
    await completeWork(kids[2]!.id);
    await finishAfter(parent);
    await assertNothingLeft(t, c.server, c.admin, parent);
    for (const k of kids) await assertNothingLeft(t, c.server, c.admin, k.id);
  });

  test.serial(t('parallel: the completion condition ends the children still running in the same command'), async (t) => {
    const parent = await start(c.office, 'ca-mi-parallel', { items: json(['a', 'b', 'c']), shared: str('S'), stopAfter: int(1) });
    const kids = await children(parent);
    t.is(kids.length, 3);
    await completeWork(kids[1]!.id);
    t.deepEqual(await running(parent), [], 'no child left running');
    t.deepEqual((await tasksOf(c.admin, parent)).map((x) => x.taskDefinitionKey), ['after']);
    await assertTerminated(t, kids[0]!.id);
    await assertTerminated(t, kids[2]!.id);
    await finishAfter(parent);
    await assertNothingLeft(t, c.server, c.admin, parent);
    await assertNothingLeft(t, c.server, c.admin, kids[1]!.id);
  });

  test.serial(t('sequential: one child at a time, the next started when one ends; the completion condition stops the loop'), async (t) => {
    const parent = await start(c.office, 'ca-mi-sequential', { items: json(['a', 'b', 'c']), shared: str('S'), stopAfter: int(2) });
    let kids = await children(parent);
    t.deepEqual(kids.map((k) => k.vars), [{ childItem: 'a', childIndex: 0, childShared: 'S' }]);
    await completeWork(kids[0]!.id);
    kids = await children(parent);
    t.deepEqual(kids.map((k) => k.vars.childItem), ['a', 'b']);
    t.deepEqual(await running(parent), [kids[1]!.id]);
    await completeWork(kids[1]!.id);
    t.is((await children(parent)).length, 2, 'the condition held: no third child');
    await finishAfter(parent);
    await assertNothingLeft(t, c.server, c.admin, parent);
    for (const k of kids) await assertNothingLeft(t, c.server, c.admin, k.id);
  });

  test.serial(t('a BPMN error one child ends with reaches the boundary of the multi-instance call activity, which ends the other children'), async (t) => {
    const parent = await start(c.office, 'ca-mi-error', { items: json(['a', 'b']) });
    const kids = await children(parent);
    t.is(kids.length, 2);
    const [task] = await tasksOf(c.admin, kids[1]!.id);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { decision: str('reject') } })).status, 204);
    t.deepEqual((await tasksOf(c.admin, parent)).map((x) => x.taskDefinitionKey), ['handleReject']);
    const vars = (await c.admin.get(`/engine-rest/process-instance/${parent}/variables`)).body;
    t.is(vars.caughtCode.value, 'REJECT');
    t.deepEqual(await running(parent), []);
    await assertTerminated(t, kids[0]!.id);
    await assertTerminated(t, kids[1]!.id);
    const [handle] = await tasksOf(c.admin, parent);
    t.is((await c.office.post(`/engine-rest/task/${handle.id}/complete`, {})).status, 204);
    await assertNothingLeft(t, c.server, c.admin, parent);
  });

  test.serial(t('an interrupting boundary event on the multi-instance call activity ends every child'), async (t) => {
    const parent = await start(c.office, 'ca-mi-error', { items: json(['a', 'b', 'c']) });
    const kids = await children(parent);
    t.is(kids.length, 3);
    await completeWork(kids[0]!.id);
    const r = await c.admin.post('/engine-rest/message', { messageName: 'ca-mi-stop', processInstanceId: parent });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await running(parent), []);
    await assertNothingLeft(t, c.server, c.admin, parent);
    await assertNothingLeft(t, c.server, c.admin, kids[0]!.id);
    await assertTerminated(t, kids[1]!.id);
    await assertTerminated(t, kids[2]!.id);
  });

  test.serial(t('camunda:out variables="all" or to a loop variable on a multi-instance call activity is refused at deployment, naming it; nothing written'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'ca-mi-out', [
      ['many', /camunda:out variables="all" on the multi-instance call activity many is not run by this server: Camunda writes every variable of the child through the instance's execution/],
      ['many', /camunda:out on the multi-instance call activity many may not target the loop variable item/],
    ]);
    t.is(await c.server.db('process_definitions').where({ key: 'ca-mi-out' }).count('* as n').first().then((x: any) => Number(x.n)), 0);
  });
});

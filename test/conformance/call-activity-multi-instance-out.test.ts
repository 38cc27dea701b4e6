import test from 'ava';
import { conformanceSuite } from './events-kit.ts';
import { assertNothingLeft, assertRefusedFixture, json, start, tasksOf } from './helpers.ts';

/*
 * camunda:out on a multi-instance call activity, as Camunda 7 writes it:
 * each child's outs when that child ends, through its instance's execution;
 * a target that is none of the instance's own variables (its element
 * variable, loopCounter, nrOf*) goes up to the process variable, so after
 * each child the process holds what that child passed out, and after the
 * loop what the last child to end passed. A target naming a loop variable,
 * and `variables="all"`, stay refused at deployment.
 */

conformanceSuite(['ca-out-child.bpmn', 'ca-mi-outs.bpmn', 'ca-mi-outs-seq.bpmn'], 'ca-mo', (c, t) => {
  const variable = async (id: string, name: string) => (await c.admin.get(`/engine-rest/process-instance/${id}/variables/${name}`)).body.value;
  const childrenOf = async (parent: string) => {
    const ids = (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${parent}`)).body.map((i: { id: string }) => i.id) as string[];
    const out: Record<string, string> = {};
    for (const id of ids) out[await variable(id, 'childItem')] = id;
    return out;
  };
  const finishChild = async (child: string, verdict: string) => {
    const [task] = await tasksOf(c.admin, child);
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { verdict: { value: verdict } } });
    if (r.status !== 204) throw new Error(`complete ${child}: ${r.status} ${JSON.stringify(r.body)}`);
  };

  test.serial(t('parallel: each child ends writing its outs to the process variables; the last to end is what stays'), async (tt) => {
    const parent = await start(c.office, 'ca-mi-outs', { items: json(['a', 'b', 'c']) });
    const kids = await childrenOf(parent);
    tt.deepEqual(Object.keys(kids).sort(), ['a', 'b', 'c']);
    await finishChild(kids.b!, 'yes');
    tt.is(await variable(parent, 'lastVerdict'), 'yes', 'written as the child ended, while the others run');
    tt.is(await variable(parent, 'lastItem'), 'b');
    await finishChild(kids.c!, 'no');
    tt.is(await variable(parent, 'lastItem'), 'c');
    await finishChild(kids.a!, 'maybe');
    tt.is(await variable(parent, 'lastVerdict'), 'maybe');
    tt.is(await variable(parent, 'lastItem'), 'a');
    const open = await tasksOf(c.admin, parent);
    tt.deepEqual(open.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['after']);
    tt.is((await c.admin.get(`/engine-rest/process-instance/${parent}/variables/item`)).status, 404, 'the loop variables stayed the instances\' own');
    await c.office.post(`/engine-rest/task/${open[0].id}/complete`, {});
    await assertNothingLeft(tt, c.server, c.admin, parent);
  });

  test.serial(t('sequential: each child\'s outs are in the process variables when the next child starts'), async (tt) => {
    const parent = await start(c.office, 'ca-mi-outs-seq', { items: json(['x', 'y']) });
    let kids = await childrenOf(parent);
    tt.deepEqual(Object.keys(kids), ['x']);
    await finishChild(kids.x!, 'one');
    tt.is(await variable(parent, 'lastItem'), 'x');
    kids = await childrenOf(parent);
    tt.deepEqual(Object.keys(kids), ['y']);
    await finishChild(kids.y!, 'two');
    tt.is(await variable(parent, 'lastVerdict'), 'two');
    tt.is(await variable(parent, 'lastItem'), 'y');
    const open = await tasksOf(c.admin, parent);
    await c.office.post(`/engine-rest/task/${open[0].id}/complete`, {});
    await assertNothingLeft(tt, c.server, c.admin, parent);
  });
});

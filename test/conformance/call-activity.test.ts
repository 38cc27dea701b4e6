import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, cancelled, complete, conformanceSuite, openKeys, passed, stateOf, taskEnds, variablesOf, type Conformance } from './events-kit.ts';

/*
 * Call activities (Camunda 7): the called process runs as an instance of its
 * own, started in the command that reaches the call activity, linked both
 * ways (superProcessInstance / subProcessInstance); when it ends, the caller
 * goes on in the same command with what camunda:out passes back. A BPMN
 * error the child does not catch reaches the call activity's boundary;
 * cancelling the call activity or deleting the caller ends the child.
 */

async function startWith(c: Conformance, key: string, variables: Record<string, unknown>, businessKey?: string): Promise<string> {
  const r = await c.office.post(`/engine-rest/process-definition/key/${key}/start`, {
    businessKey, variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, { value: v }])),
  });
  if (r.status !== 200) throw new Error(`start ${key}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/** The one running child a caller called, found as a Camunda client finds it. */
async function childOf(c: Conformance, parentId: string): Promise<string> {
  const r = await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${parentId}`);
  if (r.body.length !== 1) throw new Error(`children of ${parentId}: ${JSON.stringify(r.body)}`);
  return r.body[0].id;
}

/** A child that ended otherwise than completing: nothing of it is left open. */
async function assertEndedAs(t: any, c: Conformance, id: string, state: string): Promise<void> {
  t.is(await stateOf(c, id), state);
  t.is((await c.admin.get(`/engine-rest/process-instance/${id}`)).status, 404);
  t.deepEqual(await openKeys(c, id), []);
  t.deepEqual(await c.server.db('activity_instances').where({ process_instance_id: id }).whereNull('end_time').pluck('activity_id'), []);
}

conformanceSuite(['ca-parent.bpmn', 'ca-child.bpmn', 'ca-all.bpmn', 'ca-terminate.bpmn', 'ca-missing.bpmn', 'ca-nocatch.bpmn', 'ca-grand.bpmn', 'ca-escalation.bpmn'], 'ca', (c, t) => {

  test.serial(t('the caller resumed by its child goes on as a signalled task does: an escalation end in the sub-process right after the call activity is caught by that sub-process\'s boundary'), async (t) => {
    const parent = await startWith(c, 'ca-escalation', {});
    const child = await childOf(c, parent);
    await complete(c, child, 'work');
    t.is(await stateOf(c, child), 'COMPLETED');
    t.deepEqual(await openKeys(c, parent), ['manager'], 'the boundary caught it; the normal path was not taken');
    await complete(c, parent, 'manager');
    await assertNothingOpen(t, c, parent);
  });

  test.serial(t('the child starts with the caller, is linked both ways, gets camunda:in, and its end resumes the caller with camunda:out'), async (t) => {
    const parent = await startWith(c, 'ca-parent', { amount: 21, secret: 'not passed' }, 'BK-1');
    t.deepEqual(await openKeys(c, parent), []);
    const child = await childOf(c, parent);
    const sub = await c.admin.get(`/engine-rest/process-instance?subProcessInstance=${child}`);
    t.deepEqual(sub.body.map((i: { id: string }) => i.id), [parent], 'subProcessInstance finds the caller');
    const [hist] = (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${child}`)).body;
    t.is(hist.superProcessInstanceId, parent);
    t.is(hist.rootProcessInstanceId, parent);
    t.is(hist.processDefinitionKey, 'ca-child');
    t.is(hist.businessKey, 'BK-1', 'camunda:in businessKey passes the caller\'s business key');
    t.deepEqual((await c.admin.get(`/engine-rest/history/process-instance?superProcessInstanceId=${parent}`)).body.map((i: { id: string }) => i.id), [child]);
    t.deepEqual((await c.admin.get(`/engine-rest/history/process-instance?subProcessInstanceId=${child}`)).body.map((i: { id: string }) => i.id), [parent]);
    // The child's own task, seen by the person who started the caller (they started the child too).
    const tasks = (await c.office.get(`/engine-rest/task?processInstanceId=${child}`)).body;
    t.deepEqual(tasks.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['work']);
    t.deepEqual(await variablesOf(c, child), { childAmount: 21, doubled: 42 }, 'only what camunda:in passes');
    const typed = (await c.admin.get(`/engine-rest/process-instance/${child}/variables`)).body;
    t.is(typed.childAmount.type, 'Integer', 'a copied variable keeps its type');
    t.false((await passed(c, parent)).includes('call'), 'the call activity waits');
    const acts = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${parent}&activityId=call`)).body;
    t.is(acts[0]?.calledProcessInstanceId, child, 'the call activity\'s history names the child');

    await complete(c, child, 'work', { result: 'ok' });
    t.is(await stateOf(c, child), 'COMPLETED');
    t.deepEqual(await openKeys(c, parent), ['after'], 'the caller went on in the same command');
    const vars = await variablesOf(c, parent);
    t.is(vars.childResult, 'ok');
    t.is(vars.fine, true);
    t.false('doubled' in vars, 'only what camunda:out passes comes back');
    t.true((await passed(c, parent)).includes('call'));
    await complete(c, parent, 'after');
    await assertNothingOpen(t, c, parent);
    await assertNothingOpen(t, c, child);
  });

  test.serial(t('a BPMN error end event the child does not catch reaches the call activity\'s error boundary'), async (t) => {
    const parent = await startWith(c, 'ca-parent', { amount: 1 });
    const child = await childOf(c, parent);
    await complete(c, child, 'work', { decision: 'reject' });
    t.deepEqual(await openKeys(c, parent), ['handleReject']);
    t.is((await variablesOf(c, parent)).caughtCode, 'REJECT');
    t.false('childResult' in (await variablesOf(c, parent)), 'no camunda:out on an error');
    await assertEndedAs(t, c, child, 'INTERNALLY_TERMINATED');
    t.deepEqual(await cancelled(c, parent), ['call', 'stopped']);
    await complete(c, parent, 'handleReject');
    await assertNothingOpen(t, c, parent);
  });

  test.serial(t('an error end event caught neither in the child nor by the caller is a none end: the caller goes on (versionTag binding)'), async (t) => {
    const parent = await startWith(c, 'ca-nocatch', {});
    const child = await childOf(c, parent);
    await complete(c, child, 'work', { decision: 'reject' });
    t.deepEqual(await openKeys(c, parent), ['afterNoCatch']);
    t.is((await variablesOf(c, parent)).childDecision, 'reject', 'camunda:out applied as on any end');
    await assertNothingOpen(t, c, child);
    await complete(c, parent, 'afterNoCatch');
    await assertNothingOpen(t, c, parent);
  });

  test.serial(t('an error caught by nothing in the caller travels up to the caller\'s caller; the instances between end'), async (t) => {
    const grand = await startWith(c, 'ca-grand', {});
    const middle = await childOf(c, grand);
    const child = await childOf(c, middle);
    const [hist] = (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${child}`)).body;
    t.is(hist.rootProcessInstanceId, grand, 'the root is the top caller');
    await complete(c, child, 'work', { decision: 'reject' });
    t.deepEqual(await openKeys(c, grand), ['grandHandles']);
    await assertEndedAs(t, c, middle, 'INTERNALLY_TERMINATED');
    await assertEndedAs(t, c, child, 'INTERNALLY_TERMINATED');
    await complete(c, grand, 'grandHandles');
    await assertNothingOpen(t, c, grand);
  });

  test.serial(t('an interrupting boundary event on the call activity ends the child'), async (t) => {
    const parent = await startWith(c, 'ca-parent', { amount: 1 });
    const child = await childOf(c, parent);
    const r = await c.admin.post('/engine-rest/message', { messageName: 'ca-stop', processInstanceId: parent });
    t.is(r.status, 204, JSON.stringify(r.body));
    await assertNothingOpen(t, c, parent);
    await assertEndedAs(t, c, child, 'INTERNALLY_TERMINATED');
    t.deepEqual(await taskEnds(c, child), ['work:deleted']);
  });

  test.serial(t('deleting the caller deletes the child; the child alone cannot be deleted'), async (t) => {
    const parent = await startWith(c, 'ca-parent', { amount: 1 });
    const child = await childOf(c, parent);
    const refused = await c.admin.delete(`/engine-rest/process-instance/${child}`);
    t.is(refused.status, 400);
    t.true(String(refused.body.message).includes(parent), 'the refusal names the caller');
    t.deepEqual(await openKeys(c, child), ['work'], 'nothing changed');
    t.is((await c.admin.delete(`/engine-rest/process-instance/${parent}`)).status, 204);
    t.is(await stateOf(c, parent), 'EXTERNALLY_TERMINATED');
    await assertEndedAs(t, c, child, 'EXTERNALLY_TERMINATED');
    t.deepEqual(await taskEnds(c, child), ['work:deleted']);
  });

  test.serial(t('a child that ends at once: the caller goes on in the same command (variables="all" both ways, deployment binding)'), async (t) => {
    const parent = await startWith(c, 'ca-all', { x: 41, note: 'kept' });
    t.deepEqual(await openKeys(c, parent), ['afterAll']);
    const [child] = (await c.admin.get(`/engine-rest/history/process-instance?superProcessInstanceId=${parent}`)).body;
    t.is(child.state, 'COMPLETED');
    t.is(child.processDefinitionKey, 'ca-quick');
    t.deepEqual(await variablesOf(c, child.id), { x: 41, note: 'kept', fromChild: 42 });
    t.deepEqual(await variablesOf(c, parent), { x: 41, note: 'kept', fromChild: 42 });
    await complete(c, parent, 'afterAll');
    await assertNothingOpen(t, c, parent);
    await assertNothingOpen(t, c, child.id);
  });

  test.serial(t('a terminate end event in the child ends the child only; the caller goes on (version binding)'), async (t) => {
    const parent = await startWith(c, 'ca-term-parent', {});
    const child = await childOf(c, parent);
    t.deepEqual(await openKeys(c, child), ['keep', 'stop']);
    await complete(c, child, 'stop');
    t.deepEqual(await openKeys(c, parent), ['afterTerm']);
    await assertNothingOpen(t, c, child);
    t.deepEqual(await taskEnds(c, child), ['keep:deleted', 'stop:completed']);
    await complete(c, parent, 'afterTerm');
    await assertNothingOpen(t, c, parent);
  });

  test.serial(t('a called process that is not deployed fails the command with 400 naming it; nothing is written'), async (t) => {
    const parent = await startWith(c, 'ca-missing', {});
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${parent}`)).body;
    const before = await c.server.db('process_instances').count('* as n').first();
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, {});
    t.is(r.status, 400);
    t.true(String(r.body.message).includes('ca-nowhere'), r.body.message);
    t.deepEqual(await c.server.db('process_instances').count('* as n').first(), before, 'no child row');
    t.deepEqual(await openKeys(c, parent), ['first'], 'the task is still open');
  });

  test.serial(t('forms not run exactly are refused at deployment, naming the element'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'ca-refused', [
      ['byExpression', /the calledElement expression \$\{which\} is not run yet/],
      ['localIn', /camunda:in local="true" is not run yet/],
      ['otherKey', /camunda:in businessKey="\$\{order\.id\}" is not run/],
      ['many', /camunda:in variables="all" on the parallel multi-instance call activity many is not run by this server \(a sequential one is\)/],
      ['escalationCatch', /an escalation a called process throws is not carried up to its call activity/],
      ['composite', /camunda:out sourceExpression "\$\{a\}-\$\{b\}" must be one \$\{…\} expression/],
    ]);
    t.is(await c.server.db('process_definitions').where({ key: 'ca-refused' }).count('* as n').first().then((x: any) => Number(x.n)), 0);
  });
});

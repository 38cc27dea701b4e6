import test from 'ava';
import { makeUser } from '../helpers/server.ts';
import { assertNothingOpen, complete, start, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * `assignment` task listeners (Camunda 7.12+): a task created with an
 * assignee runs them after its `create` listeners; every later change of the
 * assignee over REST (claim, unclaim, setAssignee, delegate, resolve) runs
 * them in the transaction of the change, with `task.getAssignee()` the new
 * assignee. What they set is saved with the change; a failing one fails the
 * change with 400 and nothing is saved.
 */

conformanceSuite(['task-assignment.bpmn'], 'pa', (c, t) => {
  const log = async (id: string) => JSON.parse((await variablesOf(c, id)).log as string);
  const taskOf = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body[0];
  const claims = async (executionId: string) => (await c.admin.get(`/engine-rest/execution/${executionId}/localVariables/claims`)).body.value;

  test.serial(t('a task created with an assignee runs its assignment listener after the create listener'), async (t) => {
    const id = await start(c, 'task-assignment', { who: 'pa-office' });
    t.deepEqual(await log(id), ['create', 'assignment:pa-office:assignment']);
    const task = await taskOf(id);
    t.is(task.assignee, 'pa-office');
    t.is(await claims(task.executionId), 1, 'the listener changed the task\'s local variable');
    await complete(c, id, 'approve');
    await assertNothingOpen(t, c, id);
    t.is((await variablesOf(c, id)).claimsOut, 1);
  });

  test.serial(t('claim, unclaim, setAssignee and delegate run the assignment listener in their transaction; created unassigned, it did not run'), async (t) => {
    const id = await start(c, 'task-assignment', {});
    t.deepEqual(await log(id), ['create'], 'no assignee, no assignment event');
    const task = await taskOf(id);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'pa-office' })).status, 204);
    t.deepEqual((await log(id)).slice(1), ['assignment:pa-office:assignment']);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/unclaim`, {})).status, 204);
    t.is((await c.admin.post(`/engine-rest/task/${task.id}/assignee`, { userId: 'pa-office' })).status, 204);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'pa-office' })).status, 204, 'claiming one\'s own task changes nothing');
    t.deepEqual((await log(id)).slice(1), ['assignment:pa-office:assignment', 'assignment:null:assignment', 'assignment:pa-office:assignment']);
    t.is(await claims(task.executionId), 3);
    const other = await makeUser(c.server, 'pa-other', ['office']);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/delegate`, { userId: 'pa-other' })).status, 204);
    t.is((await other.post(`/engine-rest/task/${task.id}/resolve`, { variables: {} })).status, 204);
    t.deepEqual((await log(id)).slice(4), ['assignment:pa-other:assignment', 'assignment:pa-office:assignment'], 'delegated, then handed back to the owner');
    await complete(c, id, 'approve');
    t.is((await variablesOf(c, id)).claimsOut, 5);
  });

  test.serial(t('a failing assignment listener fails the claim with 400; the task stays unclaimed and nothing is saved'), async (t) => {
    const id = await start(c, 'task-assignment', {});
    const task = await taskOf(id);
    const refused = await makeUser(c.server, 'pa-refused', ['office']);
    const before = await c.server.db('trace').where({ entity_id: task.id, operation: 'Claim' });
    const r = await refused.post(`/engine-rest/task/${task.id}/claim`, { userId: 'pa-refused' });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /assignment refused for pa-refused/);
    t.is((await taskOf(id)).assignee, null);
    t.deepEqual(await log(id), ['create']);
    t.is(await claims(task.executionId), '0', 'the input parameter, a text, unchanged');
    t.is((await c.server.db('trace').where({ entity_id: task.id, operation: 'Claim' })).length, before.length, 'no claim traced');
  });
});

import test from 'ava';
import { assertNothingOpen, complete, start, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * `update` task listeners: every REST change of an open task (PUT /task,
 * claim, unclaim, assignee, delegate, resolve, its own variables) runs them
 * and a comment on it, in the transaction of the change, before the `assignment` listeners when
 * the assignee changes (Camunda 7's order); creating the task does not. A
 * failing one fails the change with 400 and nothing is saved.
 */

conformanceSuite(['task-update.bpmn'], 'pu', (c, t) => {
  const log = async (id: string) => JSON.parse((await variablesOf(c, id)).log as string);
  const taskOf = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body[0];

  test.serial(t('each REST change of the task runs its update listeners, before the assignment listeners; creating it does not'), async (t) => {
    const id = await start(c, 'task-update', {});
    t.deepEqual(await log(id), ['create']);
    const task = await taskOf(id);
    t.is((await c.office.put(`/engine-rest/task/${task.id}`, { name: '批准（加急）', priority: 80 })).status, 204);
    t.deepEqual((await log(id)).slice(1), ['update']);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'pu-office' })).status, 204);
    t.deepEqual((await log(id)).slice(2), ['update', 'assignment:pu-office']);
    t.is((await c.office.put(`/engine-rest/task/${task.id}/localVariables/note`, { value: '看附件' })).status, 204);
    t.deepEqual((await log(id)).slice(4), ['update'], 'a change of its own variables is a change of the task');
    t.is((await c.office.post(`/engine-rest/task/${task.id}/unclaim`, {})).status, 204);
    t.deepEqual((await log(id)).slice(5), ['update', 'assignment:null']);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/comment/create`, { message: '请尽快' })).status, 200);
    t.deepEqual((await log(id)).slice(7), ['update'], 'so is a comment');
    const [row] = await c.server.db('trace').where({ operation: 'Update', entity_id: task.id });
    t.is(row.process_instance_id, id);
    await complete(c, id, 'approve');
    t.deepEqual((await log(id)).slice(8), [], 'completing is no update');
    t.is((await c.office.post(`/engine-rest/task/${task.id}/comment/create`, { message: '已办' })).status, 200);
    t.deepEqual((await log(id)).slice(8), [], 'nor a comment on the ended task');
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('a failing update listener fails the change with 400: the task and the variables stay as they were'), async (t) => {
    const id = await start(c, 'task-update', { refuse: true });
    const task = await taskOf(id);
    const put = await c.office.put(`/engine-rest/task/${task.id}`, { priority: 90 });
    t.is(put.status, 400);
    t.regex(put.body.message, /update refused/);
    const claim = await c.office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'pu-office' });
    t.is(claim.status, 400);
    t.is((await c.office.put(`/engine-rest/task/${task.id}/localVariables/note`, { value: 'x' })).status, 400);
    t.is((await c.office.post(`/engine-rest/task/${task.id}/comment/create`, { message: 'x' })).status, 400);
    t.deepEqual((await c.office.get(`/engine-rest/task/${task.id}/comment`)).body, []);
    const after = await taskOf(id);
    t.is(after.priority, task.priority);
    t.is(after.assignee, null);
    t.deepEqual((await c.office.get(`/engine-rest/task/${task.id}/localVariables`)).body, {});
    t.deepEqual(await log(id), ['create']);
    t.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/refuse`, { value: false })).status, 204);
    await complete(c, id, 'approve');
    await assertNothingOpen(t, c, id);
  });
});

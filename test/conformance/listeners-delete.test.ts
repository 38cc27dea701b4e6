import test from 'ava';
import { assertNothingOpen, complete, openKeys, start, stateOf, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * `delete` task listeners (Camunda 7): they run when a task is deleted
 * without being completed (an interrupting boundary event, a terminate end
 * event, the instance being deleted), never together with `complete`, and
 * before the process's own end listener. What they set is saved; a failing
 * one fails the command that deleted the task, and nothing is saved.
 */

conformanceSuite(['task-delete.bpmn', 'task-delete-error.bpmn'], 'ld', (c, t) => {
  const log = async (id: string) => JSON.parse(((await variablesOf(c, id)).log as string | undefined) ?? '[]');

  test.serial(t('an interrupting boundary event deletes the task: its delete listener runs with its local variables'), async (t) => {
    const id = await start(c, 'task-delete');
    const r = await c.admin.post('/engine-rest/message', { messageName: 'lisdel-stop', processInstanceId: id });
    t.true(r.status === 200 || r.status === 204, JSON.stringify(r.body));
    t.deepEqual(await openKeys(c, id), ['stopper']);
    t.deepEqual(await log(id), ['delete:review:本地']);
    await complete(c, id, 'stopper');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await log(id), ['delete:review:本地', 'process:end']);
  });

  test.serial(t('an error leaving a sub-process deletes the task still open in it: its delete listener runs'), async (t) => {
    const id = await start(c, 'task-delete-error');
    t.deepEqual(await openKeys(c, id), ['fail', 'inner']);
    await complete(c, id, 'fail');
    t.deepEqual(await openKeys(c, id), ['handled']);
    t.is((await variablesOf(c, id)).deleted, 'inner:delete');
  });

  test.serial(t('a terminate end event deletes the open task: delete, then the process end listener'), async (t) => {
    const id = await start(c, 'task-delete');
    await complete(c, id, 'stopper');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await log(id), ['delete:review:本地', 'process:end']);
  });

  test.serial(t('a completed task runs complete, not delete'), async (t) => {
    const id = await start(c, 'task-delete');
    await complete(c, id, 'review');
    t.deepEqual(await log(id), ['complete:review']);
    await complete(c, id, 'stopper');
    t.deepEqual(await log(id), ['complete:review', 'process:end']);
  });

  test.serial(t('deleting the instance runs the delete listeners and the process end listener, unless skipCustomListeners'), async (t) => {
    const id = await start(c, 'task-delete');
    t.is((await c.admin.delete(`/engine-rest/process-instance/${id}`)).status, 204);
    t.is(await stateOf(c, id), 'EXTERNALLY_TERMINATED');
    t.deepEqual(await log(id), ['delete:review:本地', 'process:end']);
    const skipped = await start(c, 'task-delete');
    t.is((await c.admin.delete(`/engine-rest/process-instance/${skipped}?skipCustomListeners=true`)).status, 204);
    t.deepEqual(await log(skipped), []);
  });

  test.serial(t('a failing delete listener fails the command that deleted the task; nothing is saved'), async (t) => {
    const id = await start(c, 'task-delete', { failDelete: true });
    const [stopper] = (await c.office.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=stopper`)).body;
    const r = await c.office.post(`/engine-rest/task/${stopper.id}/complete`, { variables: {} });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /delete listener refused/);
    t.deepEqual(await openKeys(c, id), ['review', 'stopper']);
    const del = await c.admin.delete(`/engine-rest/process-instance/${id}`);
    t.is(del.status, 400, JSON.stringify(del.body));
    t.is(await stateOf(c, id), 'ACTIVE');
  });
});

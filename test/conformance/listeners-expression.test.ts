import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { complete, conformanceSuite, openKeys } from './events-kit.ts';

/*
 * Task listeners in expression form (`camunda:taskListener event="create"
 * expression="${task.setVariable(…)}"`), on create and complete, with
 * Camunda's `task` (DelegateTask) as far as this server offers it; the other
 * events, and methods on `task` it does not offer, are refused at deployment.
 */

conformanceSuite(['task-listener-expressions'], 'tle', (c, t) => {
  test.serial(t('create and complete listeners in expression form read the task and set variables through it, saved with the command'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/task-listener-expressions/start', { variables: { kind: { value: 'leave' } } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.createdFor?.value, 'review/Review leave/create', 'task key, resolved name and event');
    t.is(vars.createdIn?.value, id, 'getExecution().setVariable and getProcessInstanceId');
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(task.assignee, 'tle-office', 'the create listener set the assignee');
    await complete(c, id, 'review', { answer: 'yes' });
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/verdict`)).body.value, 'YES@complete');
    t.deepEqual(await openKeys(c, id), ['yes'], 'the complete listener ran before the gateway chose');
  });

  test.serial(t('a failing complete listener expression fails the completion with 400 naming the task; nothing is saved'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/task-listener-expressions/start', { variables: { kind: { value: 'trip' } } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: {} });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /review: Cannot call toUpperCase\(\) on null/);
    t.deepEqual(await openKeys(c, id), ['review']);
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.verdict, undefined);
  });

  test.serial(t('task methods not offered, and assignment/delete listeners in expression form, are refused at deployment naming the task'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'task-listener-expressions-refused', [
      ['assigning', /invalid expression in the assignment task listener: task\.setAssignee\(\) is not offered to a assignment task listener/],
      ['identified', /invalid expression in the complete task listener: task\.getId\(\) is not offered/],
      ['onAssignment', /invalid expression in the update task listener: task\.setPriority\(\) is not offered to a update task listener/],
      ['onDelete', /invalid expression in the delete task listener: task\.getId\(\) is not offered to a delete task listener/],
      ['property', /task\.owner is not offered to a complete task listener/],
    ]);
  });
});

import test from 'ava';
import { assertNothingOpen, complete, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * A `create` task listener sees the task as Camunda 7.12+ creates it: its
 * attributes resolved and its id given before the listener runs, and may
 * change its assignee, name, description, priority and due date, which the
 * task's row then holds; an assignee set by a create listener fires the
 * `assignment` listeners after the create listeners, once, with the task
 * as they left it. Both forms (expression and javascript) see the same.
 */

conformanceSuite(['task-create-attributes.bpmn'], 'tca', (c, t) => {
  const tasksOf = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;

  test.serial(t('create listeners see the resolved task with its id and change it; assignment follows with the new assignee'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/task-create-attributes/start', {
      variables: {
        kind: { value: 'leave' }, first: { value: 'tca-first' }, second: { value: 'tca-office' }, prio: { value: 20 },
        due: { value: '2030-05-06T07:08:09.000+0000', type: 'Date' }, newDue: { value: '2030-06-01T00:00:00.000+0000', type: 'Date' },
      },
    });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    const [task] = await tasksOf(id);
    const vars = await variablesOf(c, id);
    t.is(vars.seenId, task.id, 'the listener saw the id the task row has');
    t.is(vars.seenAssignee, 'tca-first', 'the assignee was resolved before the create listeners');
    t.is(vars.seenName, 'Draft leave');
    t.is(vars.seenDescription, 'about it');
    t.is(vars.seenPriority, 20);
    t.is(Date.parse(String(vars.seenDue)), Date.parse('2030-05-06T07:08:09.000Z'), 'getDueDate is the resolved due date');
    t.is(vars.seenOwner, null);
    t.is(task.assignee, 'tca-office', 'setAssignee in the create listener is the task\'s assignee');
    t.is(task.priority, 30);
    t.is(Date.parse(task.due), Date.parse('2030-06-01T00:00:00.000Z'));
    t.is(task.name, 'Draft leave / 已分派');
    t.is(task.description, 'changed');
    t.is(vars.assignedTo, `tca-office@${task.id}`, 'the assignment listener ran after create, with the assignee the create listener set');
    t.is(vars.assignments, 1, 'once');
    const [history] = (await c.admin.get(`/engine-rest/history/task?taskId=${task.id}`)).body;
    t.is(history?.assignee, 'tca-office', 'the history row is the task as the listeners left it');

    await complete(c, id, 'draft');
    const [scripted] = await tasksOf(id);
    const after = await variablesOf(c, id);
    t.deepEqual((JSON.parse(after.scriptSaw as string) as unknown[]).slice(0, 4), [scripted.id, null, 'Scripted', 50], 'the script saw the task with its id');
    t.is(scripted.assignee, 'tca-office');
    t.is(scripted.priority, 7);
    t.is(scripted.name, 'Scripted / 已分派');
    t.is(Date.parse(scripted.due), Date.UTC(2031, 0, 2, 3, 4, 5));
    t.is(after.scriptAssigned, `tca-office@${scripted.id}`, 'an assignee set by a create script fires the assignment listeners');

    await complete(c, id, 'scripted');
    const [quiet] = await tasksOf(id);
    t.is(quiet.assignee, null);
    t.false('quietAssigned' in (await variablesOf(c, id)), 'setAssignee(null) on an unassigned task is no assignment');
    t.is((await c.office.post(`/engine-rest/task/${quiet.id}/claim`, { userId: 'tca-office' })).status, 204);
    t.is((await variablesOf(c, id)).quietAssigned, `tca-office@${quiet.id}@tca-office`, 'an assignment listener in expression form runs on a claim, seeing the task and the caller');
    await complete(c, id, 'quiet');
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('a create listener setting a due date that is not a Date fails the start with 400 naming the task; nothing is saved'), async (t) => {
    const count = async () => (await c.admin.get('/engine-rest/history/process-instance/count?processDefinitionKey=task-create-attributes')).body.count;
    const before = await count();
    const r = await c.office.post('/engine-rest/process-definition/key/task-create-attributes/start', {
      variables: { kind: { value: 'x' }, first: { value: 'a' }, second: { value: 'b' }, prio: { value: 1 }, newDue: { value: 'tomorrow' } },
    });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /draft: .*setDueDate takes a Date/);
    t.is(await count(), before, 'no instance was saved');
  });
});

import test from 'ava';
import { assertNothingOpen, complete, passed, start, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * Execution listeners in their script form (javascript, run in the QuickJS
 * sandbox), as Camunda 7 runs them: `start` after the input parameters,
 * before the element acts; `end` after the output parameters, before the
 * outgoing flows are chosen. What a listener sets with
 * execution.setVariable is a local variable when the element has one by
 * that name, else a process variable.
 */

conformanceSuite(['listeners.bpmn', 'listeners-escape.bpmn', 'task-listeners.bpmn'], 'lis', (c, t) => {

  test.serial(t('start and end script listeners run in order, see the local variables, and steer the task and the gateway'), async (t) => {
    const id = await start(c, 'listeners', { base: 1 });
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(task.assignee, 'lis-office', 'the start listener set the variable the assignee expression reads');
    const during = await variablesOf(c, id);
    t.deepEqual(JSON.parse(during.log as string), ['start:start', 'review:start:2'], 'the start listener saw the input parameter');
    t.false('level' in during, 'the start listener changed the local variable, not a process variable');

    await complete(c, id, 'review', { verdict: 'ok' });
    await assertNothingOpen(t, c, id);
    const vars = await variablesOf(c, id);
    t.is(vars.levelOut, 20, 'the output parameter read the local as the start listener left it');
    t.deepEqual(JSON.parse(vars.log as string), ['start:start', 'review:start:2', 'review:end:20:ok', 'end:start'],
      'the end listener ran after the output parameters; the end event\'s start listener last');
    t.true((await passed(c, id)).includes('end'), 'the end listener\'s variable chose the flow');
  });

  test.serial(t('what an end listener sets decides the outgoing flow'), async (t) => {
    const id = await start(c, 'listeners', { base: 0 });
    await complete(c, id, 'review', { verdict: 'no' });
    await assertNothingOpen(t, c, id);
    const ended = await passed(c, id);
    t.true(ended.includes('stopped'));
    t.false(ended.includes('end'));
    t.is((await variablesOf(c, id)).go, false);
  });

  test.serial(t('a listener script runs in the sandbox: reaching for `process` fails the start with 400 naming the element, and nothing is saved'), async (t) => {
    const r = await c.office.post('/engine-rest/process-definition/key/listeners-escape/start', { variables: {} });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /grab/);
    t.deepEqual((await c.admin.get('/engine-rest/process-instance?processDefinitionKey=listeners-escape')).body, [], 'no instance was saved');
    t.deepEqual((await c.admin.get('/engine-rest/task?processDefinitionKey=listeners-escape')).body, []);
  });

  test.serial(t('create and complete task listeners run with `task`; the complete listener runs before the output parameters'), async (t) => {
    const id = await start(c, 'task-listeners');
    t.is((await variablesOf(c, id)).created, 'create:approve:批准', 'the create listener ran when the task was created');
    await complete(c, id, 'approve', { who: 'lis-office' });
    await assertNothingOpen(t, c, id);
    const vars = await variablesOf(c, id);
    t.is(vars.completed, 'complete');
    t.is(vars.approver, 'by-lis-office', 'the complete listener saw the variables the task was completed with');
    t.is(vars.approvedBy, 'by-lis-office', 'the output parameter read what the complete listener set');
  });
});

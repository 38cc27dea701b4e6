import test from 'ava';
import { makeUser, type Client } from '../helpers/server.ts';
import { assertRefusedFixture, tasksOf } from './helpers.ts';
import { assertNothingOpen, complete, conformanceSuite, start, variablesOf } from './events-kit.ts';

/*
 * A step asking the server for a group's members (camunda:properties
 * membersOfGroup / membersVariable, src/engine/group-members.ts), a parallel
 * multi-instance over them inside a sub-process whose output parameters run
 * per completed instance before the completion condition, and what they set
 * inside the sub-process being process variables, as in Camunda 7.
 */

conformanceSuite(['group-vote.bpmn'], 'gm', (c, t) => {
  const voters: Record<string, Client> = {};

  test.serial(t('members are read when the step is reached; each instance\'s outputs count before the condition; what the sub-process sets is a process variable'), async (t) => {
    for (const id of ['gm-b', 'gm-a']) voters[id] = await makeUser(c.server, id, ['leading-group']);
    const id = await start(c, 'group-vote');
    const vars = await variablesOf(c, id);
    t.deepEqual(JSON.parse(vars.voters as string), ['gm-a', 'gm-b'], 'the members at this moment, sorted');
    t.is(vars.seen, 2, 'the script saw them as it ran');
    const tasks = await tasksOf(c.admin, id);
    t.deepEqual(tasks.map((x) => x.assignee).sort(), ['gm-a', 'gm-b']);
    // Joining now is too late for this vote.
    voters['gm-c'] = await makeUser(c.server, 'gm-c', ['leading-group']);
    const byVoter = new Map(tasks.map((x) => [x.assignee, x]));
    t.is((await voters['gm-b']!.post(`/engine-rest/task/${byVoter.get('gm-b').id}/complete`, { variables: { vote: { value: 'yes' } } })).status, 204);
    const during = await variablesOf(c, id);
    t.is(during.yes, 1, 'counted by the output parameter of the instance that completed');
    t.is(during.log, 'gm-b:yes:1/0;', 'a later output parameter reads what an earlier one wrote; nrOfCompletedInstances before this one counts');
    t.is((await voters['gm-a']!.post(`/engine-rest/task/${byVoter.get('gm-a').id}/complete`, { variables: { vote: { value: 'yes' } } })).status, 204);
    const [after] = await tasksOf(c.admin, id);
    t.is(after.name, '结果 2', 'after the sub-process, its variables are the process\'s');
    await complete(c, id, 'after');
    await assertNothingOpen(t, c, id);

    const next = await start(c, 'group-vote');
    t.deepEqual(JSON.parse((await variablesOf(c, next)).voters as string), ['gm-a', 'gm-b', 'gm-c'], 'the next instance reads the members of then');
  });

  test.serial(t('a request for members that could not be honoured is refused at deployment, naming each element, and nothing is stored'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'group-members-refused', [
      ['waiting', /waiting: membersOfGroup and membersVariable go together/],
      ['waiting', /waiting: only a step that does not wait/],
      ['computed', /computed: membersOfGroup must name a group id, not an expression/],
      ['computed', /computed: membersVariable "not a name" is not a variable name/],
    ]);
    t.is((await c.admin.get('/engine-rest/process-definition?key=group-members-refused')).body.length, 0);
  });
});

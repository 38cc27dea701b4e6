import test from 'ava';
import { assertNothingOpen, complete, openKeys, start, stateOf, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * Execution listeners on the process itself (Camunda 7): `start` when the
 * instance starts, after its start variables and before its start event's
 * listeners; `end` once the instance has ended, by its end event or a
 * terminate end event, after every element's end listeners. A failing
 * process listener fails the command that ran it, and nothing is saved.
 */

conformanceSuite(['process-listeners.bpmn'], 'pl', (c, t) => {
  const log = async (id: string) => JSON.parse((await variablesOf(c, id)).log as string);

  test.serial(t('the process start listener runs first and its variables steer the task; the end listener runs last'), async (t) => {
    const id = await start(c, 'process-listeners', { how: 'normal' });
    t.deepEqual(await log(id), ['process:start:normal', 'start:start'], 'before the start event\'s own listener, over the start variables');
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(task.assignee, 'pl-office', 'the assignee expression read what the process start listener set');
    await complete(c, id, 'work', { verdict: 'ok' });
    await assertNothingOpen(t, c, id);
    t.deepEqual(await log(id), ['process:start:normal', 'start:start', 'end:end', 'process:end:ok']);
  });

  test.serial(t('a terminate end event ends the process: its end listener runs'), async (t) => {
    const id = await start(c, 'process-listeners', { how: 'terminate' });
    await complete(c, id, 'work', { verdict: 'stopped' });
    await assertNothingOpen(t, c, id);
    t.deepEqual(await log(id), ['process:start:terminate', 'start:start', 'process:end:stopped']);
  });

  test.serial(t('a failing process end listener fails the completion with 400 naming the process; nothing is saved'), async (t) => {
    const id = await start(c, 'process-listeners', { how: 'normal' });
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { verdict: { value: 'boom' } } });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /process-listeners/);
    t.regex(r.body.message, /end listener refused/);
    t.deepEqual(await openKeys(c, id), ['work'], 'the task is still open');
    t.is(await stateOf(c, id), 'ACTIVE');
    t.false('verdict' in (await variablesOf(c, id)));
  });
});

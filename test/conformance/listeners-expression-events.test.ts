import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { assertNothingOpen, complete, start, stateOf, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * Listeners in expression form where their script form runs: `update`,
 * `timeout` and `delete` task listeners and the process's `start` and `end`
 * execution listeners, at the same moments and with the same objects
 * (`task` sees the task's row where the listener runs over REST or from a
 * timer). Driven over REST on both databases, the timer on an injected clock.
 */

const HOUR = 3_600_000;

conformanceSuite(['listener-expressions-events.bpmn'], 'lee', (c, t, clockOf) => {
  const clock = clockOf as ManualClock;
  const workOf = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=work`)).body[0];

  test.serial(t('update and timeout listeners see the task; a terminate end deletes it (delete), then the process end listener'), async (t) => {
    const id = await start(c, 'listener-expressions-events', { starter: 'lee-office' });
    t.is((await variablesOf(c, id)).pStart, `${id}/lee-office`, 'the process start listener ran with the starter as currentUser()');
    const work = await workOf(id);
    t.is((await c.admin.put(`/engine-rest/task/${work.id}`, { name: 'Work', priority: 77 })).status, 204);
    t.is((await variablesOf(c, id)).updated, 77, 'the update listener saw the task as changed');
    clock.advance(HOUR);
    t.is(await c.server.scheduler.runDue(), 1);
    t.is((await variablesOf(c, id)).timedOut, `timeout@${work.id}@lee-office`, 'the timeout listener saw the task, which stays open');
    t.truthy(await workOf(id));
    await complete(c, id, 'stopper');
    await assertNothingOpen(t, c, id);
    const vars = await variablesOf(c, id);
    t.is(vars.deleted, 'delete:work');
    t.is(vars.pEnd, 'delete:work', 'the process end listener ran after the delete listener');
  });

  test.serial(t('deleting the instance runs the delete and the process end listener in expression form'), async (t) => {
    const id = await start(c, 'listener-expressions-events', { starter: 'lee-office' });
    t.is((await c.admin.delete(`/engine-rest/process-instance/${id}`)).status, 204);
    t.is(await stateOf(c, id), 'EXTERNALLY_TERMINATED');
    const vars = await variablesOf(c, id);
    t.is(vars.deleted, 'delete:work');
    t.is(vars.pEnd, 'delete:work');
  });

}, () => new ManualClock(new Date('2026-12-01T01:00:00Z')));

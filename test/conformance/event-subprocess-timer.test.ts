import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { complete, finishWith, openKeys, passed, start, conformanceSuite, type Conformance } from './events-kit.ts';

/*
 * Timer starts of event sub-processes, over REST on both databases: a timer
 * row armed when the enclosing scope starts (GET /job lists it), fired by
 * the scheduler driven by hand on an injected clock, gone when the scope
 * ends. Interrupting and not; a cycle fires its count and stops.
 */

const HOUR = 3_600_000;

/** The instance's armed timers over REST, as `<activity>@<hours from now>`. */
async function jobs(c: Conformance, clock: ManualClock, id: string): Promise<string[]> {
  const r = await c.admin.get(`/engine-rest/job?processInstanceId=${id}`);
  if (r.status !== 200) throw new Error(`jobs: ${r.status}`);
  const now = (await clock.now()).getTime();
  return r.body.map((j: { jobDefinitionId: string; dueDate: string }) => `${j.jobDefinitionId.split(':').pop()}@${(new Date(j.dueDate).getTime() - now) / HOUR}`).sort();
}

conformanceSuite(['esp-timer-interrupting.bpmn', 'esp-timer-noninterrupting.bpmn', 'esp-timer-cycle.bpmn'], 'esptimer', (c, t, clockOf) => {
  const clock = clockOf as ManualClock;
  const fire = () => c.server.scheduler.runDue();

  test.serial(t('an interrupting timer start is armed when the process starts; when due it cancels the task and runs its sub-process'), async (t) => {
    const id = await start(c, 'esp-timer-interrupting');
    t.deepEqual(await jobs(c, clock, id), ['eventStart@1']);
    clock.advance(HOUR - 1000);
    t.is(await fire(), 0, 'not before it is due');
    clock.advance(1000);
    t.is(await fire(), 1);
    t.deepEqual(await openKeys(c, id), ['handle']);
    t.deepEqual(await jobs(c, clock, id), []);
    await finishWith(t, c, id, 'handle', { taskEnds: ['handle:completed', 'work:deleted'], cancelled: ['work'] });
  });

  test.serial(t('the timer start goes with the process when it ends first'), async (t) => {
    const id = await start(c, 'esp-timer-interrupting');
    await finishWith(t, c, id, 'work');
    clock.advance(2 * HOUR);
    t.is(await fire(), 0);
    t.false((await passed(c, id)).includes('eventSub'));
  });

  test.serial(t('a non-interrupting duration start fires once; the task it ran beside stays'), async (t) => {
    const id = await start(c, 'esp-timer-noninterrupting');
    clock.advance(HOUR);
    t.is(await fire(), 1);
    t.deepEqual(await openKeys(c, id), ['handle', 'work']);
    t.deepEqual(await jobs(c, clock, id), [], 'a duration fires once');
    clock.advance(5 * HOUR);
    t.is(await fire(), 0);
    await complete(c, id, 'work');
    t.deepEqual(await openKeys(c, id), ['handle'], 'the process waits for its event sub-process');
    await finishWith(t, c, id, 'handle', { cancelled: [], taskEnds: ['handle:completed', 'work:completed'] });
  });

  test.serial(t('a non-interrupting cycle start inside a sub-process fires its count (R2), each time re-armed, then stops'), async (t) => {
    const id = await start(c, 'esp-timer-cycle');
    t.deepEqual(await jobs(c, clock, id), ['remindStart@1']);
    clock.advance(HOUR);
    t.is(await fire(), 1);
    t.deepEqual(await jobs(c, clock, id), ['remindStart@1'], 'armed again for the next hour');
    clock.advance(HOUR);
    t.is(await fire(), 1);
    t.deepEqual(await jobs(c, clock, id), [], 'two firings, as R2 says');
    t.is((await passed(c, id)).filter((a) => a === 'remindSub').length, 2);
    t.deepEqual(await openKeys(c, id), ['work']);
    await complete(c, id, 'work');
    await finishWith(t, c, id, 'after');
  });

  test.serial(t('the cycle\'s timer goes with its sub-process when the sub-process ends'), async (t) => {
    const id = await start(c, 'esp-timer-cycle');
    await complete(c, id, 'work');
    t.deepEqual(await openKeys(c, id), ['after']);
    t.deepEqual(await jobs(c, clock, id), [], 'the sub-process ended, its timer start with it');
    clock.advance(3 * HOUR);
    t.is(await fire(), 0);
    await finishWith(t, c, id, 'after');
    t.false((await passed(c, id)).includes('remindSub'));
  });

  test.serial(t('two instances armed at different times fire each at its own time, once'), async (t) => {
    const a = await start(c, 'esp-timer-interrupting');
    clock.advance(HOUR / 2);
    const b = await start(c, 'esp-timer-interrupting');
    clock.advance(HOUR / 2);
    t.is(await fire(), 1);
    t.deepEqual(await openKeys(c, a), ['handle']);
    t.deepEqual(await openKeys(c, b), ['work']);
    clock.advance(HOUR / 2);
    t.is(await fire(), 1);
    t.deepEqual(await openKeys(c, b), ['handle']);
    for (const id of [a, b]) {
      await finishWith(t, c, id, 'handle');
    }
  });
}, () => new ManualClock(new Date('2026-12-01T01:00:00Z')));

import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { withServerProcesses } from '../helpers/child-server.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { NO_PROCESSES, startTestServer } from '../helpers/server.ts';
import { TIMERS_TOPIC } from '../../src/services/persist-runs.ts';

const postgres = backends.find((b) => b.name === 'postgres');
const TIMERS = 2000;
/** Timer start events (one process each) whose cycle falls due at the same moment. */
const STARTS = 30;
/*
 * The 10 s budget (from due to the last firing) is a speed figure:
 * bench/timers.ts measures it on a quiet machine. Here, with other suites
 * sharing two cores, the test proves exactly-once and only logs the time.
 */

/** A one-task process `key` started by an hourly cycle. */
const hourlyStart = (key: string) => Buffer.from(fixture('patrol-daily.bpmn').toString().replaceAll('patrol-daily', key)
  .replace('<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">0 0 2 * * ?</bpmn:timeCycle>', '<bpmn:timeCycle xsi:type="bpmn:tFormalExpression">R/PT1H</bpmn:timeCycle>'));

if (!postgres) {
  test.skip('three servers share due timers (needs TEST_DATABASE_URL)', () => undefined);
} else {
  test(`postgres: ${TIMERS} timers and ${STARTS} start timers due at the same moment fire exactly once across three server processes`, async (t) => {
    t.timeout(300_000);
    // This process arms the timers (its own scheduler is off); three spawned servers fire them.
    // Nobody deploys processes/: other people's cycles have no business in this count.
    const setup = await startTestServer(postgres, NO_PROCESSES, { runScheduler: false });
    try {
      await setup.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
      let next = 0;
      await Promise.all(Array.from({ length: 6 }, async () => {
        while (next++ < TIMERS) await setup.services.instances.startByKey('long-wait', { variables: {} }, adminPrincipal);
      }));
      for (let i = 0; i < STARTS; i++) await setup.services.deployments.deploy(oneResource(`cycle-${i}.bpmn`, hourlyStart(`cycle-${i}`)));
      t.is(Number((await setup.db('timers').count({ n: '*' }))[0].n), TIMERS);

      let due!: Date;
      await withServerProcesses(t, setup.testDb.url!, 3, async () => {
        // All three are up: /health answers only after the scheduler loop and its LISTEN
        // connection started, and nothing is due (the timers are 90 days off, the cycles an
        // hour). Now everything falls due at once, by the database's clock, announced the
        // way an armed timer is.
        due = await setup.db.transaction(async (trx) => {
          t.is(await trx('timers').update({ due_at: trx.fn.now() }), TIMERS);
          t.is(await trx('start_timers').where('definition_key', 'like', 'cycle-%').update({ due_at: trx.fn.now() }), STARTS);
          await setup.services.notifier.announce(trx, [TIMERS_TOPIC]);
          return new Date((await trx.raw('select now() as now')).rows[0].now);
        });
        // Waiting for three other processes to do the work: bounded polling of the database.
        // The budget is asserted below from the database's own timestamps, not from this loop.
        const pending = async () => {
          const [timers, started] = await Promise.all([
            setup.db('timers').count({ n: '*' }),
            setup.db('process_instances').where('definition_key', 'like', 'cycle-%').count({ n: '*' }),
          ]);
          return Number(timers[0].n) + STARTS - Number(started[0].n);
        };
        for (let i = 0; i < 1200 && (await pending()) > 0; i++) await sleep(50);
        t.is(await pending(), 0, 'every timer and every start timer fired');
      }, { PROCESSES_DIR: NO_PROCESSES.PROCESSES_DIR });

      // Exactly once: one firing recorded per timer, one follow-up task per instance.
      const fired = await setup.db('activity_instances').where({ activity_id: 'ninetyDays' }).whereNotNull('end_time').select('process_instance_id', 'end_time');
      t.is(fired.length, TIMERS, 'one firing per timer');
      t.is(new Set(fired.map((r: { process_instance_id: string }) => r.process_instance_id)).size, TIMERS, 'no timer fired twice');
      const reviews = await setup.db('tasks').where({ task_definition_key: 'review' }).select('process_instance_id');
      t.is(reviews.length, TIMERS, 'one task after each timer');
      t.is(new Set(reviews.map((r: { process_instance_id: string }) => r.process_instance_id)).size, TIMERS);
      // Each cycle started exactly one instance, and went back to its own schedule.
      const started = await setup.db('process_instances').where('definition_key', 'like', 'cycle-%').select('definition_key', 'start_time');
      t.deepEqual(started.map((r: { definition_key: string }) => r.definition_key).sort(), Array.from({ length: STARTS }, (_, i) => `cycle-${i}`).sort());
      const cycles = await setup.db('start_timers').where('definition_key', 'like', 'cycle-%');
      t.true(cycles.every((r: { attempts: number; last_error: string | null }) => r.attempts === 0 && r.last_error === null), 'no firing failed or lost a race it then counted as a failure');

      // From due to the last firing, by the database's clock: when each firing's transaction wrote its rows.
      const last = Math.max(...fired.map((r: { end_time: Date }) => new Date(r.end_time).getTime()), ...started.map((r: { start_time: Date }) => new Date(r.start_time).getTime()));
      const elapsed = last - due.getTime();
      t.log(`${TIMERS} timers and ${STARTS} start timers fired by 3 server processes; the last ${elapsed} ms after they fell due (database time)`);
    } finally {
      await setup.stop();
    }
  });
}

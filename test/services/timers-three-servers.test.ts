import test from 'ava';
import { withServerProcesses } from '../helpers/child-server.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { startTestServer } from '../helpers/server.ts';
import { TIMERS_TOPIC } from '../../src/services/execution.ts';

const postgres = backends.find((b) => b.name === 'postgres');
const TIMERS = 2000;

if (!postgres) {
  test.skip('three servers share due timers (needs TEST_DATABASE_URL)', () => undefined);
} else {
  test(`postgres: ${TIMERS} timers due at the same moment fire exactly once across three server processes`, async (t) => {
    t.timeout(240_000);
    // This process arms the timers (its own scheduler is off); three spawned servers fire them.
    const setup = await startTestServer(postgres, {}, { runScheduler: false });
    try {
      await setup.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
      for (let i = 0; i < TIMERS; i++) await setup.services.instances.startByKey('long-wait', { variables: {} }, adminPrincipal);
      await withServerProcesses(t, setup.testDb.url!, 3, async (servers) => {
        // The servers are up and idle (the timers are 90 days off). Now all of them fall due
        // at once, by the database's clock, announced the way an armed timer is.
        const began = Date.now();
        await setup.db.transaction(async (trx) => {
          t.is(await trx('timers').update({ due_at: trx.fn.now() }), TIMERS);
          await setup.services.notifier.announce(trx, [TIMERS_TOPIC]);
        });
        // Waiting for the other processes to do the work: bounded polling of the database.
        let left = TIMERS;
        for (let i = 0; i < 1200 && left > 0; i++) {
          await new Promise((resolve) => setTimeout(resolve, 50));
          left = Number((await setup.db('timers').count({ n: '*' }))[0].n);
        }
        const elapsed = Date.now() - began;
        t.is(left, 0, 'every timer fired');
        t.log(`${TIMERS} timers fired by 3 running server processes ${elapsed} ms after they fell due`);
        const reviews = await setup.db('tasks').where({ task_definition_key: 'review' }).select('process_instance_id');
        t.is(reviews.length, TIMERS, 'one task after each timer');
        t.is(new Set(reviews.map((r: { process_instance_id: string }) => r.process_instance_id)).size, TIMERS, 'no timer fired twice');
        const fired = await setup.db('activity_instances').where({ activity_id: 'ninetyDays' }).whereNotNull('end_time').select('process_instance_id');
        t.is(fired.length, TIMERS);
      });
    } finally {
      await setup.stop();
    }
  });
}

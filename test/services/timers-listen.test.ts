import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { NO_PROCESSES, startTestServer } from '../helpers/server.ts';

const postgres = backends.find((b) => b.name === 'postgres');
const DAY = 24 * 3600_000;

if (!postgres) {
  test.skip('the LISTEN connection comes back after it drops (needs TEST_DATABASE_URL)', () => undefined);
} else {
  test('postgres: after the LISTEN connection is killed it comes back, and a newly armed timer still wakes the sleeping scheduler at once', async (t) => {
    const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
    // The scheduler loop runs (30 s idle sleeps); time is the injected clock's.
    const s = await startTestServer(postgres, NO_PROCESSES, { clock, runScheduler: true });
    t.teardown(() => s.stop());
    await s.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
    const waiting = (await s.services.instances.startByKey('long-wait', { variables: {} }, adminPrincipal)).instance.id;
    const listenerPids = async (): Promise<number[]> => (await s.db.raw(
      `select pid from pg_stat_activity where datname = current_database() and query ilike 'listen %' and state = 'idle'`,
    )).rows.map((r: { pid: number }) => r.pid);

    const [before] = await listenerPids();
    t.truthy(before, 'the server listens');
    t.true((await s.db.raw('select pg_terminate_backend(?) as ok', [before])).rows[0].ok);
    // Waiting for another process (the database noticing, the client reconnecting with backoff):
    // bounded polling of the database, as no event of ours can say it from here.
    let after: number | undefined;
    for (let i = 0; i < 200 && !(after && after !== before && s.services.notifier.listening); i++) {
      await sleep(50);
      [after] = await listenerPids();
    }
    t.truthy(after, 'a LISTEN connection is back');
    t.not(after, before, 'on a new backend');
    t.true(s.services.notifier.listening);

    // The scheduler sleeps up to 30 s (nothing due for 90 days). The clock moves past the
    // 90 days, and arming another timer announces itself: the scheduler must wake now, not in 30 s.
    clock.advance(90 * DAY);
    const armedAt = Date.now();
    await s.services.instances.startByKey('deadlines', { variables: {} }, adminPrincipal);
    // Waiting for the scheduler loop, which runs on its own: bounded polling, 20 ms steps.
    let fired = false;
    while (!fired && Date.now() - armedAt < 10_000) {
      await sleep(20);
      fired = (await s.db('timers').where({ process_instance_id: waiting })).length === 0;
    }
    const elapsed = Date.now() - armedAt;
    t.true(fired, 'the 90-day timer fired');
    t.log(`fired ${elapsed} ms after the announcement`);
    t.true(elapsed < 5000, `woken by the announcement (${elapsed} ms), not by the 30 s idle timeout`);
    t.deepEqual((await s.services.tasks.list({ processInstanceId: waiting }, adminPrincipal)).map((x) => x.task_definition_key), ['review']);
  });
}

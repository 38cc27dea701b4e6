import test from 'ava';
import { backends } from './helpers/db.ts';
import { finishJob, insertBatch, lockPendingJob } from '../src/store/batches.ts';

/*
 * The last two jobs of a batch finishing at once, in two transactions (two
 * scheduler lanes, or two servers): each must not count the other's job as
 * still pending, or neither ends the batch and it stays "running" with every
 * job done (seen in the kill -9 batch test on PostgreSQL). PostgreSQL only:
 * PGlite has one connection, so its transactions never overlap.
 */

const postgres = backends.find((b) => b.name === 'postgres');

if (postgres) {
  test('two last jobs finishing in overlapping transactions end their batch', async (t) => {
    const { db, drop } = await postgres.create();
    try {
      const batch = await insertBatch(db, { id: '00000000-0000-4000-8000-00000000b001', type: 'instance-modification', configuration: {}, create_user_id: 'admin', tenant_id: null }, ['pi-1', 'pi-2']);
      const jobs = await db('batch_jobs').where({ batch_id: batch.id }).orderBy('process_instance_id');
      const a = await db.transaction();
      const b = await db.transaction();
      try {
        const heldA = (await lockPendingJob(a, jobs[0].id))!;
        const heldB = (await lockPendingJob(b, jobs[1].id))!;
        await finishJob(a, heldA, null);
        // b finishes while a has not committed: it waits for a's finish, then counts a's job done.
        let settled = false;
        const finishingB = finishJob(b, heldB, null).finally(() => { settled = true; });
        // a commits once b has either finished (without the fix) or waits on a lock of a's (with it).
        while (!settled) {
          const { rows } = await db.raw(`select count(*)::int as n from pg_locks where not granted and pid in (select pid from pg_stat_activity where datname = current_database())`);
          if (rows[0].n > 0) break;
        }
        await a.commit();
        await finishingB;
        await b.commit();
      } catch (err) {
        if (!a.isCompleted()) await a.rollback();
        if (!b.isCompleted()) await b.rollback();
        throw err;
      }
      const row = await db('batches').where({ id: batch.id }).first();
      t.truthy(row.end_time, 'the batch ended');
    } finally {
      await drop();
    }
  });
} else {
  test.skip('two last jobs finishing in overlapping transactions end their batch (needs TEST_DATABASE_URL: PostgreSQL)', () => {});
}

import test from 'ava';
import { makeDb } from '../../src/store/db.ts';
import { makeUser, type Client } from '../helpers/server.ts';
import { conformanceSuite, stateOf } from './events-kit.ts';
import { assertNothingLeft, json, start, tasksOf } from './helpers.ts';

/*
 * Two children of one parallel multi-instance call activity ending at the
 * same moment, completed over REST by two people (issue 14): each child's
 * end writes the caller in its own transaction, under the caller's
 * revision. On PostgreSQL the test holds the caller's row locked until both
 * commands wait on it (seen in pg_stat_activity, not by sleeping), so both
 * read the same revision of the caller and race for it: one commits, the
 * other finds the revision gone and runs again over the new one. On PGlite
 * (one connection) the two commands interleave on the server's event loop.
 * Either way both children count, nothing is lost and the caller goes on
 * exactly once.
 */

const int = (value: number) => ({ value, type: 'Integer' });
const str = (value: string) => ({ value, type: 'String' });

/** Holds the caller's row until `waiting` commands of this database wait for its lock; returns the release. */
async function holdUntilWaited(url: string, parent: string): Promise<{ waited: (n: number) => Promise<void>; release: () => Promise<void> }> {
  const holder = makeDb({ databaseUrl: url });
  const trx = await holder.transaction();
  await trx.raw('select id from process_instances where id = ? for update', [parent]);
  return {
    async waited(n) {
      // Asks the database which sessions wait for a lock; no timer involved.
      for (;;) {
        const r = await holder.raw(`select count(*)::int as n from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock'`);
        if (r.rows[0].n >= n) return;
        await new Promise((resolve) => setImmediate(resolve));
      }
    },
    async release() {
      await trx.commit();
      await holder.destroy();
    },
  };
}

conformanceSuite(['ca-child.bpmn', 'ca-mi-parallel.bpmn'], 'cac', (c, t) => {
  test.serial(t('two children of a parallel multi-instance call activity completed at the same moment by two people: both count, the caller goes on exactly once'), async (tt) => {
    const second: Client = await makeUser(c.server, 'cac-office-2', ['office']);
    const parent = await start(c.office, 'ca-mi-parallel', { items: json(['a', 'b']), shared: str('S'), stopAfter: int(99) });
    const kids = (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${parent}`)).body.map((i: { id: string }) => i.id) as string[];
    tt.is(kids.length, 2);
    const [taskA] = await tasksOf(c.admin, kids[0]!);
    const [taskB] = await tasksOf(c.admin, kids[1]!);
    const revBefore = (await c.server.db('process_instances').where({ id: parent }).first()).rev as number;

    const url = c.server.testDb.url;
    const lock = url ? await holdUntilWaited(url, parent) : undefined;
    const answers = Promise.all([
      c.office.post(`/engine-rest/task/${taskA.id}/complete`, {}),
      second.post(`/engine-rest/task/${taskB.id}/complete`, {}),
    ]);
    if (lock) {
      await lock.waited(2);
      await lock.release();
    }
    const [a, b] = await answers;
    tt.is(a.status, 204, JSON.stringify(a.body));
    tt.is(b.status, 204, JSON.stringify(b.body));

    // Both children ended, each once; the caller went on once, to exactly one 'after'.
    for (const kid of kids) tt.is(await stateOf(c, kid), 'COMPLETED');
    const open = await tasksOf(c.admin, parent);
    tt.deepEqual(open.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['after']);
    const rows = await c.server.db('activity_instances').where({ process_instance_id: parent }).select('activity_id', 'end_time');
    const count = (id: string) => rows.filter((r: { activity_id: string }) => r.activity_id === id).length;
    tt.is(count('after'), 1, 'one activity instance after the loop');
    tt.is(count('call#multiInstanceBody'), 1, 'one multi-instance body');
    tt.true(rows.filter((r: { activity_id: string }) => r.activity_id.startsWith('call')).every((r: { end_time: unknown }) => r.end_time), 'the call activity ended whole');
    tt.is((await c.server.db('tasks').where({ process_instance_id: parent })).length, 1, 'one task row for the caller');
    const revAfter = (await c.server.db('process_instances').where({ id: parent }).first()).rev as number;
    tt.is(revAfter, revBefore + 2, 'each child wrote the caller once: two revisions, none lost');
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${parent}`)).body;
    tt.is(history.length, 1);

    tt.is((await c.office.post(`/engine-rest/task/${open[0].id}/complete`, {})).status, 204);
    await assertNothingLeft(tt, c.server, c.admin, parent);
    for (const kid of kids) await assertNothingLeft(tt, c.server, c.admin, kid);
  });
});

import type { PGlite } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import { toHeads, TRACE_HEADS_SQL, type TraceHead } from './trace.ts';

/** What a backup of the embedded database holds: the data folder, and the trace's heads in it. */
export interface EmbeddedDump {
  archive: Blob;
  heads: TraceHead[];
}

/**
 * Dumps the embedded database's data folder (tar, gzip) while the server
 * runs. PGlite has one connection: holding it, no statement of anyone else
 * runs and no transaction is open, so the copy is of committed work only, and
 * the heads read on the same connection are the heads of that copy. Requests
 * wait meanwhile; one that waits past the pool's timeout is answered 503 (db.ts).
 * Never call it inside a transaction: that holds the connection it waits for.
 */
export async function dumpEmbedded(db: Knex): Promise<EmbeddedDump> {
  const client = db.client as { acquireConnection(): Promise<PGlite>; releaseConnection(c: PGlite): Promise<void> };
  const connection = await client.acquireConnection();
  try {
    const heads = toHeads((await connection.query<TraceHead>(TRACE_HEADS_SQL)).rows);
    const archive = await connection.dumpDataDir('gzip');
    return { archive, heads };
  } finally {
    await client.releaseConnection(connection);
  }
}

/**
 * Runs `dump` with a snapshot of the PostgreSQL database exported for it
 * (pg_dump --snapshot) and the trace heads read in that same snapshot, so
 * the heads recorded beside a dump are exactly the heads inside it.
 */
export async function withExportedSnapshot<T>(db: Knex, dump: (snapshot: string, heads: TraceHead[]) => Promise<T>): Promise<T> {
  return db.transaction(async (trx) => {
    const snapshot = (await trx.raw('select pg_export_snapshot() as s')).rows[0].s as string;
    const heads = toHeads((await trx.raw(TRACE_HEADS_SQL)).rows);
    return dump(snapshot, heads);
  }, { isolationLevel: 'repeatable read', readOnly: true });
}

/** Whether the database holds no table of ours yet (a restore goes only into an empty one). */
export async function isEmptyDatabase(db: Knex): Promise<boolean> {
  const rows = await db.raw(`select 1 from information_schema.tables where table_schema = 'public' limit 1`);
  return rows.rows.length === 0;
}

/** Which of `heads` the database holds with the same hash, and which it does not. */
export async function matchHeads(db: Knex, heads: TraceHead[]): Promise<{ found: TraceHead[]; missing: TraceHead[] }> {
  const rows: { id: string; hash: string }[] = heads.length
    ? await db('trace').whereIn('id', heads.map((h) => h.id)).select(db.raw('id::text as id'), 'hash')
    : [];
  const byId = new Map(rows.map((r) => [r.id, r.hash]));
  return { found: heads.filter((h) => byId.get(h.id) === h.hash), missing: heads.filter((h) => byId.get(h.id) !== h.hash) };
}

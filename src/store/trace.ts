import type { Db } from './db.ts';
import { paged, countOf } from './paging.ts';

/** What a trace row says, before the chain seals it. */
export interface TraceContent {
  time: Date;
  user_id: string;
  source: string | null;
  operation: string;
  entity_type: string;
  entity_id: string | null;
  process_instance_id: string | null;
  details: Record<string, unknown>;
}

export interface TraceRow extends TraceContent {
  id: string;
  chain: number;
  prev_hash: string;
  hash: string;
}

/** The hash before the first row of each chain. */
export const GENESIS = '0'.repeat(64);

/**
 * How many chains the trace is split into. An appender holds its chain's
 * lock until it commits, and a commit waits for the disk: with one chain,
 * every traced action in every server process would commit one at a time.
 */
export const CHAINS = 16;

/**
 * Appends rows to their chains inside `trx`, the transaction of the action
 * they record. Each chain's lock serialises its appenders across server
 * processes until commit, so each row's predecessor is the chain's last
 * committed row and ids follow chain order. The locks are taken in chain
 * order, so two transactions appending to several chains cannot deadlock.
 * `seal` computes a row's hash from the previous one. Three statements,
 * however many chains and rows.
 */
export async function appendTrace(
  trx: Db, rows: (Omit<TraceContent, 'time'> & { chain: number })[], seal: (prevHash: string, row: TraceContent) => string,
): Promise<void> {
  if (!rows.length) return;
  const chains = [...new Set(rows.map((r) => r.chain))].sort((a, b) => a - b);
  // Lowest chain first: PostgreSQL evaluates a volatile function in the select list after ORDER BY.
  await trx.raw(`select pg_advisory_xact_lock(hashtext('trace-chain-' || c)) from unnest(?::int[]) as c order by c`, [chains]);
  // A statement of its own, after the locks: its snapshot sees every append committed before they were granted.
  // Whole milliseconds, the precision of a JS Date: the time hashed is exactly the time stored
  // (timestamptz keeps microseconds; verification refuses a stored time finer than this).
  const result = await trx.raw(`select date_trunc('milliseconds', now()) as now, c as chain,
    (select hash from trace where chain = c order by id desc limit 1) as prev from unnest(?::int[]) as c`, [chains]);
  const heads: { now: string; chain: number; prev: string | null }[] = result.rows ?? result;
  const prev = new Map(heads.map((h) => [Number(h.chain), h.prev ?? GENESIS]));
  const time = new Date(heads[0].now);
  const sealed = rows.map(({ chain, ...r }) => {
    const content = { ...r, time };
    const hash = seal(prev.get(chain)!, content);
    const row = { ...content, chain, details: JSON.stringify(content.details), prev_hash: prev.get(chain)!, hash };
    prev.set(chain, hash);
    return row;
  });
  await trx('trace').insert(sealed);
}

/**
 * Rows of one chain in chain order after `afterId`, for verification.
 * `subMillisecond` says whether the stored time has a part finer than the
 * millisecond: a JS Date (what the hash covers) drops it when read, so an
 * edit of the microseconds would otherwise go unseen. Rows are written with
 * whole milliseconds (appendTrace), so any such part is an edit.
 */
export async function traceBatch(db: Db, chain: number, afterId: string | null, limit: number): Promise<(TraceRow & { subMillisecond: boolean })[]> {
  const q = db('trace').select('*', db.raw(`time <> date_trunc('milliseconds', time) as "subMillisecond"`)).where({ chain }).orderBy('id').limit(limit);
  if (afterId != null) q.where('id', '>', afterId);
  return normalise(await q);
}

/** The newest row of `operation` on `entityType` (few rows: trace_operation_idx finds it without a scan). */
export async function lastTraceOf(db: Db, operation: string, entityType: string): Promise<TraceRow | undefined> {
  return normalise(await db('trace').where({ operation, entity_type: entityType }).orderBy('id', 'desc').limit(1))[0];
}

export interface TraceQuery {
  userId?: string | undefined;
  operationType?: string | undefined;
  entityType?: string | undefined;
  entityId?: string | undefined;
  processInstanceId?: string | undefined;
  afterTimestamp?: Date | undefined;
  beforeTimestamp?: Date | undefined;
  /** Only reads (operation `Read`), or only changes. */
  reads?: boolean | undefined;
  sorting?: { column: string; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

function filtered(db: Db, q: TraceQuery) {
  const b = db('trace');
  if (q.userId) b.where('user_id', q.userId);
  if (q.operationType) b.where('operation', q.operationType);
  if (q.entityType) b.where('entity_type', q.entityType);
  if (q.entityId) b.where('entity_id', q.entityId);
  // A read of several instances names them in its details (read-trace.ts), and is found by each.
  if (q.processInstanceId) {
    const id = q.processInstanceId;
    b.where((w) => w.where('process_instance_id', id).orWhereRaw(`details->'processInstanceIds' @> jsonb_build_array(?::text)`, [id]));
  }
  if (q.afterTimestamp) b.where('time', '>', q.afterTimestamp);
  if (q.beforeTimestamp) b.where('time', '<', q.beforeTimestamp);
  if (q.reads === true) b.where('operation', 'Read');
  if (q.reads === false) b.whereNot('operation', 'Read');
  return b;
}

export async function queryTrace(db: Db, q: TraceQuery): Promise<TraceRow[]> {
  return normalise(await paged(filtered(db, q).select('*'), q, [{ column: 'id', order: 'asc' }], 'id'));
}

export async function countTrace(db: Db, q: TraceQuery): Promise<number> {
  return countOf(filtered(db, q));
}

/** bigint ids come back as strings from pg and as numbers or bigints from PGlite. */
function normalise<R extends TraceRow>(rows: R[]): R[] {
  return rows.map((r) => ({ ...r, id: String(r.id), chain: Number(r.chain), time: new Date(r.time) }));
}

/** The last row of each chain (its head), as a backup records them. */
export const TRACE_HEADS_SQL = 'select distinct on (chain) chain, id::text as id, hash from trace order by chain, id desc';

export interface TraceHead { chain: number; id: string; hash: string }

export async function traceHeads(db: Db): Promise<TraceHead[]> {
  return toHeads((await db.raw(TRACE_HEADS_SQL)).rows);
}

export const toHeads = (rows: TraceHead[]): TraceHead[] => rows.map((r) => ({ chain: Number(r.chain), id: String(r.id), hash: r.hash }));

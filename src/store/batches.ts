import { randomUUID } from 'node:crypto';
import type { Db } from './db.ts';
import { paged } from './paging.ts';

export interface BatchRow {
  id: string;
  type: string;
  total_jobs: number;
  invocations_per_batch_job: number;
  configuration: unknown;
  suspended: boolean;
  tenant_id: string | null;
  create_user_id: string | null;
  start_time: Date;
  end_time: Date | null;
}

/** A batch with its jobs counted (Camunda's batch statistics). */
export interface BatchFigures extends BatchRow {
  remaining: number;
  completed: number;
  failed: number;
}

export interface BatchJobRow {
  id: string;
  batch_id: string;
  process_instance_id: string;
  state: 'pending' | 'done' | 'failed';
  locked_by: string | null;
  locked_until: Date | null;
  exception_message: string | null;
  done_at: Date | null;
}

/** Inserts a batch and one pending job per instance, in the caller's transaction. */
export async function insertBatch(db: Db, batch: Pick<BatchRow, 'id' | 'type' | 'configuration' | 'create_user_id' | 'tenant_id'>, instanceIds: string[]): Promise<BatchRow> {
  const [row] = await db('batches').insert({ ...batch, configuration: JSON.stringify(batch.configuration), total_jobs: instanceIds.length }).returning('*');
  for (let i = 0; i < instanceIds.length; i += 500) {
    await db('batch_jobs').insert(instanceIds.slice(i, i + 500).map((id) => ({ id: randomUUID(), batch_id: batch.id, process_instance_id: id })));
  }
  return row;
}

export interface BatchQuery {
  id?: string | undefined;
  type?: string | undefined;
  suspended?: boolean | undefined;
  /** Runtime batches (not ended) or ended ones (history); both when undefined. */
  ended?: boolean | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

function filtered(db: Db, q: BatchQuery) {
  const b = db('batches as b');
  if (q.id) b.where('b.id', q.id);
  if (q.type) b.where('b.type', q.type);
  if (q.suspended !== undefined) b.where('b.suspended', q.suspended);
  if (q.ended === true) b.whereNotNull('b.end_time');
  if (q.ended === false) b.whereNull('b.end_time');
  return b;
}

/** Batches with their job figures, oldest first. */
export async function listBatches(db: Db, q: BatchQuery): Promise<BatchFigures[]> {
  const counted = filtered(db, q).select('b.*',
    db.raw(`(select count(*)::int from batch_jobs j where j.batch_id = b.id and j.state = 'pending') as remaining`),
    db.raw(`(select count(*)::int from batch_jobs j where j.batch_id = b.id and j.state = 'done') as completed`),
    db.raw(`(select count(*)::int from batch_jobs j where j.batch_id = b.id and j.state = 'failed') as failed`));
  return paged(counted, q, [{ column: 'start_time', order: 'asc' }], 'b.id', 'b.');
}

export async function countBatches(db: Db, q: BatchQuery): Promise<number> {
  const [row] = await filtered(db, q).count({ n: '*' });
  return Number(row?.n ?? 0);
}

export async function findBatch(db: Db, id: string): Promise<BatchRow | undefined> {
  return db('batches').where({ id }).first();
}

export async function setBatchSuspended(db: Db, id: string, suspended: boolean): Promise<boolean> {
  return (await db('batches').where({ id }).whereNull('end_time').update({ suspended })) === 1;
}

/** Deletes a running batch: its pending jobs go; with `cascade` its row too (history), else it ends, kept as history. */
export async function deleteBatch(db: Db, id: string, cascade: boolean): Promise<boolean> {
  // returning: on PGlite a delete that cascades (to batch_jobs) reports no row count.
  if (cascade) return (await db('batches').where({ id }).whereNull('end_time').delete().returning('id')).length === 1;
  const ended = await db('batches').where({ id }).whereNull('end_time').update({ end_time: db.fn.now() });
  await db('batch_jobs').where({ batch_id: id, state: 'pending' }).delete();
  return ended === 1;
}

/**
 * Deletes an ended batch's history (its row and its jobs). A running batch is
 * left alone: its history is the running batch itself here. Returns whether
 * it was deleted, or what stood in the way.
 */
export async function deleteEndedBatch(db: Db, id: string): Promise<'deleted' | 'running' | 'missing'> {
  const row = await db('batches').where({ id }).forUpdate().first('end_time');
  if (!row) return 'missing';
  if (!row.end_time) return 'running';
  await db('batches').where({ id }).delete();
  return 'deleted';
}

/**
 * Leases up to `limit` pending jobs of running, unsuspended batches nobody
 * holds, for `owner` until `ms` from the database's now. The lease only
 * spreads work between servers: the job is done under its row lock (lockJob).
 */
export async function leaseJobs(db: Db, owner: string, ms: number, limit: number): Promise<BatchJobRow[]> {
  const free = db('batch_jobs as j').select('j.id').join('batches as b', 'b.id', 'j.batch_id')
    .where('j.state', 'pending').andWhere('b.suspended', false).whereNull('b.end_time')
    .andWhere((w) => w.whereNull('j.locked_until').orWhere('j.locked_until', '<=', db.fn.now()))
    .orderBy('j.id').limit(limit).forUpdate('j').skipLocked();
  return db('batch_jobs').whereIn('id', free)
    .update({ locked_by: owner, locked_until: db.raw(`now() + (? || ' milliseconds')::interval`, [String(ms)]) }).returning('*');
}

/** Locks one job while it is still pending (in the transaction that does it); undefined when done or held by another. */
export async function lockPendingJob(db: Db, id: string): Promise<BatchJobRow | undefined> {
  return db('batch_jobs').where({ id, state: 'pending' }).forUpdate().skipLocked().first();
}

/**
 * Marks a job done or failed; a batch whose last pending job this was and none failed ends.
 * The batch row is locked first: two jobs finishing in overlapping transactions would each
 * count the other's as pending, and neither would end the batch. Locked, the second counts
 * after the first committed (a fresh snapshot per statement under read committed).
 */
export async function finishJob(db: Db, job: Pick<BatchJobRow, 'id' | 'batch_id'>, failure: string | null): Promise<void> {
  await db('batches').where({ id: job.batch_id }).forUpdate().first('id');
  await db('batch_jobs').where({ id: job.id })
    .update({ state: failure ? 'failed' : 'done', exception_message: failure?.slice(0, 4000) ?? null, done_at: db.fn.now(), locked_by: null, locked_until: null });
  const left = await db('batch_jobs').where({ batch_id: job.batch_id }).whereNot('state', 'done').first('id');
  if (!left) await db('batches').where({ id: job.batch_id }).whereNull('end_time').update({ end_time: db.fn.now() });
}

/** Milliseconds until a pending job may be leased, or undefined when none waits. */
export async function msUntilNextJob(db: Db): Promise<number | undefined> {
  const row = await db('batch_jobs as j').join('batches as b', 'b.id', 'j.batch_id')
    .where('j.state', 'pending').andWhere('b.suspended', false).whereNull('b.end_time')
    .first(db.raw('min(coalesce(j.locked_until, now())) as next'), db.raw('now() as now'));
  // No pending job: min() is null, and nothing is due (greatest(0, null) would say "now", a busy loop).
  if (!row?.next) return undefined;
  return Math.max(0, new Date(row.next).getTime() - new Date(row.now).getTime());
}

/** Running batches whose configuration carries a sealed value (variables-async, message-async) under a key other than `keyId`. */
export async function listBatchesSealedUnderOtherKeys(db: Db, keyId: string): Promise<BatchRow[]> {
  return db('batches').whereNull('end_time').whereRaw("configuration->'sealed'->>'kid' <> ?", [keyId]);
}

/** Whether a running batch's configuration is sealed under `keyId`. */
export async function isKeyInUseByBatches(db: Db, keyId: string): Promise<boolean> {
  return (await db('batches').whereNull('end_time').whereRaw("configuration->'sealed'->>'kid' = ?", [keyId]).first(db.raw('1 as one'))) != null;
}

/** Replaces a batch's configuration only if it is still what was read. */
export async function replaceBatchConfiguration(db: Db, id: string, expected: unknown, next: unknown): Promise<boolean> {
  return (await db('batches').where({ id }).whereRaw('configuration = ?::jsonb', [JSON.stringify(expected)])
    .update({ configuration: JSON.stringify(next) }).returning('id')).length > 0;
}

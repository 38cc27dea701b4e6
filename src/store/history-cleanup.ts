import type { Db } from './db.ts';
import { deleteInstanceHistory } from './history-deletion.ts';

/** The one cleanup job's id: fixed, so servers starting together make one row (Camunda's degree of parallelism 1). */
export const CLEANUP_JOB_ID = 'history-cleanup';

export interface CleanupJobRow {
  id: string;
  due_at: Date | null;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: number;
  retries: number;
  last_error: string | null;
  created_at: Date;
  last_run_at: Date | null;
  last_removed: number | null;
}

export async function findCleanupJob(db: Db): Promise<CleanupJobRow | undefined> {
  return db('history_cleanup_jobs').where({ id: CLEANUP_JOB_ID }).first();
}

/**
 * Makes the job due at `dueAt` with its retries back (POST /history/cleanup):
 * made if missing, rescheduled otherwise. A run under way keeps its lease.
 */
export async function scheduleCleanupJob(db: Db, dueAt: Date | null): Promise<CleanupJobRow> {
  const [row] = await db('history_cleanup_jobs').insert({ id: CLEANUP_JOB_ID, due_at: dueAt })
    .onConflict('id').merge({ due_at: dueAt, retries: 3, attempts: 0, last_error: null }).returning('*');
  return row;
}

/** Makes the job if missing, and schedules it at `dueAt` if it is not scheduled (the window's next start). */
export async function ensureCleanupJob(db: Db, dueAt: Date): Promise<void> {
  await db('history_cleanup_jobs').insert({ id: CLEANUP_JOB_ID, due_at: dueAt }).onConflict('id').ignore();
  await db('history_cleanup_jobs').where({ id: CLEANUP_JOB_ID }).whereNull('due_at').update({ due_at: dueAt });
}

/**
 * Records a run that ended (nothing left, or the window closed) and the job's next due time
 * (null: none). A due time changed during the run (POST /history/cleanup asked again) is kept:
 * `claimedDue` is the one this run was started for.
 */
export async function finishCleanupRun(db: Db, owner: string, removed: number, at: Date, claimedDue: Date | null, nextDue: Date | null): Promise<void> {
  await db('history_cleanup_jobs').where({ id: CLEANUP_JOB_ID, locked_by: owner }).update({
    // Compared to the millisecond, the precision a due time has in JavaScript.
    due_at: db.raw(`case when date_trunc('milliseconds', due_at) is not distinct from date_trunc('milliseconds', ?::timestamptz)
      then ?::timestamptz else due_at end`, [claimedDue, nextDue]),
    locked_by: null, locked_until: null, attempts: 0, last_error: null, last_run_at: at, last_removed: removed,
  });
}

/**
 * A called instance whose caller's history was deleted (DELETE /history/process-instance/{id}
 * removes one row): a root from then on, or nothing would ever reach it again.
 */
export const ORPHAN = 'not exists (select 1 from process_instances caller where caller.id = pi.super_process_instance_id)';

/**
 * Root process instances (no caller, or none left) whose history is due for removal at
 * `now`: finished, of a definition with a time to live, ended at least that
 * many days ago (Camunda's removal-time strategy "end", by the root).
 * Locked with `skip locked`, so that two runs never take the same one.
 */
export async function lockExpiredRoots(db: Db, now: Date, limit: number): Promise<string[]> {
  const rows: { id: string }[] = await db('process_instances as pi').join('process_definitions as d', 'd.id', 'pi.definition_id')
    .select('pi.id').where((w) => w.whereNull('pi.super_process_instance_id').orWhereRaw(ORPHAN))
    .whereNotNull('pi.end_time').whereNot('pi.state', 'ACTIVE')
    .whereNotNull('d.history_ttl').whereRaw(`pi.end_time + d.history_ttl * interval '1 day' <= ?`, [now])
    .orderBy('pi.end_time').orderBy('pi.id').limit(limit).forUpdate('pi').skipLocked();
  return rows.map((r) => r.id);
}

/** The instances these roots called, at any depth (their history goes with the root's, as in Camunda). */
export async function descendantsOf(db: Db, roots: string[]): Promise<string[]> {
  if (!roots.length) return [];
  const result = await db.raw(`
    with recursive tree(id) as (
      select c.id from process_instances c where c.super_process_instance_id in (${roots.map(() => '?').join(', ')})
      union all
      select c.id from process_instances c join tree t on c.super_process_instance_id = t.id
    ) select id from tree`, roots);
  return ((result.rows ?? result) as { id: string }[]).map((r) => r.id);
}

/** Removes these instances' history (store/history-deletion.ts: everything but the trace). */
export async function deleteInstancesHistory(db: Db, ids: string[]): Promise<void> {
  for (const id of ids) await deleteInstanceHistory(db, id);
}

/**
 * Removes standalone decision evaluations (no process instance, not a
 * required decision of another) older than their definition's time to live
 * at `now`, with their inputs, outputs and required decisions (cascade).
 * Returns the ids removed.
 */
export async function deleteExpiredDecisions(db: Db, now: Date, limit: number): Promise<string[]> {
  const due = db('history_decision_instances as h').join('decision_definitions as d', 'd.id', 'h.decision_definition_id')
    .select('h.id').whereNull('h.process_instance_id').whereNull('h.root_decision_instance_id').whereNotNull('d.history_ttl')
    .whereRaw(`h.evaluation_time + d.history_ttl * interval '1 day' <= ?`, [now])
    .orderBy('h.evaluation_time').limit(limit).forUpdate('h').skipLocked();
  const gone: { id: string }[] = await db('history_decision_instances').whereIn('id', due).delete().returning('id');
  return gone.map((r) => r.id);
}

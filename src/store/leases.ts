import type { Knex } from 'knex';
import type { Db } from './db.ts';

/**
 * Due work kept as rows with a lease: instance timers (`timers`), start
 * timers (`start_timers`), thrown messages (`message_outbox`),
 * notifications to send (`notification_outbox`), deadline reminders (`task_reminders`) and the history cleanup job (`history_cleanup_jobs`) share the columns `due_at`, `locked_by`,
 * `locked_until`, `attempts` and `last_error`, and so these queries.
 */
export type LeasedTable = 'timers' | 'start_timers' | 'message_outbox' | 'notification_outbox' | 'task_reminders' | 'history_cleanup_jobs';

/**
 * Rows a scheduler may take at all: an instance timer with retries left (at
 * none it waits for a person, with an incident), a start timer in force
 * (not one set aside for a newer version).
 */
const takeable: Record<LeasedTable, (q: Knex.QueryBuilder) => Knex.QueryBuilder> = {
  // A suspended instance's timers, and a suspended definition's start timers, wait: they are
  // taken (at once, if overdue) on the first pass after activation, as Camunda's suspended jobs.
  // A timer suspended itself (PUT /job/{id}/suspended) waits the same way.
  timers: (q) => q.where('retries', '>', 0).where('job_suspended', false).whereNotIn('process_instance_id', (s) => s.select('id').from('process_instances').where('suspended', true)),
  start_timers: (q) => q.where('superseded', false).whereNotIn('definition_id', (s) => s.select('id').from('process_definitions').where('suspended', true)),
  message_outbox: (q) => q,
  // A notification sent, or given up on, stays as a record; it is never taken again.
  notification_outbox: (q) => q.whereNull('sent_at').whereNull('failed_at'),
  // A suspended instance's reminders wait too, and are sent on the first pass after activation.
  task_reminders: (q) => q.whereNotIn('task_id', (s) => s.select('tasks.id').from('tasks')
    .join('process_instances', 'process_instances.id', 'tasks.process_instance_id').where('process_instances.suspended', true)),
  // Out of retries, the cleanup job waits until it is asked for again (POST /history/cleanup).
  history_cleanup_jobs: (q) => q.where('retries', '>', 0),
};

/**
 * Claims up to `limit` rows due at `now` that nobody holds, for `owner`,
 * until `lockedUntil`. `skip locked` lets several schedulers claim at once
 * without waiting on each other or claiming the same row.
 */
export async function claimDue<Row>(db: Db, table: LeasedTable, now: Date, owner: string, lockedUntil: Date, limit: number): Promise<Row[]> {
  const due = takeable[table](db(table).select('id').where('due_at', '<=', now)
    // A lease or backoff ending now has ended (as nextClaimableAt says), so a loop woken then finds the row.
    .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<=', now)))
    .orderBy('due_at').limit(limit).forUpdate().skipLocked();
  return db(table).whereIn('id', due).update({ locked_by: owner, locked_until: lockedUntil }).returning('*');
}

/**
 * Records a failed firing; the row is tried again after `retryAt`. `also`
 * sets columns of its table's own (an instance timer's retries). Returns the
 * row as updated, or undefined when it is gone.
 */
export async function releaseFailed<Row>(
  db: Db, table: LeasedTable, id: string, error: string, retryAt: Date, also: Record<string, unknown> = {},
): Promise<Row | undefined> {
  const [row] = await db(table).where({ id })
    .update({ locked_by: null, locked_until: retryAt, last_error: error.slice(0, 2000), attempts: db.raw('attempts + 1'), ...also })
    .returning('*');
  return row;
}

/** The earliest moment something in `table` may be claimable, or undefined when it is empty. */
export async function nextClaimableAt(db: Db, table: LeasedTable): Promise<Date | undefined> {
  const row = await takeable[table](db(table).select(db.raw('min(greatest(due_at, coalesce(locked_until, due_at))) as next'))).first();
  return row?.next ? new Date(row.next) : undefined;
}

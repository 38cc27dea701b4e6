import type { Db } from './db.ts';
import { countOf, paged } from './paging.ts';

export interface TimerRow {
  id: string;
  process_instance_id: string;
  definition_id: string;
  activity_id: string;
  execution_id: string;
  timer_type: string;
  expression: string | null;
  due_at: Date;
  created_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: number;
  last_error: string | null;
}

export type NewTimerRow = Pick<TimerRow, 'id' | 'process_instance_id' | 'definition_id' | 'activity_id' | 'execution_id' | 'timer_type' | 'expression' | 'due_at'>;

export async function insertTimers(db: Db, rows: NewTimerRow[]): Promise<void> {
  if (!rows.length) return;
  await db('timers').insert(rows).onConflict(['process_instance_id', 'execution_id']).ignore();
}

/** Removes the timers of elements that ended or were cancelled (their execution ids end in `_<n>`). */
export async function deleteTimersOfActivities(db: Db, instanceId: string, activityExecutionIds: string[]): Promise<void> {
  if (!activityExecutionIds.length) return;
  await db('timers').where({ process_instance_id: instanceId })
    .andWhere((w) => {
      for (const id of activityExecutionIds) w.orWhereLike('execution_id', `${id.replace(/[\\%_]/g, '\\$&')}\\_%`);
    })
    .delete();
}

export async function deleteTimersOfInstance(db: Db, instanceId: string): Promise<void> {
  await db('timers').where({ process_instance_id: instanceId }).delete();
}

export async function timerExists(db: Db, id: string): Promise<boolean> {
  return (await db('timers').where({ id }).first('id')) != null;
}

/**
 * Claims up to `limit` timers due at `now` that nobody holds, for `owner`,
 * until `lockedUntil`. `skip locked` lets several schedulers claim at once
 * without waiting on each other or claiming the same timer.
 */
export async function claimDueTimers(db: Db, now: Date, owner: string, lockedUntil: Date, limit: number): Promise<TimerRow[]> {
  const due = db('timers').select('id').where('due_at', '<=', now)
    .andWhere((w) => w.whereNull('locked_until').orWhere('locked_until', '<', now))
    .orderBy('due_at').limit(limit).forUpdate().skipLocked();
  return db('timers').whereIn('id', due).update({ locked_by: owner, locked_until: lockedUntil }).returning('*');
}

/** Records a failed firing; the timer is tried again after `retryAt`. */
export async function releaseFailedTimer(db: Db, id: string, error: string, retryAt: Date): Promise<void> {
  await db('timers').where({ id }).update({ locked_by: null, locked_until: retryAt, last_error: error.slice(0, 2000), attempts: db.raw('attempts + 1') });
}

/** The earliest due time after which something may be claimable, or undefined when no timer is armed. */
export async function nextDueAt(db: Db): Promise<Date | undefined> {
  const row = await db('timers').select(db.raw('min(greatest(due_at, coalesce(locked_until, due_at))) as next')).first();
  return row?.next ? new Date(row.next) : undefined;
}

export interface TimerQuery {
  id?: string | undefined;
  processInstanceId?: string | undefined;
  dueBefore?: Date | undefined;
  dueAfter?: Date | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export async function queryTimers(db: Db, q: TimerQuery): Promise<(TimerRow & { definition_key: string })[]> {
  return paged(filteredTimers(db, q).select('t.*', 'd.key as definition_key'), q, [{ column: 'due_at', order: 'asc' }], 't.id', 't.');
}

export async function countTimers(db: Db, q: TimerQuery): Promise<number> {
  return countOf(filteredTimers(db, q));
}

function filteredTimers(db: Db, q: TimerQuery) {
  const b = db('timers as t').join('process_definitions as d', 'd.id', 't.definition_id');
  if (q.id) b.where('t.id', q.id);
  if (q.processInstanceId) b.where('t.process_instance_id', q.processInstanceId);
  if (q.dueBefore) b.where('t.due_at', '<', q.dueBefore);
  if (q.dueAfter) b.where('t.due_at', '>', q.dueAfter);
  return b;
}

export async function findTimer(db: Db, id: string): Promise<TimerRow | undefined> {
  return db('timers').where({ id }).first();
}

export async function setTimerDue(db: Db, id: string, dueAt: Date): Promise<number> {
  return db('timers').where({ id }).update({ due_at: dueAt, locked_by: null, locked_until: null });
}

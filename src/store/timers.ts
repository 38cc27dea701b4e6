import type { Knex } from 'knex';
import type { Db, ExecutionRef } from './db.ts';
import { endIncidentsOf } from './incidents.ts';
import { releaseFailed } from './leases.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged } from './paging.ts';
import { suspendedColumn, whereInstanceSuspended } from './suspension.ts';

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
  /** Firings that may still fail before the timer raises an incident and waits for a person (Camunda's job retries). */
  retries: number;
  last_error: string | null;
  /** Its instance is suspended (read by queryTimers). */
  suspended?: boolean;
}

export type NewTimerRow = Pick<TimerRow, 'id' | 'process_instance_id' | 'definition_id' | 'activity_id' | 'execution_id' | 'timer_type' | 'expression' | 'due_at'>;

export async function insertTimers(db: Db, rows: NewTimerRow[]): Promise<void> {
  if (!rows.length) return;
  await db('timers').insert(rows).onConflict(['process_instance_id', 'execution_id']).ignore();
}

/**
 * Deletes timers; those that had raised an incident (no retries left) take
 * it with them. The extra statement runs only then, never on a plain firing.
 */
async function deleteTimers(db: Db, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder): Promise<void> {
  const gone: { id: string; retries: number }[] = await where(db('timers')).delete().returning(['id', 'retries']);
  await endIncidentsOf(db, gone.filter((t) => t.retries === 0).map((t) => t.id));
}

/** Removes the timers of elements that ended or were cancelled (their execution ids end in `_<n>`). */
export async function deleteTimersOfActivities(db: Db, activities: ExecutionRef[]): Promise<void> {
  if (!activities.length) return;
  await deleteTimers(db, (q) => q.where((w) => {
    for (const a of activities) {
      w.orWhere((one) => one.where('process_instance_id', a.instanceId).andWhereLike('execution_id', `${a.executionId.replace(/[\\%_]/g, '\\$&')}\\_%`));
    }
  }));
}

export async function deleteTimersOfInstance(db: Db, instanceId: string): Promise<void> {
  await deleteTimers(db, (q) => q.where({ process_instance_id: instanceId }));
}

export async function deleteTimer(db: Db, id: string): Promise<void> {
  await deleteTimers(db, (q) => q.where({ id }));
}

/**
 * Records a failed firing, tried again after `retryAt`; with `useRetry` one
 * retry is used up. Returns the retries left.
 */
export async function recordTimerFailure(db: Db, id: string, error: string, retryAt: Date, useRetry = true): Promise<number | undefined> {
  const row = await releaseFailed<TimerRow>(db, 'timers', id, error, retryAt, useRetry ? { retries: db.raw('greatest(retries - 1, 0)') } : {});
  return row?.retries;
}

export async function timerExists(db: Db, id: string): Promise<boolean> {
  return (await db('timers').where({ id }).first('id')) != null;
}

export interface TimerQuery {
  id?: string | undefined;
  processInstanceId?: string | undefined;
  executionId?: string | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  activityId?: string | undefined;
  /** Only timers whose last firing failed. */
  withException?: boolean | undefined;
  /** Only timers that have used up their retries (true: waiting with an incident), or that have some left (false). */
  noRetriesLeft?: boolean | undefined;
  dueBefore?: Date | undefined;
  dueAfter?: Date | undefined;
  /** Camunda's suspended / active: timers of suspended (true) or active (false) instances. */
  suspended?: boolean | undefined;
  /** Only timers of instances this user may see (non-administrators). */
  visibleTo?: { userId: string; groups: string[] } | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export async function queryTimers(db: Db, q: TimerQuery): Promise<(TimerRow & { definition_key: string })[]> {
  return paged(filteredTimers(db, q).select('t.*', 'd.key as definition_key', suspendedColumn(db, 't.process_instance_id')), q, [{ column: 'due_at', order: 'asc' }], 't.id', 't.');
}

export async function countTimers(db: Db, q: TimerQuery): Promise<number> {
  return countOf(filteredTimers(db, q));
}

function filteredTimers(db: Db, q: TimerQuery) {
  const b = db('timers as t').join('process_definitions as d', 'd.id', 't.definition_id');
  if (q.id) b.where('t.id', q.id);
  if (q.processInstanceId) b.where('t.process_instance_id', q.processInstanceId);
  if (q.executionId) b.where('t.execution_id', q.executionId);
  if (q.processDefinitionId) b.where('t.definition_id', q.processDefinitionId);
  if (q.processDefinitionKey) b.where('d.key', q.processDefinitionKey);
  if (q.activityId) b.where('t.activity_id', q.activityId);
  if (q.withException) b.whereNotNull('t.last_error');
  if (q.noRetriesLeft === true) b.where('t.retries', '<=', 0);
  if (q.noRetriesLeft === false) b.where('t.retries', '>', 0);
  if (q.dueBefore) b.where('t.due_at', '<', q.dueBefore);
  if (q.dueAfter) b.where('t.due_at', '>', q.dueAfter);
  whereInstanceSuspended(db, b, 't.process_instance_id', q.suspended);
  if (q.visibleTo) b.whereIn('t.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

export async function findTimer(db: Db, id: string): Promise<TimerRow | undefined> {
  return db('timers').where({ id }).first();
}

export async function setTimerDue(db: Db, id: string, dueAt: Date): Promise<number> {
  return db('timers').where({ id }).update({ due_at: dueAt, locked_by: null, locked_until: null });
}

import type { Knex } from 'knex';
import type { Db, ExecutionRef } from './db.ts';
import { endIncidentsOf } from './incidents.ts';
import { logJobs, type JobLogState } from './job-log.ts';
import { releaseFailed } from './leases.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged } from './paging.ts';
import { whereInstanceSuspended } from './suspension.ts';

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
  /** Suspended itself (PUT /job/{id}/suspended), whatever its instance. */
  job_suspended: boolean;
  /** Shown as the job's priority; bigint, read as text by pg. */
  priority: string | number;
  /** It or its instance is suspended (read by queryTimers). */
  suspended?: boolean;
}

export type NewTimerRow = Pick<TimerRow, 'id' | 'process_instance_id' | 'definition_id' | 'activity_id' | 'execution_id' | 'timer_type' | 'expression' | 'due_at'>;

/** Arms timers (one per execution: a second is ignored) and logs each one armed as a job's creation. */
export async function insertTimers(db: Db, rows: NewTimerRow[]): Promise<void> {
  if (!rows.length) return;
  const armed: TimerRow[] = await db('timers').insert(rows).onConflict(['process_instance_id', 'execution_id']).ignore().returning('*');
  await logJobs(db, armed, 'creation');
}

/**
 * Deletes timers; those that had raised an incident (no retries left) take
 * it with them. The extra statement runs only then, never on a plain firing.
 * Each is logged as it was, a deletion unless told it fired (`success`; a
 * timer the engine's firing removed is re-logged so by logJobSuccess).
 */
async function deleteTimers(db: Db, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder, state: JobLogState = 'deletion'): Promise<void> {
  const gone: TimerRow[] = await where(db('timers')).delete().returning('*');
  await logJobs(db, gone, state);
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

/** Deletes one timer: `success` when its firing is what removes it (a timeout listener's). */
export async function deleteTimer(db: Db, id: string, state: JobLogState = 'deletion'): Promise<void> {
  await deleteTimers(db, (q) => q.where({ id }), state);
}

/**
 * Records a failed firing, tried again after `retryAt`; with `useRetry` one
 * retry is used up. Returns the retries left.
 */
export async function recordTimerFailure(db: Db, id: string, error: string, retryAt: Date, useRetry = true): Promise<number | undefined> {
  // Logged with the retries it had when it failed, as Camunda's failure log shows them (0 stays 0:
  // an administrator may execute a timer whose retries are used up).
  const before = await db('timers').where({ id }).first('retries');
  const row = await releaseFailed<TimerRow>(db, 'timers', id, error, retryAt, useRetry ? { retries: db.raw('greatest(retries - 1, 0)') } : {});
  if (row) await logJobs(db, [row], 'failure', { message: error.slice(0, 2000), retries: before?.retries ?? row.retries });
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
  const suspended = db.raw(`(t.job_suspended or exists (select 1 from process_instances s where s.id = t.process_instance_id and s.suspended)) as suspended`);
  return paged(filteredTimers(db, q).select('t.*', 'd.key as definition_key', suspended), q, [{ column: 'due_at', order: 'asc' }], 't.id', 't.');
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
  // Suspended: the timer or its instance; active: neither.
  if (q.suspended === true) {
    b.where((w) => w.where('t.job_suspended', true).orWhereIn('t.process_instance_id', db('process_instances as s').select('s.id').where('s.suspended', true)));
  }
  if (q.suspended === false) whereInstanceSuspended(db, b.where('t.job_suspended', false), 't.process_instance_id', false);
  if (q.visibleTo) b.whereIn('t.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

export async function findTimer(db: Db, id: string): Promise<TimerRow | undefined> {
  return db('timers').where({ id }).first();
}

export async function setTimerDue(db: Db, id: string, dueAt: Date): Promise<number> {
  return db('timers').where({ id }).update({ due_at: dueAt, locked_by: null, locked_until: null });
}

/** Camunda's job-suspension criteria, each narrowing the timers changed (PUT /job/suspended). */
export interface TimerSelection {
  ids?: string[] | undefined;
  processInstanceId?: string | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  activityId?: string | undefined;
}

/** The selected timers, locked for the rest of the transaction (a suspension or deletion deciding on them). */
export async function lockTimers(db: Db, sel: TimerSelection): Promise<TimerRow[]> {
  const q = db('timers');
  if (sel.ids) q.whereIn('id', sel.ids);
  if (sel.processInstanceId) q.where('process_instance_id', sel.processInstanceId);
  if (sel.processDefinitionId) q.where('definition_id', sel.processDefinitionId);
  if (sel.activityId) q.where('activity_id', sel.activityId);
  if (sel.processDefinitionKey) q.whereIn('definition_id', (s) => s.select('id').from('process_definitions').where('key', sel.processDefinitionKey!));
  return q.orderBy('id').forUpdate();
}

/** Suspends or activates these timers; returns those changed (with their instance). */
export async function setTimersSuspended(db: Db, ids: string[], suspended: boolean): Promise<{ id: string; process_instance_id: string }[]> {
  if (!ids.length) return [];
  return db('timers').whereIn('id', ids).where('job_suspended', !suspended).update({ job_suspended: suspended }).returning(['id', 'process_instance_id']);
}

/**
 * Sets a timer's retries. A timer given retries again after a failure may be
 * tried at once (its backoff is dropped); one held by a scheduler keeps its
 * lease. Returns the row as it was, locked for the rest of the transaction.
 */
export async function setTimerRetries(db: Db, id: string, retries: number): Promise<TimerRow | undefined> {
  const before: TimerRow | undefined = await db('timers').where({ id }).forUpdate().first();
  if (!before) return undefined;
  await db('timers').where({ id }).update({
    retries, locked_until: before.locked_by == null && retries > 0 ? null : before.locked_until,
  });
  return before;
}

/** Sets a timer's priority; returns the row as it was, or undefined when there is none. */
export async function setTimerPriority(db: Db, id: string, priority: number): Promise<TimerRow | undefined> {
  const [before] = await lockTimers(db, { ids: [id] });
  if (before) await db('timers').where({ id }).update({ priority });
  return before;
}

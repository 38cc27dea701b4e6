import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { countOf, paged, type Page } from './paging.ts';
import { whereLogCriteria, type LogCriteria } from './log-criteria.ts';
import type { TimerRow } from './timers.ts';

export type JobLogState = 'creation' | 'failure' | 'success' | 'deletion';

/** One moment of an instance timer's life (Camunda's HistoricJobLog). */
export interface JobLogRow {
  id: string;
  seq: number;
  time: Date;
  job_id: string;
  process_instance_id: string;
  definition_id: string;
  definition_key: string;
  activity_id: string;
  execution_id: string;
  timer_type: string;
  expression: string | null;
  due_at: Date | null;
  retries: number;
  /** bigint, read as text by pg. */
  priority: string | number;
  error_message: string | null;
  state: JobLogState;
}

type Logged = Pick<TimerRow, 'id' | 'process_instance_id' | 'definition_id' | 'activity_id' | 'execution_id' | 'timer_type' | 'expression' | 'due_at'>
  & Partial<Pick<TimerRow, 'retries' | 'priority' | 'last_error'>>;

/**
 * Logs these timers as they are now, in the caller's transaction (the one
 * that created, failed, fired or removed them). A failure's message and
 * retries are given, as the timer had them when it failed.
 */
export async function logJobs(db: Db, timers: Logged[], state: JobLogState, failure?: { message: string; retries: number }): Promise<void> {
  if (!timers.length) return;
  await db('job_log').insert(timers.map((t) => ({
    id: randomUUID(), job_id: t.id, process_instance_id: t.process_instance_id, definition_id: t.definition_id,
    definition_key: db.raw('(select key from process_definitions where id = ?)', [t.definition_id]),
    activity_id: t.activity_id, execution_id: t.execution_id, timer_type: t.timer_type, expression: t.expression, due_at: t.due_at,
    retries: failure?.retries ?? t.retries ?? 3, priority: t.priority ?? 0,
    error_message: state === 'failure' ? failure?.message ?? t.last_error ?? null : null, state,
  })));
}

/**
 * A timer fired: its removal, logged as a deletion by the statement that
 * removed it in this transaction, was its success (Camunda logs a success
 * and no deletion). One that stays (not removed by its firing) is logged
 * as a success all the same.
 */
export async function logJobSuccess(db: Db, timer: Logged): Promise<void> {
  const changed = await db('job_log').where({ job_id: timer.id, state: 'deletion' }).update({ state: 'success' });
  if (!changed) await logJobs(db, [timer], 'success');
}

export const jobLogSortColumns = {
  timestamp: 'time', jobId: 'job_id', jobDueDate: 'due_at', jobRetries: 'retries', jobPriority: 'priority',
  activityId: 'activity_id', executionId: 'execution_id', processInstanceId: 'process_instance_id', processDefinitionId: 'definition_id',
  processDefinitionKey: 'definition_key', occurrence: 'seq',
} as const;

export interface JobLogQuery extends Page, LogCriteria<JobLogState> {
  id?: string | undefined;
  jobId?: string | undefined;
  jobExceptionMessage?: string | undefined;
  /** Timers of this definition's element (`timer:<definition>:<activity>`, split by the route). */
  jobDefinition?: { definitionId: string; activityId: string } | undefined;
  /** Failure logs of these elements (Camunda's failedActivityIdIn). */
  failedActivityIds?: string[] | undefined;
  deploymentId?: string | undefined;
}

function filtered(db: Db, q: JobLogQuery): Knex.QueryBuilder {
  const b = db('job_log');
  const eq: [keyof JobLogQuery, string][] = [['id', 'id'], ['jobId', 'job_id'], ['jobExceptionMessage', 'error_message']];
  for (const [k, column] of eq) if (q[k] !== undefined) b.where(column, q[k] as string);
  if (q.jobDefinition) b.where({ definition_id: q.jobDefinition.definitionId, activity_id: q.jobDefinition.activityId });
  if (q.failedActivityIds) b.where('state', 'failure').whereIn('activity_id', q.failedActivityIds);
  if (q.deploymentId !== undefined) b.whereIn('definition_id', db('process_definitions').select('id').where('deployment_id', q.deploymentId));
  return whereLogCriteria(db, b, q);
}

/** A log row as read: its definition's deployment, and whether its element waits as an intermediate event (else a boundary). */
export type JobLogView = JobLogRow & { deployment_id: string | null; intermediate: boolean };

/** The log rows `q` selects, oldest first unless sorted. */
export async function queryJobLog(db: Db, q: JobLogQuery): Promise<JobLogView[]> {
  const intermediate = db.raw(`exists (select 1 from activity_instances a where a.process_instance_id = job_log.process_instance_id
    and a.activity_id = job_log.activity_id and a.activity_type = 'intermediateCatchEvent') as intermediate`);
  const deployment = db('process_definitions as d').select('d.deployment_id').whereRaw('d.id = job_log.definition_id').as('deployment_id');
  return paged(filtered(db, q).select('job_log.*', deployment, intermediate), q, [{ column: 'seq', order: 'asc' }], 'seq');
}

/** How many log rows `q` selects. */
export async function countJobLog(db: Db, q: Omit<JobLogQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filtered(db, q));
}

import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged, type Page } from './paging.ts';

export type ExternalTaskLogState = 'creation' | 'failure' | 'success' | 'deletion';

/** One moment of an external task's life (Camunda's HistoricExternalTaskLog). */
export interface ExternalTaskLogRow {
  id: string;
  seq: number;
  time: Date;
  external_task_id: string;
  process_instance_id: string;
  definition_id: string;
  definition_key: string;
  activity_id: string;
  execution_id: string;
  topic: string;
  worker_id: string | null;
  retries: number | null;
  priority: number;
  error_message: string | null;
  error_details: string | null;
  state: ExternalTaskLogState;
}

const COPIED = ['process_instance_id', 'definition_id', 'definition_key', 'activity_id', 'execution_id', 'topic', 'worker_id', 'retries', 'priority', 'error_message', 'error_details'];

/**
 * Logs the external tasks `where` selects, as they are now, in the
 * caller's transaction: after a creation or failure, before an end (whose
 * update clears the worker).
 */
export async function logExternalTasks(db: Db, where: (q: Knex.QueryBuilder) => Knex.QueryBuilder, state: ExternalTaskLogState): Promise<void> {
  const { sql, bindings } = where(db('external_tasks'))
    .select(db.raw('gen_random_uuid()::text'), 'id', ...COPIED, db.raw('?', [state])).toSQL();
  await db.raw(`insert into external_task_log (id, external_task_id, ${COPIED.join(', ')}, state) ${sql}`, bindings);
}

export const externalTaskLogSortColumns = {
  timestamp: 'time', externalTaskId: 'external_task_id', topicName: 'topic', workerId: 'worker_id', retries: 'retries', priority: 'priority',
  activityId: 'activity_id', activityInstanceId: 'execution_id', executionId: 'execution_id', processInstanceId: 'process_instance_id',
  processDefinitionId: 'definition_id', processDefinitionKey: 'definition_key',
} as const;

export interface ExternalTaskLogQuery extends Page {
  id?: string | undefined;
  externalTaskId?: string | undefined;
  topic?: string | undefined;
  workerId?: string | undefined;
  errorMessage?: string | undefined;
  activityIds?: string[] | undefined;
  executionIds?: string[] | undefined;
  processInstanceId?: string | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  priorityAtMost?: number | undefined;
  priorityAtLeast?: number | undefined;
  states?: ExternalTaskLogState[] | undefined;
  /** Only instances this user may see; absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

function filtered(db: Db, q: ExternalTaskLogQuery): Knex.QueryBuilder {
  const b = db('external_task_log');
  const eq: [keyof ExternalTaskLogQuery, string][] = [
    ['id', 'id'], ['externalTaskId', 'external_task_id'], ['topic', 'topic'], ['workerId', 'worker_id'], ['errorMessage', 'error_message'],
    ['processInstanceId', 'process_instance_id'], ['processDefinitionId', 'definition_id'], ['processDefinitionKey', 'definition_key'],
  ];
  for (const [k, column] of eq) if (q[k] !== undefined) b.where(column, q[k] as string);
  if (q.activityIds) b.whereIn('activity_id', q.activityIds);
  if (q.executionIds) b.whereIn('execution_id', q.executionIds);
  if (q.priorityAtMost !== undefined) b.where('priority', '<=', q.priorityAtMost);
  if (q.priorityAtLeast !== undefined) b.where('priority', '>=', q.priorityAtLeast);
  if (q.states) b.whereIn('state', q.states);
  if (q.visibleTo) b.whereIn('process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

export async function queryExternalTaskLog(db: Db, q: ExternalTaskLogQuery): Promise<ExternalTaskLogRow[]> {
  return paged(filtered(db, q).select('*'), q, [{ column: 'seq', order: 'asc' }], 'seq');
}

export async function countExternalTaskLog(db: Db, q: Omit<ExternalTaskLogQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filtered(db, q));
}

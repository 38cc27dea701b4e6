import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { countOf, paged, type Page } from './paging.ts';
import { whereLogCriteria, type LogCriteria } from './log-criteria.ts';

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

export interface ExternalTaskLogQuery extends Page, LogCriteria<ExternalTaskLogState> {
  id?: string | undefined;
  externalTaskId?: string | undefined;
  topic?: string | undefined;
  workerId?: string | undefined;
  errorMessage?: string | undefined;
}

function filtered(db: Db, q: ExternalTaskLogQuery): Knex.QueryBuilder {
  const b = db('external_task_log');
  const eq: [keyof ExternalTaskLogQuery, string][] = [
    ['id', 'id'], ['externalTaskId', 'external_task_id'], ['topic', 'topic'], ['workerId', 'worker_id'], ['errorMessage', 'error_message'],
  ];
  for (const [k, column] of eq) if (q[k] !== undefined) b.where(column, q[k] as string);
  return whereLogCriteria(db, b, q);
}

export async function queryExternalTaskLog(db: Db, q: ExternalTaskLogQuery): Promise<ExternalTaskLogRow[]> {
  return paged(filtered(db, q).select('*'), q, [{ column: 'seq', order: 'asc' }], 'seq');
}

export async function countExternalTaskLog(db: Db, q: Omit<ExternalTaskLogQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filtered(db, q));
}

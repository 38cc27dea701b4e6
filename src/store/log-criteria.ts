import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';

/**
 * The criteria Camunda's historic logs share (the external-task log, the job
 * log): where a row happened and for whom, its priority and its kind of entry.
 * Each log's table has these columns under these names.
 */
export interface LogCriteria<State extends string = string> {
  activityIds?: string[] | undefined;
  executionIds?: string[] | undefined;
  processInstanceId?: string | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  priorityAtMost?: number | undefined;
  priorityAtLeast?: number | undefined;
  states?: State[] | undefined;
  /** Only instances this user may see; absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

/** Applies the shared criteria to `b`, a query on one log table. */
export function whereLogCriteria(db: Db, b: Knex.QueryBuilder, q: LogCriteria): Knex.QueryBuilder {
  if (q.processInstanceId !== undefined) b.where('process_instance_id', q.processInstanceId);
  if (q.processDefinitionId !== undefined) b.where('definition_id', q.processDefinitionId);
  if (q.processDefinitionKey !== undefined) b.where('definition_key', q.processDefinitionKey);
  if (q.activityIds) b.whereIn('activity_id', q.activityIds);
  if (q.executionIds) b.whereIn('execution_id', q.executionIds);
  if (q.priorityAtMost !== undefined) b.where('priority', '<=', q.priorityAtMost);
  if (q.priorityAtLeast !== undefined) b.where('priority', '>=', q.priorityAtLeast);
  if (q.states) b.whereIn('state', q.states);
  if (q.visibleTo) b.whereIn('process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

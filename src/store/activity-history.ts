import type { Knex } from 'knex';
import type { ActivityRow } from './activities.ts';
import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged, type Page } from './paging.ts';

/** Camunda's sortBy names for historic activity instances, and their columns. */
export const activityHistorySortColumns = {
  activityInstanceId: 'execution_id', instanceId: 'process_instance_id', executionId: 'execution_id', activityId: 'activity_id',
  activityName: 'activity_name', activityType: 'activity_type', startTime: 'start_time', endTime: 'end_time',
  occurrence: 'seq', definitionId: 'definition_id',
} as const;

export interface ActivityHistoryQuery extends Page {
  processInstanceId?: string | undefined;
  /** Camunda's activityInstanceId: `activityId:executionId` here, as the list names it. */
  activityInstanceId?: string | undefined;
  executionId?: string | undefined;
  activityId?: string | undefined;
  activityName?: string | undefined;
  activityType?: string | undefined;
  taskAssignee?: string | undefined;
  processDefinitionId?: string | undefined;
  finished?: boolean | undefined;
  canceled?: boolean | undefined;
  startedBefore?: Date | undefined;
  startedAfter?: Date | undefined;
  finishedBefore?: Date | undefined;
  finishedAfter?: Date | undefined;
  /** Only instances this user may see; absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

export type ActivityHistoryRow = ActivityRow & { definition_id: string };

function filtered(db: Db, q: ActivityHistoryQuery): Knex.QueryBuilder {
  const b = db('activity_instances as a').join('process_instances as i', 'i.id', 'a.process_instance_id');
  if (q.processInstanceId) b.where('a.process_instance_id', q.processInstanceId);
  if (q.activityInstanceId !== undefined) {
    const at = q.activityInstanceId.indexOf(':');
    // An id not of that shape names no activity instance.
    if (at < 1) b.whereRaw('false');
    else b.where({ 'a.activity_id': q.activityInstanceId.slice(0, at), 'a.execution_id': q.activityInstanceId.slice(at + 1) });
  }
  if (q.executionId) b.where('a.execution_id', q.executionId);
  if (q.activityId) b.where('a.activity_id', q.activityId);
  if (q.activityName) b.where('a.activity_name', q.activityName);
  if (q.activityType) b.where('a.activity_type', q.activityType);
  if (q.taskAssignee) b.where('a.assignee', q.taskAssignee);
  if (q.processDefinitionId) b.where('i.definition_id', q.processDefinitionId);
  if (q.finished === true) b.whereNotNull('a.end_time');
  if (q.finished === false) b.whereNull('a.end_time');
  if (q.canceled !== undefined) b.where('a.canceled', q.canceled);
  if (q.startedBefore) b.where('a.start_time', '<=', q.startedBefore);
  if (q.startedAfter) b.where('a.start_time', '>=', q.startedAfter);
  if (q.finishedBefore) b.where('a.end_time', '<=', q.finishedBefore);
  if (q.finishedAfter) b.where('a.end_time', '>=', q.finishedAfter);
  if (q.visibleTo) b.whereIn('a.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

/** Element history of running and finished instances, in the order it happened unless sorted otherwise. */
export async function queryActivityHistory(db: Db, q: ActivityHistoryQuery): Promise<ActivityHistoryRow[]> {
  const b = filtered(db, q).select('a.*', 'i.definition_id');
  const sorting = q.sorting?.map((s) => ({ ...s, column: s.column === 'definition_id' ? 'i.definition_id' : `a.${s.column}` }));
  return paged(b, { ...q, sorting }, [{ column: 'a.seq', order: 'asc' }], 'a.seq');
}

/** How many rows {@link queryActivityHistory} would return without paging. */
export async function countActivityHistory(db: Db, q: Omit<ActivityHistoryQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filtered(db, q));
}

/** The instances these instances' call activities called, by `callerInstanceId:callActivityExecutionId`. */
export async function calledInstancesOf(db: Db, instanceIds: string[]): Promise<Map<string, string>> {
  if (!instanceIds.length) return new Map();
  const rows: { id: string; super_process_instance_id: string; super_execution_id: string }[] = await db('process_instances')
    .whereIn('super_process_instance_id', instanceIds).select('id', 'super_process_instance_id', 'super_execution_id');
  return new Map(rows.map((r) => [`${r.super_process_instance_id}:${r.super_execution_id}`, r.id]));
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged, type Page } from './paging.ts';

/** One change of who a task is for (Camunda's HistoricIdentityLinkLog). */
export interface IdentityLinkLogRow {
  id: string;
  seq: number;
  time: Date;
  process_instance_id: string;
  task_id: string;
  type: 'assignee' | 'owner' | 'candidate';
  user_id: string | null;
  group_id: string | null;
  operation_type: 'add' | 'delete';
  assigner_id: string | null;
  definition_id: string;
  definition_key: string;
}

export type IdentityLinkEntry = Pick<IdentityLinkLogRow, 'process_instance_id' | 'task_id' | 'type' | 'user_id' | 'group_id' | 'operation_type' | 'assigner_id'>;

/** Writes entries in the caller's transaction: the one that changed the task. */
export async function logIdentityLinks(db: Db, entries: IdentityLinkEntry[]): Promise<void> {
  if (entries.length) await db('identity_link_log').insert(entries.map((e) => ({ id: randomUUID(), ...e })));
}

/** An assignee or owner going from `before` to `after`: Camunda logs the old one's delete, then the new one's add. */
export function personChange(
  task: { id: string; process_instance_id: string }, type: 'assignee' | 'owner', before: string | null, after: string | null, by: string | null,
): IdentityLinkEntry[] {
  if (before === after) return [];
  const entry = (user: string, op: 'add' | 'delete'): IdentityLinkEntry => ({
    process_instance_id: task.process_instance_id, task_id: task.id, type, user_id: user, group_id: null, operation_type: op, assigner_id: by,
  });
  return [...(before != null ? [entry(before, 'delete')] : []), ...(after != null ? [entry(after, 'add')] : [])];
}

export const identityLinkLogSortColumns = {
  time: 'l.time', type: 'l.type', userId: 'l.user_id', groupId: 'l.group_id', taskId: 'l.task_id',
  processDefinitionId: 'i.definition_id', processDefinitionKey: 'i.definition_key', operationType: 'l.operation_type', assignerId: 'l.assigner_id',
} as const;

export interface IdentityLinkLogQuery extends Page {
  type?: string | undefined;
  userId?: string | undefined;
  groupId?: string | undefined;
  dateBefore?: Date | undefined;
  dateAfter?: Date | undefined;
  taskId?: string | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  operationType?: string | undefined;
  assignerId?: string | undefined;
  /** Only instances this user may see; absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

function filtered(db: Db, q: IdentityLinkLogQuery): Knex.QueryBuilder {
  const b = db('identity_link_log as l').join('process_instances as i', 'i.id', 'l.process_instance_id');
  const eq: [keyof IdentityLinkLogQuery, string][] = [
    ['type', 'l.type'], ['userId', 'l.user_id'], ['groupId', 'l.group_id'], ['taskId', 'l.task_id'], ['processDefinitionId', 'i.definition_id'],
    ['processDefinitionKey', 'i.definition_key'], ['operationType', 'l.operation_type'], ['assignerId', 'l.assigner_id'],
  ];
  for (const [k, column] of eq) if (q[k] !== undefined) b.where(column, q[k] as string);
  if (q.dateBefore) b.where('l.time', '<=', q.dateBefore);
  if (q.dateAfter) b.where('l.time', '>=', q.dateAfter);
  if (q.visibleTo) b.whereIn('l.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

export async function queryIdentityLinkLog(db: Db, q: IdentityLinkLogQuery): Promise<IdentityLinkLogRow[]> {
  return paged(filtered(db, q).select('l.*', 'i.definition_id', 'i.definition_key'), q, [{ column: 'l.seq', order: 'asc' }], 'l.seq');
}

export async function countIdentityLinkLog(db: Db, q: Omit<IdentityLinkLogQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filtered(db, q));
}

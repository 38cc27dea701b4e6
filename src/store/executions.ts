import type { Knex } from 'knex';
import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged, type Page } from './paging.ts';

/*
 * Camunda's executions as this server has them: every running instance is
 * its own root execution (its id, as in the activity instance tree), and
 * every element still running in it (activity_instances without an end) is
 * an execution of its own, whose id is the executionId that tasks, external
 * tasks and message subscriptions name.
 */

export interface ExecutionRow {
  id: string;
  process_instance_id: string;
  definition_id: string;
  definition_key: string;
  business_key: string | null;
  suspended: boolean;
  tenant_id: string | null;
  /** The element running in it; null for an instance's root execution. */
  activity_id: string | null;
}

/** Camunda's sortBy names for executions, and their columns. */
export const executionSortColumns = {
  instanceId: 'process_instance_id', definitionKey: 'definition_key', definitionId: 'definition_id', tenantId: 'tenant_id',
} as const;

export interface ExecutionQuery extends Page {
  id?: string | undefined;
  processInstanceId?: string | undefined;
  definitionId?: string | undefined;
  definitionKey?: string | undefined;
  businessKey?: string | undefined;
  activityId?: string | undefined;
  /** Executions waiting for a signal / a message of this name. */
  signalName?: string | undefined;
  messageName?: string | undefined;
  suspended?: boolean | undefined;
  visibleTo?: { userId: string; groups: string[] } | undefined;
}

const COLUMNS = ['definition_id', 'definition_key', 'business_key', 'suspended', 'tenant_id'] as const;

/** Root executions and running elements of active instances, as one relation. */
function executions(db: Db): Knex.QueryBuilder {
  const roots = db('process_instances as i').where('i.state', 'ACTIVE')
    .select('i.id', db.raw('i.id as process_instance_id'), ...COLUMNS.map((c) => `i.${c}`), db.raw('null::text as activity_id'));
  const elements = db('activity_instances as a').join('process_instances as i', 'i.id', 'a.process_instance_id')
    .whereNull('a.end_time').where('i.state', 'ACTIVE')
    .select(db.raw('a.execution_id as id'), 'a.process_instance_id', ...COLUMNS.map((c) => `i.${c}`), 'a.activity_id');
  return db.queryBuilder().from(roots.unionAll(elements).as('e'));
}

function filtered(db: Db, q: ExecutionQuery): Knex.QueryBuilder {
  const b = executions(db);
  if (q.id) b.where('e.id', q.id);
  if (q.processInstanceId) b.where('e.process_instance_id', q.processInstanceId);
  if (q.definitionId) b.where('e.definition_id', q.definitionId);
  if (q.definitionKey) b.where('e.definition_key', q.definitionKey);
  if (q.businessKey) b.where('e.business_key', q.businessKey);
  if (q.activityId) b.where('e.activity_id', q.activityId);
  if (q.suspended !== undefined) b.where('e.suspended', q.suspended);
  for (const [kind, name] of [['signal', q.signalName], ['message', q.messageName]] as const) {
    if (name) {
      b.whereExists((s) => s.select(db.raw('1')).from('message_subscriptions as s')
        .whereRaw('s.process_instance_id = e.process_instance_id and s.execution_id = e.id').andWhere({ 's.kind': kind, 's.message_name': name }));
    }
  }
  if (q.visibleTo) b.whereIn('e.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

/** Executions matching `q`, in Camunda's order (by id unless sorted), paged. */
export async function queryExecutions(db: Db, q: ExecutionQuery): Promise<ExecutionRow[]> {
  return paged(filtered(db, q).select('e.*'), q, [{ column: 'id', order: 'asc' }], 'e.id', 'e.');
}

/** How many executions match (paging ignored). */
export async function countExecutions(db: Db, q: ExecutionQuery): Promise<number> {
  return countOf(filtered(db, q));
}

/**
 * Locks the instance's row (a save of its state waits, and so does the end of
 * its executions) and says whether the element's execution still runs in it:
 * what is written on an execution in the same transaction cannot outlive it.
 */
export async function lockRunningExecution(db: Db, instanceId: string, executionId: string): Promise<boolean> {
  const instance = await db('process_instances').where({ id: instanceId, state: 'ACTIVE' }).forUpdate().first('id');
  if (!instance) return false;
  const open = await db('activity_instances').where({ process_instance_id: instanceId, execution_id: executionId }).whereNull('end_time').first('execution_id');
  return !!open;
}

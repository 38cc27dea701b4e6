import type { Knex } from 'knex';
import type { VariableType } from '../types.ts';
import type { Db } from './db.ts';
import { recordVariableUpdates } from './history-details.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, likePattern, paged } from './paging.ts';

/**
 * A variable as stored. `value` is the JSON value itself, or for a sealed
 * variable (`key_id` set) the envelope the services made; this file only
 * moves rows and never looks inside either.
 */
export interface StoredVariable {
  name: string;
  type: VariableType;
  value: unknown;
  key_id: string | null;
}

/** All variables of one instance, as stored. */
export async function loadVariables(db: Db, instanceId: string): Promise<StoredVariable[]> {
  return db('variables').where({ process_instance_id: instanceId }).select('name', 'type', 'value', 'key_id');
}

/** All variables of several instances, as stored, by instance. */
export async function loadVariablesOf(db: Db, instanceIds: string[]): Promise<Map<string, StoredVariable[]>> {
  const rows: (StoredVariable & { process_instance_id: string })[] = await db('variables').whereIn('process_instance_id', instanceIds)
    .select('process_instance_id', 'name', 'type', 'value', 'key_id');
  const byInstance = new Map<string, StoredVariable[]>();
  for (const { process_instance_id: id, ...v } of rows) {
    const list = byInstance.get(id);
    if (list) list.push(v);
    else byInstance.set(id, [v]);
  }
  return byInstance;
}

/** Inserts or replaces the given variables of one instance. */
export async function upsertVariables(db: Db, instanceId: string, variables: StoredVariable[]): Promise<void> {
  const rows = variables.map((v) => ({
    process_instance_id: instanceId,
    name: v.name,
    type: v.type,
    // jsonb: a JSON text of the value, so strings, numbers and objects all round-trip.
    value: JSON.stringify(v.value ?? null),
    key_id: v.key_id,
    updated_at: db.fn.now(),
  }));
  if (!rows.length) return;
  await db('variables').insert(rows).onConflict(['process_instance_id', 'name']).merge(['type', 'value', 'key_id', 'updated_at']);
  // Camunda's variable updates (history details), in the same transaction as the write.
  await recordVariableUpdates(db, instanceId, rows);
}

export async function deleteVariables(db: Db, instanceId: string, names: string[]): Promise<void> {
  if (!names.length) return;
  await db('variables').where({ process_instance_id: instanceId }).whereIn('name', names).delete();
}

export interface VariableHistoryRow extends StoredVariable {
  process_instance_id: string;
  updated_at: Date;
  definition_id: string;
  definition_key: string;
  state: string;
}

export interface VariableHistoryQuery {
  processInstanceId?: string | undefined; processInstanceIds?: string[] | undefined; variableName?: string | undefined;
  variableNameLike?: string | undefined; processDefinitionKey?: string | undefined; visibleInstanceIds?: string[] | undefined;
  sorting?: { column: string; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined; maxResults?: number | undefined;
}

/** Camunda's sortBy names for historic variable instances, and their columns. */
export const variableHistorySortColumns = { instanceId: 'v.process_instance_id', variableName: 'v.name' } as const;

function filteredVariableHistory(db: Db, q: VariableHistoryQuery): Knex.QueryBuilder {
  const b = db('variables as v').join('process_instances as i', 'i.id', 'v.process_instance_id');
  if (q.processInstanceId) b.where('v.process_instance_id', q.processInstanceId);
  if (q.processInstanceIds) b.whereIn('v.process_instance_id', q.processInstanceIds);
  if (q.variableName) b.where('v.name', q.variableName);
  if (q.variableNameLike) b.whereLike('v.name', likePattern(q.variableNameLike));
  if (q.processDefinitionKey) b.where('i.definition_key', q.processDefinitionKey);
  return b;
}

/** Variables of running and finished instances, with their instance's definition (history view). */
export async function queryVariableHistory(db: Db, q: VariableHistoryQuery): Promise<VariableHistoryRow[]> {
  const b = filteredVariableHistory(db, q)
    .select('v.process_instance_id', 'v.name', 'v.type', 'v.value', 'v.key_id', 'v.updated_at', 'i.definition_id', 'i.definition_key', 'i.state');
  return paged(b, q, [{ column: 'v.process_instance_id', order: 'asc' }, { column: 'v.name', order: 'asc' }], 'v.name');
}

/** How many variables {@link queryVariableHistory} would return without paging. */
export async function countVariableHistory(db: Db, q: Omit<VariableHistoryQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(filteredVariableHistory(db, q));
}

/** A variable row with its instance's definition, for the re-encryption command. */
export interface VariableRowRef extends StoredVariable {
  process_instance_id: string;
  definition_id: string;
}

/**
 * The next `limit` variables after `after` (by instance id and name) that
 * are sealed under another key than `currentKeyId`, or, with `plain`,
 * that are not sealed at all.
 */
export async function listVariablesAfter(db: Db, q: {
  currentKeyId: string; plain: boolean; after: { instanceId: string; name: string } | null; limit: number;
}): Promise<VariableRowRef[]> {
  const b = db('variables as v').join('process_instances as i', 'i.id', 'v.process_instance_id')
    .select('v.process_instance_id', 'v.name', 'v.type', 'v.value', 'v.key_id', 'i.definition_id')
    .orderBy([{ column: 'v.process_instance_id' }, { column: 'v.name' }]).limit(q.limit);
  if (q.plain) b.whereNull('v.key_id');
  else b.whereNotNull('v.key_id').whereNot('v.key_id', q.currentKeyId);
  if (q.after) b.whereRaw('(v.process_instance_id, v.name) > (?, ?)', [q.after.instanceId, q.after.name]);
  return b;
}

/**
 * Replaces one variable's stored value only if it is still exactly what was
 * read (`expected`): a server that changed it meanwhile wins, and nothing it
 * wrote is lost. `updated_at` stays: the value means the same as before.
 */
export async function replaceStoredValue(
  db: Db, instanceId: string, expected: StoredVariable, next: Pick<StoredVariable, 'value' | 'key_id'>,
): Promise<boolean> {
  const b = db('variables').where({ process_instance_id: instanceId, name: expected.name, type: expected.type })
    .whereRaw('value = ?::jsonb', [JSON.stringify(expected.value ?? null)]);
  if (expected.key_id == null) b.whereNull('key_id');
  else b.where('key_id', expected.key_id);
  return (await b.update({ value: JSON.stringify(next.value ?? null), key_id: next.key_id })) > 0;
}

export interface VariableInstanceRow extends StoredVariable {
  process_instance_id: string;
  definition_id: string;
}

export const variableInstanceSortColumns = { variableName: 'v.name', variableType: 'v.type', activityInstanceId: 'v.process_instance_id' } as const;

export interface VariableInstanceQuery {
  names?: string[] | undefined;
  nameLike?: string | undefined;
  ignoreCase?: boolean | undefined;
  processInstanceIds?: string[] | undefined;
  /** Only instances this user may see (store/instances.ts visibility); absent for administrators. */
  visibleTo?: { userId: string; groups: string[] } | undefined;
  sorting?: { column: string; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

/**
 * Variables of running instances (Camunda's runtime `/variable-instance`):
 * a finished instance's variables are history only, as in Camunda.
 */
export async function queryVariableInstances(db: Db, q: VariableInstanceQuery): Promise<VariableInstanceRow[]> {
  const b = variableInstancesWhere(db, q).select('v.process_instance_id', 'v.name', 'v.type', 'v.value', 'v.key_id', 'i.definition_id');
  return paged(b, q, [{ column: 'v.process_instance_id', order: 'asc' }], 'v.name');
}

/** How many variables `queryVariableInstances` would find, counted in SQL (no value read or opened). */
export async function countVariableInstances(db: Db, q: Omit<VariableInstanceQuery, 'sorting' | 'firstResult' | 'maxResults'>): Promise<number> {
  return countOf(variableInstancesWhere(db, q));
}

function variableInstancesWhere(db: Db, q: Omit<VariableInstanceQuery, 'sorting' | 'firstResult' | 'maxResults'>): Knex.QueryBuilder {
  const b = db('variables as v').join('process_instances as i', 'i.id', 'v.process_instance_id').where('i.state', 'ACTIVE');
  if (q.names) {
    if (q.ignoreCase) b.whereRaw('lower(v.name) = any(?::text[])', [q.names.map((n) => n.toLowerCase())]);
    else b.whereIn('v.name', q.names);
  }
  if (q.nameLike) {
    if (q.ignoreCase) b.whereILike('v.name', likePattern(q.nameLike));
    else b.whereLike('v.name', likePattern(q.nameLike));
  }
  if (q.processInstanceIds) b.whereIn('v.process_instance_id', q.processInstanceIds);
  if (q.visibleTo) b.whereIn('v.process_instance_id', visibleInstanceIds(db, q.visibleTo));
  return b;
}

import type { TypedValue, Variables, VariableType } from '../types.ts';
import type { Db } from './db.ts';
import { paged } from './paging.ts';

interface VariableRow {
  process_instance_id: string;
  name: string;
  type: VariableType;
  value: unknown;
}

/** All variables of one instance, typed. */
export async function loadVariables(db: Db, instanceId: string): Promise<Variables> {
  const rows: VariableRow[] = await db('variables').where({ process_instance_id: instanceId });
  const result: Variables = {};
  for (const r of rows) result[r.name] = { type: r.type, value: r.value };
  return result;
}

/** Inserts or replaces the given variables of one instance. */
export async function upsertVariables(db: Db, instanceId: string, variables: Variables): Promise<void> {
  const rows = Object.entries(variables).map(([name, v]: [string, TypedValue]) => ({
    process_instance_id: instanceId,
    name,
    type: v.type,
    // jsonb: a JSON text of the value, so strings, numbers and objects all round-trip.
    value: JSON.stringify(v.value ?? null),
    updated_at: db.fn.now(),
  }));
  if (!rows.length) return;
  await db('variables').insert(rows).onConflict(['process_instance_id', 'name']).merge(['type', 'value', 'updated_at']);
}

export async function deleteVariables(db: Db, instanceId: string, names: string[]): Promise<void> {
  if (!names.length) return;
  await db('variables').where({ process_instance_id: instanceId }).whereIn('name', names).delete();
}

export interface VariableHistoryRow {
  process_instance_id: string;
  name: string;
  type: VariableType;
  value: unknown;
  updated_at: Date;
  definition_id: string;
  definition_key: string;
  state: string;
}

/** Variables of running and finished instances, with their instance's definition (history view). */
export async function queryVariableHistory(db: Db, q: {
  processInstanceId?: string | undefined; processInstanceIds?: string[] | undefined; variableName?: string | undefined;
  variableNameLike?: string | undefined; processDefinitionKey?: string | undefined; visibleInstanceIds?: string[] | undefined;
  firstResult?: number | undefined; maxResults?: number | undefined;
}): Promise<VariableHistoryRow[]> {
  const b = db('variables as v').join('process_instances as i', 'i.id', 'v.process_instance_id')
    .select('v.process_instance_id', 'v.name', 'v.type', 'v.value', 'v.updated_at', 'i.definition_id', 'i.definition_key', 'i.state');
  if (q.processInstanceId) b.where('v.process_instance_id', q.processInstanceId);
  if (q.processInstanceIds) b.whereIn('v.process_instance_id', q.processInstanceIds);
  if (q.variableName) b.where('v.name', q.variableName);
  if (q.variableNameLike) b.whereLike('v.name', q.variableNameLike);
  if (q.processDefinitionKey) b.where('i.definition_key', q.processDefinitionKey);
  return paged(b, q, [{ column: 'v.process_instance_id', order: 'asc' }, { column: 'v.name', order: 'asc' }], 'v.name');
}

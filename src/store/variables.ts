import type { TypedValue, Variables, VariableType } from '../types.ts';
import type { Db } from './db.ts';

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

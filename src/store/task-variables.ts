import type { Db } from './db.ts';
import type { StoredVariable } from './variables.ts';

/** A task-local variable as stored, with its task and instance. */
export interface TaskVariableRow extends StoredVariable {
  task_id: string;
  process_instance_id: string;
}

/** The task-local variables of one task, as stored. */
export async function loadTaskVariables(db: Db, taskId: string): Promise<StoredVariable[]> {
  return db('task_variables').where({ task_id: taskId }).orderBy('name').select('name', 'type', 'value', 'key_id');
}

/** Inserts or replaces task-local variables of one task. */
export async function upsertTaskVariables(db: Db, taskId: string, instanceId: string, variables: StoredVariable[]): Promise<void> {
  if (!variables.length) return;
  await db('task_variables').insert(variables.map((v) => ({
    task_id: taskId, process_instance_id: instanceId, name: v.name, type: v.type,
    value: JSON.stringify(v.value ?? null), key_id: v.key_id, updated_at: db.fn.now(),
  }))).onConflict(['task_id', 'name']).merge(['type', 'value', 'key_id', 'updated_at']);
}

/** Deletes the named task-local variables of one task; the names it deleted. */
export async function deleteTaskVariables(db: Db, taskId: string, names: string[]): Promise<string[]> {
  if (!names.length) return [];
  const rows: { name: string }[] = await db('task_variables').where({ task_id: taskId }).whereIn('name', names).delete().returning('name');
  return rows.map((r) => r.name);
}

/**
 * The next `limit` task-local variables after `after` (by task id and name)
 * sealed under another key than `currentKeyId`, or, with `plain`, not sealed
 * at all; with their instance's definition (the re-encryption command).
 */
export async function listTaskVariablesAfter(db: Db, q: {
  currentKeyId: string; plain: boolean; after: { taskId: string; name: string } | null; limit: number;
}): Promise<(TaskVariableRow & { definition_id: string })[]> {
  const b = db('task_variables as v').join('tasks as t', 't.id', 'v.task_id')
    .select('v.task_id', 'v.process_instance_id', 'v.name', 'v.type', 'v.value', 'v.key_id', 't.definition_id')
    .orderBy([{ column: 'v.task_id' }, { column: 'v.name' }]).limit(q.limit);
  if (q.plain) b.whereNull('v.key_id');
  else b.whereNotNull('v.key_id').whereNot('v.key_id', q.currentKeyId);
  if (q.after) b.whereRaw('(v.task_id, v.name) > (?, ?)', [q.after.taskId, q.after.name]);
  return b;
}

/** Replaces one task-local variable's stored value only if it is still exactly what was read. */
export async function replaceTaskStoredValue(db: Db, taskId: string, expected: StoredVariable, next: Pick<StoredVariable, 'value' | 'key_id'>): Promise<boolean> {
  const b = db('task_variables').where({ task_id: taskId, name: expected.name, type: expected.type })
    .whereRaw('value = ?::jsonb', [JSON.stringify(expected.value ?? null)]);
  if (expected.key_id == null) b.whereNull('key_id');
  else b.where('key_id', expected.key_id);
  return (await b.update({ value: JSON.stringify(next.value ?? null), key_id: next.key_id })) > 0;
}

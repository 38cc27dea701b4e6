import type { Knex } from 'knex';
import { loadTaskVariables } from '../store/task-variables.ts';
import type { TaskRow } from '../store/tasks.ts';
import type { Variables } from '../types.ts';
import type { VariableVault } from './sealed-variables.ts';

/** Where a task-local variable's seal binds it: its task within its instance (never an instance id itself). */
export const taskVariableScope = (instanceId: string, taskId: string): string => `${instanceId}/task/${taskId}`;

/** A task's own (task-local) variables, opened. */
export async function loadTaskLocals(db: Knex, vault: VariableVault, task: Pick<TaskRow, 'id' | 'process_instance_id'>, marked: ReadonlySet<string>): Promise<Variables> {
  const scope = taskVariableScope(task.process_instance_id, task.id);
  return Object.fromEntries((await loadTaskVariables(db, task.id)).map((row) => [row.name, vault.open(scope, row, marked)]));
}


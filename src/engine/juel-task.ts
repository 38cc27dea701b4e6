import { EXECUTION_METHODS, JuelTask } from './juel-context.ts';
import type { Method } from './juel-dates.ts';

/*
 * Camunda's `task` (DelegateTask) in a task listener written as an
 * expression (`camunda:taskListener event="create" expression="${…}"`). Only
 * what this server can answer exactly when its `create` and `complete`
 * listeners run (camunda-extension.ts): who the task is in the diagram, and
 * the variables, read and written as `execution` reads and writes them.
 * Its id, assignee, priority and due date are not there: `create` runs before
 * they are resolved, and the row holding them is written after the run.
 */

const self = (f: (t: JuelTask, args: unknown[], fail: (why: string) => never) => unknown) => f as Method['run'];
export { JuelTask };
const viaExecution = (name: string): Method => {
  const m = EXECUTION_METHODS.get(name)!;
  return { arity: m.arity, run: self((t, args, fail) => m.run(t.execution, args, fail)) };
};

/** DelegateTask methods on the allow-list (docs/expressions.md). */
export const TASK_METHODS = new Map<string, Method>([
  ['getVariable', viaExecution('getVariable')],
  ['hasVariable', viaExecution('hasVariable')],
  ['getVariables', viaExecution('getVariables')],
  ['setVariable', viaExecution('setVariable')],
  ['getProcessInstanceId', viaExecution('getProcessInstanceId')],
  ['getProcessDefinitionId', viaExecution('getProcessDefinitionId')],
  ['getTaskDefinitionKey', { arity: [0], run: self((t) => t.info.activityId) }],
  ['getName', { arity: [0], run: self((t) => t.info.name()) }],
  ['getEventName', { arity: [0], run: self((t) => t.info.event) }],
  ['getExecution', { arity: [0], run: self((t) => t.execution) }],
]);

/** Bean properties (`task.name`) read through the getter of the same name, as JUEL does. */
export function taskProperty(t: JuelTask, property: string): unknown {
  const getter = TASK_METHODS.get(`get${property.charAt(0).toUpperCase()}${property.slice(1)}`);
  if (!getter || !getter.arity.includes(0)) return undefined;
  return getter.run(t, [], () => undefined as never);
}

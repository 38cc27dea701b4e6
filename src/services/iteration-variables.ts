import { savedIteration } from '../engine/iteration-scope.ts';
import { countInstanceTasks, type ExternalTaskRow } from '../store/external-tasks.ts';
import type { Db } from '../store/db.ts';
import { findInstance } from '../store/instances.ts';
import type { Variables } from '../types.ts';
import { inferType } from './variables.ts';

/** Execution ids of multi-instance instances end in `_<loopCounter>` (multi-instance.ts); others may too, by chance. */
const MAY_BE_INSTANCE = /_\d+$/;

/**
 * The local variables of the multi-instance instance an external task
 * belongs to, as Camunda's fetchAndLock returns them along with the process
 * variables: the element variable and loopCounter of the instance, and the
 * body's nrOfInstances, nrOfActiveInstances and nrOfCompletedInstances as
 * they stand now (counted from the instance's external tasks, as each
 * instance is exactly one). Empty for a task that is not such an instance.
 */
export async function iterationVariables(db: Db, task: ExternalTaskRow): Promise<Variables> {
  if (!MAY_BE_INSTANCE.test(task.execution_id)) return {};
  const instance = await findInstance(db, task.process_instance_id);
  const saved = savedIteration(instance?.engine_state, task.execution_id);
  if (!saved) return {};
  const counts = await countInstanceTasks(db, task.process_instance_id, task.activity_id, saved.bodyExecutionId);
  const values: Record<string, unknown> = {
    ...saved.variables,
    nrOfActiveInstances: saved.isSequential ? 1 : counts.open,
    nrOfCompletedInstances: counts.completed,
  };
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, inferType(value)]));
}

import { savedIteration } from '../engine/iteration-scope.ts';
import { countInstanceTasks, type ExternalTaskRow } from '../store/external-tasks.ts';
import type { Db } from '../store/db.ts';
import { findInstance } from '../store/instances.ts';
import type { Variables } from '../types.ts';
import { inferType } from './variables.ts';

/**
 * The local variables of the multi-instance instance an external task is,
 * or runs in (a multi-instance sub-process), as Camunda's fetchAndLock
 * returns them along with the process variables: the element variable,
 * loopCounter and nrOfInstances; for a task that is itself the instance,
 * also the body's nrOfActiveInstances and nrOfCompletedInstances as they
 * stand now (counted from the instances' external tasks, one each). Inside
 * a sub-process those two are left out: nothing here counts them live.
 * Empty for a task in no multi-instance activity.
 */
export async function iterationVariables(db: Db, task: ExternalTaskRow): Promise<Variables> {
  const instance = await findInstance(db, task.process_instance_id);
  const saved = savedIteration(instance?.engine_state, task.execution_id);
  if (!saved) return {};
  if (!saved.direct) {
    const { nrOfActiveInstances: _a, nrOfCompletedInstances: _c, ...fixed } = saved.variables;
    return typed(fixed);
  }
  const counts = await countInstanceTasks(db, task.process_instance_id, task.activity_id, saved.bodyExecutionId);
  const values: Record<string, unknown> = {
    ...saved.variables,
    nrOfActiveInstances: saved.isSequential ? 1 : counts.open,
    nrOfCompletedInstances: counts.completed,
  };
  return typed(values);
}

function typed(values: Record<string, unknown>): Variables {
  return Object.fromEntries(Object.entries(values).map(([name, value]) => [name, inferType(value)]));
}

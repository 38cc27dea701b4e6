import type { Knex } from 'knex';
import { readLocals, writeLocals } from '../engine/local-variables.ts';
import { runDeletionListeners, runTaskListeners, taskListenersOf } from '../engine/task-listeners.ts';
import { ConflictError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { findInstance, saveInstanceStates, type InstanceRow } from '../store/instances.ts';
import { listOpenTasksOfInstance, type TaskRow } from '../store/tasks.ts';
import { deleteVariables } from '../store/variables.ts';
import type { Variables } from '../types.ts';
import type { DefinitionService, LoadedDefinition } from './definitions.ts';
import type { ScriptListener } from '../engine/camunda-extension.ts';
import { toEngineError } from './engine-errors.ts';
import type { Execution } from './execution.ts';
import { engineChanges, engineValues } from './variables.ts';

/** What a listener run changed, written in the transaction of the change that fired it. */
export type ListenerEffects = (trx: Db) => Promise<void>;

/**
 * Task listeners fired by a REST change of a task (engine/task-listeners.ts):
 * `assignment` when its assignee changes; and, when an instance is deleted,
 * its tasks' `delete` and the process's `end` listeners. The scripts run before the
 * change's transaction opens (no transaction is held while a script runs),
 * over the variables as they are now; the effects then save what they
 * changed under the instance's revision, so a change of the instance
 * meanwhile fails the command with 409 instead of saving over it. A failing
 * listener fails the command with 400 and nothing is saved.
 */
export function makeTaskListeners(db: Knex, definitions: DefinitionService, execution: Execution) {
  /** Runs `listeners` over the variables as they are now; the effects save what they changed under the instance's revision. */
  async function run(task: TaskRow, instance: InstanceRow, def: LoadedDefinition, listeners: ScriptListener[], assignee: string | null): Promise<ListenerEffects> {
    const event = listeners[0]!.event;
    const before: Variables = await execution.vault.load(db, instance.id, def.sensitive);
    const localsBefore = readLocals(instance.engine_state!, task.execution_id) ?? {};
    const after = await runTaskListeners(
      { activityId: task.task_definition_key, name: task.name, assignee, instance: { processInstanceId: instance.id, businessKey: instance.business_key } },
      listeners, engineValues(before), localsBefore,
    ).catch((err) => {
      throw toEngineError(err);
    });
    const localSet = Object.fromEntries(Object.entries(after.locals).filter(([k, v]) => JSON.stringify(localsBefore[k]) !== JSON.stringify(v)));
    const localRemoved = Object.keys(localsBefore).filter((k) => !(k in after.locals));
    if (Object.keys(localSet).length || localRemoved.length) writeLocals(instance.engine_state!, task.execution_id, localSet, localRemoved);
    return async (trx) => {
      const saved = await saveInstanceStates(trx, [{ id: instance.id, rev: instance.rev, engineState: instance.engine_state, ended: false }]);
      if (saved.length !== 1) throw new ConflictError(`流程实例已变化，请重试 / process instance ${instance.id} changed while the task's ${event} listener ran; retry`);
      await execution.vault.save(trx, instance.id, def.sensitive, engineChanges(before, after.variables));
      await deleteVariables(trx, instance.id, Object.keys(before).filter((k) => !(k in after.variables)));
    };
  }

  return {
    /** Runs the task's `event` listeners; null when it has none (nothing to save). */
    async fire(task: TaskRow, event: 'assignment', assignee: string | null): Promise<ListenerEffects | null> {
      const def = await definitions.load(task.definition_id);
      const instance = await findInstance(db, task.process_instance_id);
      if (!instance?.engine_state || instance.state !== 'ACTIVE') return null;
      // The loaded definition (cached, with every element of the process) keys the listeners' cache.
      const listeners = taskListenersOf(def, task.task_definition_key, event);
      if (!listeners.length) return null;
      return run(task, instance, def, listeners, assignee);
    },

    /** Runs `listeners` (a timeout listener: services/task-timeouts.ts) for an open task of a running `instance`. */
    run: (task: TaskRow, instance: InstanceRow, def: LoadedDefinition, listeners: ScriptListener[]) => run(task, instance, def, listeners, task.assignee),

    /**
     * Runs what deleting `instance` fires (its open tasks' `delete` listeners,
     * the process's `end` listeners); the effects save the variables they
     * changed, in the deletion's transaction (whose revision check guards them).
     */
    async deletion(instance: InstanceRow): Promise<ListenerEffects | null> {
      if (!instance.engine_state) return null;
      const def = await definitions.load(instance.definition_id);
      const tasks = (await listOpenTasksOfInstance(db, instance.id)).map((t) => ({
        activityId: t.task_definition_key, name: t.name, assignee: t.assignee, locals: readLocals(instance.engine_state!, t.execution_id) ?? {},
      }));
      const before: Variables = await execution.vault.load(db, instance.id, def.sensitive);
      const after = await runDeletionListeners(def, tasks, engineValues(before), { processInstanceId: instance.id, businessKey: instance.business_key })
        .catch((err) => {
          throw toEngineError(err);
        });
      if (!after) return null;
      return async (trx) => {
        await execution.vault.save(trx, instance.id, def.sensitive, engineChanges(before, after));
        await deleteVariables(trx, instance.id, Object.keys(before).filter((k) => !(k in after)));
      };
    },
  };
}

export type TaskListeners = ReturnType<typeof makeTaskListeners>;

import type { Knex } from 'knex';
import { readLocals } from '../engine/local-variables.ts';
import { runDeletionListeners, runTaskListeners, taskListenersOf } from '../engine/task-listeners.ts';
import type { Db } from '../store/db.ts';
import { findInstance, type InstanceRow } from '../store/instances.ts';
import { listOpenTasksOfInstance, type TaskRow } from '../store/tasks.ts';
import { deleteVariables } from '../store/variables.ts';
import type { Variables } from '../types.ts';
import type { DefinitionService, LoadedDefinition } from './definitions.ts';
import type { ScriptListener } from '../engine/camunda-extension.ts';
import type { VariableChangeInput } from './conditions.ts';
import { toEngineError } from './engine-errors.ts';
import type { Execution } from './execution.ts';
import { dateNames, engineChanges, engineValues } from './variables.ts';
import { runUserOf, type Actor } from './trace.ts';
import type { TaskDraft } from '../engine/juel-context.ts';

/** What a listener run changed, written in the transaction of the change that fired it. */
export type ListenerEffects = (trx: Db) => Promise<void>;

/**
 * What task listeners fired outside an engine run changed: saved through
 * changeVariables (conditions.ts), as every variable change is, only on
 * the instance's revision they ran on, in the transaction of the change
 * that fired them.
 */
export type ListenerChange = Pick<VariableChangeInput, 'instanceId' | 'definitionId' | 'sensitive' | 'modifications' | 'deletions' | 'locals'> & { rev: number };

/**
 * Task listeners fired by a REST change of a task (engine/task-listeners.ts):
 * `update` on every change of it (assignee, owner, delegation, name,
 * priority, dates, its own variables), then `assignment` when its assignee changes; and, when an instance is deleted,
 * its tasks' `delete` and the process's `end` listeners. The scripts run before the
 * change's transaction opens (no transaction is held while a script runs),
 * over the variables as they are now; what they changed is then saved under
 * the instance's revision (a ListenerChange), so a change of the instance
 * meanwhile fails the command with 409 instead of saving over it. A failing
 * listener fails the command with 400 and nothing is saved.
 */
export function makeTaskListeners(db: Knex, definitions: DefinitionService, execution: Execution) {
  /** Runs `listeners` over the variables as they are now; what they changed, to be saved on the instance's revision they ran on. */
  async function run(task: TaskRow, instance: InstanceRow, def: LoadedDefinition, listeners: ScriptListener[], assignee: string | null, actor?: Actor): Promise<ListenerChange> {
    const before: Variables = await execution.vault.load(db, instance.id, def.sensitive);
    const localsBefore = readLocals(instance.engine_state!, task.execution_id) ?? {};
    // Listeners in expression form see the task as its row is, with the new assignee, and the caller as currentUser().
    const now = execution.engineNow() ?? new Date();
    const after = await runTaskListeners(
      {
        activityId: task.task_definition_key, name: task.name, assignee, instance: { processInstanceId: instance.id, businessKey: instance.business_key },
        definitionId: def.id, executionId: task.execution_id, draft: draftOf(task, assignee),
        env: { now: () => now, zone: execution.zone, user: actor ? runUserOf(actor) : null, dates: new Set(dateNames(before)) },
      },
      listeners, engineValues(before), localsBefore,
    ).catch((err) => {
      throw toEngineError(err);
    });
    const localSet = Object.fromEntries(Object.entries(after.locals).filter(([k, v]) => JSON.stringify(localsBefore[k]) !== JSON.stringify(v)));
    const localRemoved = Object.keys(localsBefore).filter((k) => !(k in after.locals));
    return {
      instanceId: instance.id, definitionId: def.id, sensitive: def.sensitive, rev: instance.rev,
      modifications: engineChanges(before, after.variables), deletions: Object.keys(before).filter((k) => !(k in after.variables)),
      locals: Object.keys(localSet).length || localRemoved.length ? { executionId: task.execution_id, set: localSet, deleted: localRemoved } : undefined,
    };
  }

  return {
    /**
     * Runs the listeners a REST change of an open task fires: its `update`
     * listeners, then, when the change gives it another assignee, its
     * `assignment` listeners (Camunda 7's order); null when it has none
     * (nothing to save).
     */
    async fire(task: TaskRow, change: { assignee?: string | null }, actor?: Actor): Promise<ListenerChange | null> {
      const def = await definitions.load(task.definition_id);
      const instance = await findInstance(db, task.process_instance_id);
      if (!instance?.engine_state || instance.state !== 'ACTIVE') return null;
      const assigned = change.assignee !== undefined && change.assignee !== task.assignee;
      // The loaded definition (cached, with every element of the process) keys the listeners' cache.
      const listeners = [
        ...taskListenersOf(def, task.task_definition_key, 'update'),
        ...(assigned ? taskListenersOf(def, task.task_definition_key, 'assignment') : []),
      ];
      if (!listeners.length) return null;
      return run(task, instance, def, listeners, assigned ? change.assignee! : task.assignee, actor);
    },

    /** Runs `listeners` (a timeout listener: services/task-timeouts.ts) for an open task of a running `instance`. */
    run: (task: TaskRow, instance: InstanceRow, def: LoadedDefinition, listeners: ScriptListener[]) => run(task, instance, def, listeners, task.assignee),

    /**
     * Runs what deleting `instance` fires (its open tasks' `delete` listeners,
     * the process's `end` listeners); the effects save the variables they
     * changed, in the deletion's transaction (whose revision check guards them).
     */
    async deletion(instance: InstanceRow, actor?: Actor): Promise<ListenerEffects | null> {
      if (!instance.engine_state) return null;
      const def = await definitions.load(instance.definition_id);
      const tasks = (await listOpenTasksOfInstance(db, instance.id)).map((t) => ({
        activityId: t.task_definition_key, name: t.name, assignee: t.assignee, locals: readLocals(instance.engine_state!, t.execution_id) ?? {},
      }));
      const before: Variables = await execution.vault.load(db, instance.id, def.sensitive);
      const now = execution.engineNow() ?? new Date();
      const env = { now: () => now, zone: execution.zone, user: actor ? runUserOf(actor) : null, dates: new Set(dateNames(before)) };
      const after = await runDeletionListeners(def, tasks, engineValues(before), { processInstanceId: instance.id, businessKey: instance.business_key }, env)
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

/** The task as a listener fired over REST sees it (juel-task.ts), with the assignee it is being given. */
function draftOf(task: TaskRow, assignee: string | null): TaskDraft {
  return {
    id: task.id, name: task.name, description: task.description, assignee, owner: task.owner, priority: task.priority,
    due: task.due ? new Date(task.due).toISOString() : null,
  };
}

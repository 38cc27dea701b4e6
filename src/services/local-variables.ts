import type { Knex } from 'knex';
import { loopVariableNames, readLocals } from '../engine/local-variables.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { instancesRunningExecution } from '../store/activities.ts';
import type { Db } from '../store/db.ts';
import { findInstance } from '../store/instances.ts';
import { deleteTaskVariables, upsertTaskVariables } from '../store/task-variables.ts';
import { holdsLiveLockIn } from '../store/external-tasks.ts';
import { hasOpenTaskFor, lockOpenTask } from '../store/tasks.ts';
import { WORKERS_GROUP, type Principal, type Variables, type VariableType } from '../types.ts';
import { makeVariableChanges } from './conditions.ts';
import type { DefinitionService } from './definitions.ts';
import type { InstanceService } from './instances.ts';
import type { Execution } from './execution.ts';
import { isSensitive } from './sealed-variables.ts';
import { loadTaskLocals, taskVariableScope } from './task-locals.ts';
import { taskFact, type TaskService } from './tasks.ts';
import type { TraceService } from './trace.ts';
import { engineValues, inferType } from './variables.ts';

/*
 * Local variables over Camunda's REST (`/execution/{id}/localVariables`,
 * `/task/{id}/localVariables`).
 *
 * An execution's locals are its input parameters and a multi-instance
 * iteration's element variable and loopCounter; they live in the engine state
 * with the waiting element (engine/local-variables.ts), so a change is a new
 * revision of the instance's state, saved only if nobody saved it meanwhile,
 * and heard by the instance's conditional events as any variable change is.
 * They are kept in the state as plain values, not encrypted: Bytes, File and
 * Date values and names the definition marks sensitive are refused, so
 * nothing that must be sealed ever lands there.
 *
 * A task's locals (Camunda's `task.setVariableLocal`) are rows of their own
 * (store/task-variables.ts), sealed as process variables are; they are the
 * task's, not its execution's: completing the task with variables sets
 * process variables, and they are no longer offered once the task has
 * ended (their rows stay, as Camunda's history keeps them). Camunda's
 * conditional events do not hear a task's own variables (TaskEntity
 * dispatches only non-task variable events), so changing them runs no
 * engine and moves nothing.
 */

/** Types a local keeps exactly as plain JSON in the engine state. */
const PLAIN: ReadonlySet<VariableType> = new Set(['String', 'Boolean', 'Integer', 'Short', 'Long', 'Double', 'Json', 'Null']);

export function makeLocalVariableService(db: Knex, definitions: DefinitionService, instances: InstanceService, tasks: TaskService, trace: TraceService, execution: Execution) {
  const { vault } = execution;
  const variableChanges = makeVariableChanges(db, definitions, execution, trace);
  /** The running instance of an execution the caller may see; NotFoundError otherwise. */
  async function executionInstance(executionId: string, principal: Principal): Promise<string> {
    for (const instanceId of await instancesRunningExecution(db, executionId)) {
      const visible = await instances.get(instanceId, principal).then(() => true, () => false);
      if (visible) return instanceId;
    }
    throw new NotFoundError(`执行不存在 / no running execution with id ${executionId}`);
  }

  async function localsOf(instanceId: string, executionId: string): Promise<Variables> {
    const row = await findInstance(db, instanceId);
    const locals = row?.engine_state ? readLocals(row.engine_state, executionId) : undefined;
    return Object.fromEntries(Object.entries(locals ?? {}).map(([k, v]) => [k, inferType(v)]));
  }

  /** Refuses what cannot be kept as a plain local: sealed names and types, and the engine's loop variables. */
  async function checkWritable(instanceId: string, modifications: Variables, loopNames: Set<string>): Promise<void> {
    const row = await findInstance(db, instanceId);
    const { sensitive } = await definitions.load(row!.definition_id);
    for (const [name, v] of Object.entries(modifications)) {
      if (!PLAIN.has(v.type) || isSensitive(name, v.type, sensitive)) {
        throw new ValidationError(`局部变量 ${name} 不能是 ${v.type} 类型或敏感变量（局部变量不加密保存）/ local variable ${name}: ${v.type} values and sensitive variables cannot be local here (locals are kept unencrypted in the engine state); set it on the process instance`);
      }
    }
    for (const name of [...Object.keys(modifications)].filter((n) => loopNames.has(n))) {
      throw new ValidationError(`${name} 是多实例循环变量，不能修改 / ${name} is a multi-instance loop variable of this execution and cannot be changed`);
    }
  }

  /**
   * A process instance's id is the id of its root execution (as in the
   * activity instance tree), whose locals are, as in Camunda, the process
   * variables. The instance, when `executionId` is one, is readable by
   * who may see it, and by a worker whose account holds a live lock on one
   * of its external tasks: camunda-external-task-client-js loads a File
   * variable of a fetched task through this path with the task's
   * processInstanceId.
   */
  async function rootVariables(executionId: string, principal: Principal): Promise<Variables | undefined> {
    const row = await findInstance(db, executionId);
    if (!row) return undefined;
    if (principal.groups.includes(WORKERS_GROUP) && !principal.isAdmin && (await holdsLiveLockIn(db, row.id, principal.userId))) {
      return vault.load(db, row.id, (await definitions.load(row.definition_id)).sensitive);
    }
    return instances.variables(row.id, principal);
  }

  return {
    async executionLocals(executionId: string, principal: Principal): Promise<{ instanceId: string; variables: Variables }> {
      const root = await rootVariables(executionId, principal);
      if (root) return { instanceId: executionId, variables: root };
      const instanceId = await executionInstance(executionId, principal);
      return { instanceId, variables: await localsOf(instanceId, executionId) };
    },

    /** Sets and deletes an execution's locals, in one new revision of its instance's state. */
    async modifyExecutionLocals(executionId: string, change: { modifications: Variables; deletions: string[] }, principal: Principal): Promise<void> {
      // The root execution's locals are the process variables (see rootVariables).
      if (await findInstance(db, executionId)) return instances.modifyVariables(executionId, change, principal);
      const instanceId = await executionInstance(executionId, principal);
      if (!principal.isAdmin && !(await hasOpenTaskFor(db, instanceId, principal))) {
        throw new ForbiddenError('只有管理员或有待办任务的人可以修改变量 / only administrators or people with an open task may change variables');
      }
      const row = await findInstance(db, instanceId);
      if (!row?.engine_state || row.state !== 'ACTIVE') throw new NotFoundError(`执行不存在 / no running execution with id ${executionId}`);
      await checkWritable(instanceId, change.modifications, loopVariableNames(row.engine_state, executionId));
      const deleted = change.deletions.filter((n) => !(n in change.modifications));
      // Through the one write path, so the conditional events waiting in the instance hear the change (conditions.ts).
      await variableChanges.changeVariables({
        instanceId, definitionId: row.definition_id, sensitive: new Set(), modifications: {}, deletions: [],
        locals: { executionId, set: engineValues(change.modifications), deleted }, actor: principal,
        fact: { operation: 'ModifyVariables', entityType: 'Execution', entityId: executionId, details: { local: true, set: Object.keys(change.modifications), deleted } },
      });
    },

    /** A task's own (task-local) variables, while it is open and the caller may see it. */
    async taskLocals(taskId: string, principal: Principal): Promise<{ instanceId: string; variables: Variables }> {
      const task = await tasks.openTask(taskId, principal);
      const { sensitive } = await definitions.load(task.definition_id);
      return { instanceId: task.process_instance_id, variables: await loadTaskLocals(db, vault, task, sensitive) };
    },

    /**
     * Sets and deletes a task's own variables in one transaction, by who may
     * act on the task (as for its process variables); sensitive ones sealed.
     */
    async modifyTaskLocals(taskId: string, change: { modifications: Variables; deletions: string[] }, principal: Principal): Promise<void> {
      const task = await tasks.actionableTask(taskId, principal);
      const { sensitive } = await definitions.load(task.definition_id);
      const scope = taskVariableScope(task.process_instance_id, task.id);
      const stored = Object.entries(change.modifications).map(([name, v]) => vault.toStored(scope, name, v, sensitive));
      const deletions = change.deletions.filter((n) => !(n in change.modifications));
      const fact = taskFact(task, 'ModifyVariables', { local: true, set: Object.keys(change.modifications), deleted: deletions });
      const work = async (trx: Db) => {
        // The task may have ended since it was read: its locals end with it.
        if (!(await lockOpenTask(trx, task.id))) throw new NotFoundError(`任务已结束 / task ${taskId} is no longer open`);
        await upsertTaskVariables(trx, task.id, task.process_instance_id, stored);
        await deleteTaskVariables(trx, task.id, deletions);
      };
      // A change of the task's own variables is a change of the task: its `update` listeners run, and what they set is saved with it.
      await tasks.commitUpdate(task, principal, fact, work);
    },
  };
}

export type LocalVariableService = ReturnType<typeof makeLocalVariableService>;

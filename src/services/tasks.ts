import type { Knex } from 'knex';
import { signalActivity } from '../engine/runner.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { listOpenExecutions } from '../store/activities.ts';
import { findInstance, saveInstanceState } from '../store/instances.ts';
import { countTasks, findTask, queryTasks, setAssignee, type TaskQuery, type TaskRow } from '../store/tasks.ts';
import { findUserWithGroups } from '../store/identity.ts';
import { loadVariables } from '../store/variables.ts';
import type { FormField, Principal, Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { toEngineError } from './engine-errors.ts';
import { persistRun } from './execution.ts';
import { validateSubmission } from './forms.ts';
import { engineValues } from './variables.ts';

/** How often a completion re-reads and re-runs after losing an optimistic-lock race. */
const MAX_ATTEMPTS = 5;

export type TaskFilter = Omit<TaskQuery, 'visibleTo' | 'scope' | 'candidateUserGroups'>;

/** User tasks: the inbox queries, claim, unclaim and complete. */
export function makeTaskService(db: Knex, definitions: DefinitionService) {
  /** Adds the caller's visibility and Camunda's candidate-user group expansion to a query. */
  async function scoped(filter: TaskFilter, principal: Principal, scope: TaskQuery['scope']): Promise<TaskQuery> {
    let candidateUserGroups: string[] | undefined;
    if (filter.candidateUser != null) {
      candidateUserGroups = filter.candidateUser === principal.userId
        ? principal.groups
        : (await findUserWithGroups(db, filter.candidateUser))?.groups ?? [];
    }
    const visibleTo = principal.isAdmin ? undefined : { userId: principal.userId, groups: principal.groups };
    return { ...filter, candidateUserGroups, visibleTo, scope };
  }

  /** An open or finished task the caller may see; NotFoundError otherwise, so its existence does not leak. */
  async function visibleTask(id: string, principal: Principal): Promise<TaskRow> {
    const task = await findTask(db, id);
    if (!task || !canSee(task, principal)) throw new NotFoundError(`任务不存在 / no task with id ${id}`);
    return task;
  }

  async function openTask(id: string, principal: Principal): Promise<TaskRow> {
    const task = await visibleTask(id, principal);
    if (task.end_time) throw new NotFoundError(`任务已结束 / task ${id} is no longer open`);
    return task;
  }

  async function formFields(task: TaskRow): Promise<FormField[]> {
    const def = await definitions.load(task.definition_id);
    return def.forms[task.task_definition_key] ?? [];
  }

  /** Completes a task with variables; returns the instance's variables afterwards when `returnVariables`. */
  async function complete(id: string, submitted: Variables, principal: Principal, returnVariables = false): Promise<Variables | null> {
    let task = await openTask(id, principal);
    if (!principal.isAdmin && task.assignee != null && task.assignee !== principal.userId) {
      throw new ForbiddenError(`任务已由 ${task.assignee} 认领 / task ${id} is assigned to another user`);
    }
    const variables = validateSubmission(await formFields(task), submitted);
    const def = await definitions.load(task.definition_id);
    for (let attempt = 1; ; attempt++) {
      const [instance, stored, openList] = await Promise.all([
        findInstance(db, task.process_instance_id), loadVariables(db, task.process_instance_id), listOpenExecutions(db, task.process_instance_id),
      ]);
      if (!instance || instance.state !== 'ACTIVE' || !instance.engine_state) {
        throw new NotFoundError(`流程实例已结束 / process instance ${task.process_instance_id} is not active`);
      }
      const before = { ...stored, ...variables };
      const open = new Set(openList);
      const run = await signalActivity(def, {
        state: instance.engine_state, variables: engineValues(before), openExecutions: open,
        activityId: task.task_definition_key, executionId: task.execution_id,
      }).catch((err) => {
        throw toEngineError(err);
      });
      const saved = await db.transaction(async (trx) => {
        if (!(await saveInstanceState(trx, instance.id, instance.rev, { engineState: run.completed ? null : run.state, ended: run.completed }))) return false;
        await persistRun(trx, {
          instanceId: instance.id, definitionId: def.id, definitionKey: def.key, variables: before, setByCaller: variables,
          completed: { executionId: task.execution_id, by: principal.userId },
        }, run);
        return true;
      });
      if (saved) return returnVariables ? loadVariables(db, instance.id) : null;
      // Someone advanced the instance meanwhile (e.g. a parallel branch): re-read and re-run on the new state.
      const fresh = await findTask(db, id);
      if (!fresh || fresh.end_time) throw new ConflictError(`任务已被他人完成 / task ${id} was completed concurrently`);
      if (attempt >= MAX_ATTEMPTS) throw new ConflictError(`流程实例并发修改过多，请重试 / too many concurrent changes to process instance ${instance.id}; retry`);
      task = fresh;
    }
  }

  return {
    async list(filter: TaskFilter, principal: Principal): Promise<TaskRow[]> {
      return queryTasks(db, await scoped(filter, principal, 'open'));
    },
    async count(filter: TaskFilter, principal: Principal): Promise<number> {
      return countTasks(db, await scoped(filter, principal, 'open'));
    },
    /** Finished and open tasks, for the history view. */
    async history(filter: TaskFilter, principal: Principal): Promise<TaskRow[]> {
      return queryTasks(db, await scoped(filter, principal, 'all'));
    },
    get: openTask,

    async claim(id: string, userId: string, principal: Principal): Promise<void> {
      if (!userId) throw new ValidationError('缺少 userId / userId is required');
      if (!principal.isAdmin && userId !== principal.userId) throw new ForbiddenError('只能为自己认领任务 / you can only claim tasks for yourself');
      const task = await openTask(id, principal);
      if (task.assignee === userId) return;
      if (task.assignee != null) throw new ConflictError(`任务已由 ${task.assignee} 认领 / task ${id} is already claimed by ${task.assignee}`, undefined, 'TaskAlreadyClaimedException');
      if (!(await setAssignee(db, id, null, userId))) {
        throw new ConflictError(`任务已被他人认领 / task ${id} was claimed concurrently`, undefined, 'TaskAlreadyClaimedException');
      }
    },

    async unclaim(id: string, principal: Principal): Promise<void> {
      const task = await openTask(id, principal);
      if (task.assignee == null) return;
      if (!principal.isAdmin && task.assignee !== principal.userId) {
        throw new ForbiddenError(`只有认领人可以取消认领 / only the assignee may unclaim task ${id}`);
      }
      if (!(await setAssignee(db, id, task.assignee, null))) throw new ConflictError(`任务已变化 / task ${id} changed concurrently`);
    },

    complete,

    /** The task's form fields with current values, as Camunda's form-variables. */
    async formVariables(id: string, principal: Principal): Promise<{ fields: FormField[]; variables: Variables }> {
      const task = await openTask(id, principal);
      const [fields, variables] = await Promise.all([formFields(task), loadVariables(db, task.process_instance_id)]);
      return { fields, variables };
    },
  };
}

/** Assigned to, offered to, or completed by the caller; administrators see all. */
export function canSee(task: TaskRow, principal: Principal): boolean {
  if (principal.isAdmin) return true;
  const u = principal.userId;
  return task.assignee === u || task.completed_by === u || task.candidate_users.includes(u)
    || task.candidate_groups.some((g) => principal.groups.includes(g));
}

export type TaskService = ReturnType<typeof makeTaskService>;

import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import {
  countTasks, findTask, queryTasks, setAssignee, updateOpenTask, type TaskChange, type TaskQuery, type TaskRow,
} from '../store/tasks.ts';
import { findUserWithGroups } from '../store/identity.ts';
import { makeVariableChanges } from './conditions.ts';
import { readLocals } from '../engine/local-variables.ts';
import { findInstance } from '../store/instances.ts';
import { loadTaskLocals } from './task-locals.ts';
import { inferType } from './variables.ts';
import { ADMIN_GROUP, PUBLIC_USER, SYSTEM_USER, type FormField, type Principal, type Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import type { Execution } from './execution.ts';
import { validateSubmission } from './forms.ts';
import type { TraceFact, TraceService } from './trace.ts';
import { makeTaskListeners, type ListenerChange } from './task-listeners.ts';
import type { Db } from '../store/db.ts';
import type { NotifiedTask } from './notify-events.ts';
import type { CarbonCopyWriter } from './carbon-copies.ts';
import { assertActive } from './suspension.ts';

/** A trace fact about one task. */
export function taskFact(task: TaskRow, operation: string, details?: Record<string, unknown>): TraceFact {
  return { operation, entityType: 'Task', entityId: task.id, processInstanceId: task.process_instance_id, details: { taskDefinitionKey: task.task_definition_key, ...details } };
}

export type TaskFilter = Omit<TaskQuery, 'visibleTo' | 'scope' | 'candidateUserGroups'>;

/** User tasks: the inbox queries, claim, unclaim and complete. */
export function makeTaskService(db: Knex, definitions: DefinitionService, execution: Execution, trace: TraceService, carbonCopies?: CarbonCopyWriter) {
  // `update` listeners fire with every change of the task, `assignment` ones with every change of its assignee, in the change's transaction.
  const listeners = makeTaskListeners(db, definitions, execution);
  const assigning = (task: TaskRow, assignee: string | null, principal?: Principal) => listeners.fire(task, { assignee }, principal);
  const variableChanges = makeVariableChanges(db, definitions, execution, trace);
  /** Adds the caller's visibility and Camunda's candidate-user group expansion to a query. */
  async function scoped(filter: TaskFilter, principal: Principal, scope: TaskQuery['scope']): Promise<TaskQuery> {
    const looked = new Map<string, Promise<string[]>>();
    const groupsOf = async (user: string | undefined) => {
      if (user == null) return undefined;
      if (user === principal.userId) return principal.groups;
      // One look-up per user named, however many or-queries name them.
      if (!looked.has(user)) looked.set(user, findUserWithGroups(db, user).then((u) => u?.groups ?? []));
      return looked.get(user)!;
    };
    const orQueries = await Promise.all((filter.orQueries ?? []).map(async (or) => ({ ...or, candidateUserGroups: await groupsOf(or.candidateUser) })));
    const visibleTo = principal.isAdmin ? undefined : { userId: principal.userId, groups: principal.groups };
    return { ...filter, orQueries, candidateUserGroups: await groupsOf(filter.candidateUser), visibleTo, scope };
  }

  /** The caller may act on an open task: administrators, the assignee, or a candidate while it is unassigned. */
  async function actionableTask(id: string, principal: Principal): Promise<TaskRow> {
    const task = await openTask(id, principal);
    if (!principal.isAdmin && task.assignee != null && task.assignee !== principal.userId) {
      throw new ForbiddenError(`任务已由 ${task.assignee} 认领 / task ${id} is assigned to another user`);
    }
    return task;
  }

  /**
   * Refuses to hand `task` to `userId` unless that is an existing user who
   * may see it: a candidate user, a member of a candidate group, an
   * administrator, or its assignee already. Otherwise the new assignee would
   * read the instance's variables, sensitive ones included, by assignment alone.
   */
  async function assertAssignable(task: TaskRow, userId: string): Promise<void> {
    const refuse = (zh: string, en: string): never => {
      throw new ValidationError(`不能将任务 ${task.id} 交给 ${userId}：${zh} / cannot assign task ${task.id} to user ${userId}: ${en}`);
    };
    if ([SYSTEM_USER, PUBLIC_USER].includes(userId.toLowerCase())) refuse('该名称为系统保留', 'the name is reserved for the server');
    if (userId === task.assignee) return;
    const user = (await findUserWithGroups(db, userId)) ?? refuse('用户不存在', 'no such user');
    const offered = user.groups.includes(ADMIN_GROUP) || task.candidate_users.includes(userId)
      || task.candidate_groups.some((g) => user.groups.includes(g));
    if (!offered) refuse('任务未提供给该用户或其所在组', 'the task is not offered to this user or any of their groups');
  }

  /**
   * Commits a change of a task (`work`) with what its listeners changed, in
   * one transaction, traced as `fact`: through changeVariables when they
   * changed something, so conditional events hear it.
   */
  async function commit(principal: Principal, fact: TraceFact, listened: ListenerChange | null, work: (trx: Db) => Promise<void>): Promise<void> {
    if (listened) {
      await variableChanges.changeVariables({ ...listened, actor: principal, fact, afterSave: work });
      return;
    }
    await db.transaction(async (trx) => {
      await work(trx);
      await trace.record(trx, principal, fact);
    });
  }

  /** Applies a change to an open task, failing cleanly if it changed hands meanwhile; traced as `operation`. */
  async function change(task: TaskRow, values: TaskChange, principal: Principal, operation: string, listened?: ListenerChange | null): Promise<void> {
    await commit(principal, taskFact(task, operation, { changed: Object.keys(values) }), listened ?? null, async (trx) => {
      if ('assignee' in values || 'owner' in values) await assertActive(trx, task.process_instance_id, 'task', task.id);
      if (!(await updateOpenTask(trx, task.id, task.assignee, values, principal.userId))) throw new ConflictError(`任务已变化，请刷新 / task ${task.id} changed concurrently; reload it`);
      // The new assignee hears of it in the change's transaction; a claim is the claimer's own doing and is not notified.
      if (values.assignee) await execution.events.assigned(trx, notifiedTask(task), values.assignee, principal.userId);
      // A new due date moves the deadline reminders with it (none without one).
      if ('due' in values && (values.due?.getTime() ?? null) !== (task.due?.getTime() ?? null)) {
        await execution.armReminders(trx, [{ id: task.id, definitionId: task.definition_id, taskDefinitionKey: task.task_definition_key, due: values.due ?? null }]);
      }
    });
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

  /** The variable names the task's definition marks sensitive (resolved before any transaction). */
  async function sensitiveOf(task: TaskRow): Promise<ReadonlySet<string>> {
    return (await definitions.load(task.definition_id)).sensitive;
  }

  async function instanceVariables(task: TaskRow): Promise<Variables> {
    return execution.vault.load(db, task.process_instance_id, await sensitiveOf(task));
  }

  /** Completes a task with variables; returns the instance's variables afterwards when `returnVariables`. */
  async function complete(id: string, submitted: Variables, principal: Principal, returnVariables = false): Promise<Variables | null> {
    const task = await actionableTask(id, principal);
    await assertActive(db, task.process_instance_id, 'task', id);
    if (task.delegation_state === 'PENDING') {
      throw new ValidationError(`委派中的任务只能办结后交回，不能完成 / task ${id} is delegated: resolve it instead of completing it`);
    }
    const variables = validateSubmission(await formFields(task), submitted);
    await execution.advance(
      { instanceId: task.process_instance_id, definitionId: task.definition_id, activityId: task.task_definition_key, executionId: task.execution_id },
      {
        variables, by: principal.userId, stillOpen: async () => !(await findTask(db, id))?.end_time,
        actor: principal, fact: taskFact(task, 'Complete', { variables: Object.keys(variables) }),
        // 抄送: the copies the step's ccUsers / ccGroups ask for, in the completion's transaction.
        afterSave: carbonCopies ? (trx) => carbonCopies.onCompleted(trx, task, principal) : undefined,
      },
    );
    return returnVariables ? instanceVariables(task) : null;
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
    /** How many finished and open tasks match (GET /history/task/count). */
    async historyCount(filter: TaskFilter, principal: Principal): Promise<number> {
      return countTasks(db, await scoped(filter, principal, 'all'));
    },
    get: openTask,

    async claim(id: string, userId: string, principal: Principal): Promise<void> {
      if (!userId) throw new ValidationError('缺少 userId / userId is required');
      if (!principal.isAdmin && userId !== principal.userId) throw new ForbiddenError('只能为自己认领任务 / you can only claim tasks for yourself');
      const task = await openTask(id, principal);
      if (task.assignee === userId) return;
      if (task.assignee != null) throw new ConflictError(`任务已由 ${task.assignee} 认领 / task ${id} is already claimed by ${task.assignee}`, undefined, 'TaskAlreadyClaimedException');
      await assertAssignable(task, userId);
      await assertActive(db, task.process_instance_id, 'task', id);
      await commit(principal, taskFact(task, 'Claim', { assignee: userId }), await assigning(task, userId, principal), async (trx) => {
        await assertActive(trx, task.process_instance_id, 'task', id);
        if (!(await setAssignee(trx, id, null, userId, principal.userId))) {
          throw new ConflictError(`任务已被他人认领 / task ${id} was claimed concurrently`, undefined, 'TaskAlreadyClaimedException');
        }
      });
    },

    async unclaim(id: string, principal: Principal): Promise<void> {
      const task = await openTask(id, principal);
      if (task.assignee == null) return;
      if (!principal.isAdmin && task.assignee !== principal.userId) {
        throw new ForbiddenError(`只有认领人可以取消认领 / only the assignee may unclaim task ${id}`);
      }
      await assertActive(db, task.process_instance_id, 'task', id);
      await commit(principal, taskFact(task, 'Unclaim', { previousAssignee: task.assignee }), await assigning(task, null, principal), async (trx) => {
        await assertActive(trx, task.process_instance_id, 'task', id);
        if (!(await setAssignee(trx, id, task.assignee, null, principal.userId))) throw new ConflictError(`任务已变化 / task ${id} changed concurrently`);
      });
    },

    complete,

    /** Sets (or clears) the assignee outright, as Camunda's /assignee. */
    async setAssignee(id: string, userId: string | null, principal: Principal): Promise<void> {
      const task = await actionableTask(id, principal);
      if (userId != null) await assertAssignable(task, userId);
      await change(task, { assignee: userId }, principal, 'SetAssignee', await assigning(task, userId, principal));
    },

    /** Hands the task to `userId`; the current assignee becomes the owner it returns to on resolve. */
    async delegate(id: string, userId: string, principal: Principal): Promise<void> {
      if (!userId) throw new ValidationError('缺少 userId / userId is required');
      const task = await actionableTask(id, principal);
      await assertAssignable(task, userId);
      await change(task, { owner: task.owner ?? task.assignee ?? principal.userId, assignee: userId, delegation_state: 'PENDING' }, principal, 'Delegate', await assigning(task, userId, principal));
    },

    /** The delegate hands a delegated task back to its owner, with variables. */
    async resolve(id: string, submitted: Variables, principal: Principal): Promise<void> {
      const task = await actionableTask(id, principal);
      if (task.delegation_state !== 'PENDING') throw new ValidationError(`任务 ${id} 未被委派 / task ${id} is not delegated`);
      await assertActive(db, task.process_instance_id, 'task', id);
      // The form is enforced when the owner completes; a delegate may hand back partial work.
      const variables = submitted;
      const listened = await assigning(task, task.owner, principal);
      await variableChanges.changeVariables({
        instanceId: task.process_instance_id, definitionId: task.definition_id, sensitive: await sensitiveOf(task),
        // What the delegate hands back wins over what the assignment listener set.
        ...listened, modifications: { ...listened?.modifications, ...variables }, deletions: (listened?.deletions ?? []).filter((n) => !(n in variables)),
        actor: principal, fact: taskFact(task, 'Resolve', { variables: Object.keys(variables) }),
        afterSave: async (trx) => {
          await assertActive(trx, task.process_instance_id, 'task', id);
          if (!(await updateOpenTask(trx, id, task.assignee, { assignee: task.owner, delegation_state: 'RESOLVED' }, principal.userId))) {
            throw new ConflictError(`任务已变化，请刷新 / task ${id} changed concurrently; reload it`);
          }
        },
      });
    },

    /** Camunda's PUT /task/{id}: name, description, priority, due and follow-up dates. */
    async update(id: string, values: Pick<TaskChange, 'name' | 'description' | 'priority' | 'due' | 'follow_up'>, principal: Principal): Promise<void> {
      const task = await actionableTask(id, principal);
      // Camunda fires `update` once the values are set: its listeners see the task as changed.
      await change(task, values, principal, 'Update', await listeners.fire({ ...task, ...values }, {}, principal));
    },

    /**
     * The variables the task sees, as Camunda's task variables: while it is
     * open its own locals over its execution's locals over the instance's;
     * once ended the instance's.
     */
    async variables(id: string, principal: Principal): Promise<Variables> {
      const task = await visibleTask(id, principal);
      const process = await instanceVariables(task);
      if (task.end_time) return process;
      const [row, own] = await Promise.all([findInstance(db, task.process_instance_id), loadTaskLocals(db, execution.vault, task, await sensitiveOf(task))]);
      const locals = row?.engine_state ? readLocals(row.engine_state, task.execution_id) ?? {} : {};
      return { ...process, ...Object.fromEntries(Object.entries(locals).map(([k, v]) => [k, inferType(v)])), ...own };
    },

    async modifyVariables(id: string, modifications: Variables, deletions: string[], principal: Principal): Promise<void> {
      const task = await actionableTask(id, principal);
      const deleted = deletions.filter((n) => !(n in modifications));
      await variableChanges.changeVariables({
        instanceId: task.process_instance_id, definitionId: task.definition_id, sensitive: await sensitiveOf(task),
        modifications, deletions: deleted, actor: principal, fact: taskFact(task, 'ModifyVariables', { set: Object.keys(modifications), deleted }),
      });
    },
    visibleTask,
    openTask,
    actionableTask,
    /**
     * Commits `work`, a change of a dependent of an open task (its own
     * variables, a comment), with what its `update` listeners set, traced as `fact`.
     */
    async commitUpdate(task: TaskRow, principal: Principal, fact: TraceFact, work: (trx: Db) => Promise<void>): Promise<void> {
      await commit(principal, fact, task.end_time ? null : await listeners.fire(task, {}, principal), work);
    },
    /**
     * Commits `work`, a change of an open task's assignee to `assignee` (转办,
     * transfers.ts), with what its assignment and update listeners set,
     * traced as `fact`; the new assignee hears of it in the same transaction,
     * as with set-assignee, unless they did it themselves.
     */
    async commitAssignment(task: TaskRow, assignee: string | null, principal: Principal, fact: TraceFact, work: (trx: Db) => Promise<void>): Promise<void> {
      await commit(principal, fact, await assigning(task, assignee, principal), async (trx) => {
        await work(trx);
        if (assignee) await execution.events.assigned(trx, notifiedTask(task), assignee, principal.userId);
      });
    },

    /** The task's form fields with current values, as Camunda's form-variables. */
    async formVariables(id: string, principal: Principal): Promise<{ fields: FormField[]; variables: Variables }> {
      const task = await openTask(id, principal);
      const [fields, variables] = await Promise.all([formFields(task), instanceVariables(task)]);
      return { fields, variables };
    },
  };
}

/** A task as the notifications see it. */
export function notifiedTask(task: TaskRow): NotifiedTask {
  return {
    id: task.id, name: task.name, definitionId: task.definition_id, taskDefinitionKey: task.task_definition_key, processInstanceId: task.process_instance_id,
    assignee: task.assignee, candidateUsers: task.candidate_users, candidateGroups: task.candidate_groups,
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


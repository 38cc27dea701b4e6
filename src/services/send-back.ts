import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { isMultiInstance, returnableActivities } from '../engine/return-targets.ts';
import { runningProcessScopeElements } from '../engine/running-elements.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { listActivities, type ActivityRow } from '../store/activities.ts';
import { insertComment, listComments } from '../store/comments.ts';
import { findInstance } from '../store/instances.ts';
import { listUrgeIds } from '../store/notifications.ts';
import type { Db } from '../store/db.ts';
import { loadTaskVariables } from '../store/task-variables.ts';
import { findTask, listOpenTasksOfInstance, type TaskRow } from '../store/tasks.ts';
import type { Principal } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import type { InstanceService } from './instances.ts';
import type { Modification } from './modification-request.ts';
import type { ModificationService } from './modification.ts';
import type { NotifyEvents } from './notify-events.ts';
import { notifiedTask, type TaskService } from './tasks.ts';

/*
 * 退回 (send back) and 撤回 (withdraw), built on process instance
 * modification: each cancels what runs now and starts an earlier user task,
 * in one engine run and one transaction, with the person's comment on the
 * receiving task (GET /task/{id}/comment).
 */

const MAX_COMMENT = 4000;

export interface ReturnTarget {
  activityId: string;
  activityName: string | null;
}

function commentOf(raw: unknown, required: boolean): string | null {
  if (raw == null || raw === '') {
    if (required) throw new ValidationError('退回意见必填 / comment is required');
    return null;
  }
  if (typeof raw !== 'string' || !raw.trim() || raw.length > MAX_COMMENT) {
    throw new ValidationError(`意见必须是 1 到 ${MAX_COMMENT} 字符的文本 / comment must be text of 1 to ${MAX_COMMENT} characters`);
  }
  return raw;
}

const modificationOf = (instructions: Modification['instructions']): Modification => ({ instructions, skipCustomListeners: false, skipIoMappings: false, raw: instructions });

/** The user task opened for `activityId` in this transaction's run (the target was not running before, so the open one is new). */
async function receivingTask(trx: Db, instanceId: string, activityId: string): Promise<TaskRow | undefined> {
  return (await listOpenTasksOfInstance(trx, instanceId)).find((t) => t.task_definition_key === activityId);
}

export function makeSendBackService(db: Knex, deps: { definitions: DefinitionService; tasks: TaskService; instances: InstanceService; modification: ModificationService; events: NotifyEvents }) {
  const { definitions, tasks, instances, modification, events } = deps;

  /** Completed user tasks of the instance among those the diagram lets this task return to, first reached first. */
  async function targetsOf(task: TaskRow): Promise<{ targets: ReturnTarget[]; history: ActivityRow[] }> {
    const def = await definitions.load(task.definition_id);
    const reachable = returnableActivities(def.compiledFor(null).compiled, task.task_definition_key);
    const history = await listActivities(db, task.process_instance_id);
    const targets = new Map<string, ReturnTarget>();
    for (const a of history) {
      if (a.end_time && !a.canceled && a.activity_type === 'userTask' && reachable.has(a.activity_id) && !targets.has(a.activity_id)) {
        targets.set(a.activity_id, { activityId: a.activity_id, activityName: a.activity_name });
      }
    }
    return { targets: [...targets.values()], history };
  }

  /** An open task the caller may act on, as completing it requires: 404 unseen, 403 assigned to another. */
  async function actionable(taskId: string, principal: Principal): Promise<TaskRow> {
    const task = await tasks.visibleTask(taskId, principal);
    if (task.end_time) throw new NotFoundError(`任务已结束 / task ${taskId} is no longer open`);
    if (!principal.isAdmin && task.assignee != null && task.assignee !== principal.userId) {
      throw new ForbiddenError(`任务已由 ${task.assignee} 认领 / task ${taskId} is assigned to another user`);
    }
    return task;
  }

  /** Who completed the last instance of `activityId`, to receive it back. */
  async function lastCompleter(history: ActivityRow[], activityId: string): Promise<string | null> {
    const last = history.filter((a) => a.activity_id === activityId && a.end_time && !a.canceled && a.task_id).at(-1);
    return last?.task_id ? (await findTask(db, last.task_id))?.completed_by ?? null : null;
  }

  return {
    async returnTargets(taskId: string, principal: Principal): Promise<ReturnTarget[]> {
      const task = await tasks.visibleTask(taskId, principal);
      if (task.end_time) throw new NotFoundError(`任务已结束 / task ${taskId} is no longer open`);
      return (await targetsOf(task)).targets;
    },

    /** 退回: cancels this task and starts `activityId` again, for whoever completed it last (or as the diagram assigns it). */
    async sendBack(taskId: string, body: { activityId?: unknown; comment?: unknown }, principal: Principal): Promise<void> {
      const task = await actionable(taskId, principal);
      const comment = commentOf(body.comment, true)!;
      if (typeof body.activityId !== 'string' || !body.activityId) throw new ValidationError('activityId 必填 / activityId is required');
      const def = await definitions.load(task.definition_id);
      if (isMultiInstance(def.compiledFor(null).compiled, task.task_definition_key)) {
        throw new ValidationError(`会签/多实例任务不能退回 / task ${taskId} is one instance of a multi-instance task and cannot be sent back`);
      }
      const { targets, history } = await targetsOf(task);
      const target = body.activityId;
      if (!targets.some((x) => x.activityId === target)) {
        throw new ValidationError(`不能退回到 ${target}；可退回：${targets.map((x) => x.activityId).join(', ') || '无'} / cannot send back to ${target}; possible: ${targets.map((x) => x.activityId).join(', ') || 'none'}`);
      }
      const receiver = await lastCompleter(history, target);
      const m = modificationOf([{ type: 'cancel', activityInstanceId: `${task.task_definition_key}:${task.execution_id}` }, { type: 'startBeforeActivity', activityId: target }]);
      await modification.apply([task.process_instance_id], m, {
        actor: principal,
        fact: () => ({ operation: 'Return', entityType: 'Task', entityId: task.id, details: { fromActivityId: task.task_definition_key, toActivityId: target, comment } }),
        // Saved assigned, so the receiver is told it is theirs and the candidates are not offered it.
        assignOpened: receiver ? { [target]: receiver } : undefined,
        afterSave: async (trx) => {
          const received = await receivingTask(trx, task.process_instance_id, target);
          if (!received) return;
          for (const on of [task.id, received.id]) {
            await insertComment(trx, { id: randomUUID(), task_id: on, process_instance_id: task.process_instance_id, user_id: principal.userId, message: `退回 / sent back: ${comment}` });
          }
          await events.sentBack(trx, notifiedTask(received), { userId: principal.userId, fromTaskName: task.name ?? task.task_definition_key, comment });
        },
      });
    },

    /**
     * 撤回: the initiator takes the instance back to its first user task while
     * every open task is untouched (never claimed or reassigned, no comment, no
     * task variables); checked again inside the saving transaction.
     */
    async withdraw(instanceId: string, body: { comment?: unknown }, principal: Principal): Promise<void> {
      const instance = await instances.get(instanceId, principal);
      if (instance.state !== 'ACTIVE') throw new NotFoundError(`流程实例已结束 / process instance ${instanceId} has ended`);
      if (instance.start_user_id !== principal.userId) throw new ForbiddenError('只有发起人可以撤回 / only the initiator may withdraw');
      const comment = commentOf(body.comment, false);
      const history = await listActivities(db, instanceId);
      const first = history.find((a) => a.activity_type === 'userTask');
      const open = await listOpenTasksOfInstance(db, instanceId);
      if (!first || !first.end_time || first.canceled || open.some((t) => t.task_definition_key === first.activity_id)) {
        throw new ConflictError('流程仍在第一步，无需撤回 / the instance is at its first step; nothing to withdraw');
      }
      await assertUntouched(db, open);
      const receiver = await lastCompleter(history, first.activity_id);
      // What runs in the process scope, read from the engine state: a multi-instance activity or a sub-process as one element, as a cancel names it.
      const running = [...new Set(runningProcessScopeElements((await findInstance(db, instanceId))?.engine_state).map((e) => e.activityId))];
      const m = modificationOf([...running.map((activityId) => ({ type: 'cancel' as const, activityId })), { type: 'startBeforeActivity', activityId: first.activity_id }]);
      await modification.apply([instanceId], m, {
        actor: principal,
        fact: () => ({ operation: 'Withdraw', entityType: 'ProcessInstance', entityId: instanceId, details: { toActivityId: first.activity_id, cancelled: running, comment } }),
        assignOpened: receiver === principal.userId ? { [first.activity_id]: principal.userId } : undefined,
        afterSave: async (trx) => {
          await assertUntouched(trx, open.map((t) => ({ ...t, end_time: null })), true);
          // Those the cancelled steps were waiting on hear they need not act (the tasks were untouched, so as opened).
          await events.withdrawn(trx, open.map(notifiedTask), { userId: principal.userId, comment });
          const received = await receivingTask(trx, instanceId, first.activity_id);
          if (!received) return;
          if (comment) await insertComment(trx, { id: randomUUID(), task_id: received.id, process_instance_id: instanceId, user_id: principal.userId, message: `撤回 / withdrawn: ${comment}` });
        },
      });
    },
  };
}

/** 409 unless every task is as the diagram opened it; `reread` reads the rows again (inside the saving transaction). */
async function assertUntouched(db: Db, open: TaskRow[], reread = false): Promise<void> {
  for (const t of open) {
    const row = reread ? await findTask(db, t.id) : t;
    const touched = !row || row.last_updated != null || row.owner != null
      || (await actedComments(db, t.id)).length > 0 || (await loadTaskVariables(db, t.id)).length > 0;
    if (touched) {
      throw new ConflictError(`下一步「${t.name ?? t.task_definition_key}」已被认领或处理，不能撤回 / the next step ${t.task_definition_key} has been claimed or acted on; it can no longer be withdrawn`);
    }
  }
}

/** The task's comments but its urges (催办): chasing a step does not act on it, so the initiator's own urge leaves it withdrawable. */
async function actedComments(db: Db, taskId: string) {
  const urges = await listUrgeIds(db, taskId);
  return (await listComments(db, taskId)).filter((c) => !urges.has(c.id));
}

export type SendBackService = ReturnType<typeof makeSendBackService>;

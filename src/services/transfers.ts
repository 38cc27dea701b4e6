import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { insertComment } from '../store/comments.ts';
import { findTask, updateOpenTask, type TaskRow } from '../store/tasks.ts';
import type { Principal } from '../types.ts';
import { existingUser, isOfficeOrAdmin, optionalComment, rolesOf } from './approval-rights.ts';
import { canSee, taskFact, type TaskService } from './tasks.ts';
import { assertOneVote, listOpenSiblings } from './signers.ts';
import { assertActive } from './suspension.ts';

/*
 * 转办 (transfer, docs/instance-operations.md): a task handed to a colleague
 * who then owns it outright. Unlike Camunda's delegate, which sets an owner
 * it returns to (delegationState PENDING), the new person becomes the
 * assignee and the owner and delegation are cleared.
 */

/** 转办: POST /task/{id}/transfer. */
export function makeTransferService(db: Knex, tasks: TaskService) {
  /**
   * The open task the caller may hand on: the office and administrators any;
   * otherwise its assignee, or a candidate while it is unassigned. One who
   * may not see the task gets 404, as for any task outside their roles.
   */
  async function transferableTask(id: string, principal: Principal): Promise<TaskRow> {
    const task = await findTask(db, id);
    const office = isOfficeOrAdmin(principal);
    if (!task || (!office && !canSee(task, principal))) throw new NotFoundError(`任务不存在 / no task with id ${id}`);
    if (task.end_time) throw new NotFoundError(`任务已结束 / task ${id} is no longer open`);
    if (!office && task.assignee != null && task.assignee !== principal.userId) {
      throw new ForbiddenError(`只有任务办理人可以转办 / only the assignee of task ${id} may transfer it`);
    }
    return task;
  }

  /**
   * The new person must be one who may see the task: a candidate user, a
   * member of a candidate group, or, for a task offered to nobody (assigned
   * by name), a member of a role the current assignee has.
   */
  async function assertTransferee(task: TaskRow, userId: unknown, principal: Principal): Promise<string> {
    const user = await existingUser(db, userId, '转办 / transfer the task', task.assignee ?? principal.userId);
    const offered = task.candidate_users.length || task.candidate_groups.length;
    let allowed: boolean;
    if (offered) {
      allowed = task.candidate_users.includes(user.id) || task.candidate_groups.some((g) => user.groups.includes(g));
    } else {
      const assignee = task.assignee ? await existingUser(db, task.assignee, '转办 / transfer the task').catch(() => null) : null;
      const roles = rolesOf(assignee?.groups ?? []);
      allowed = roles.some((r) => user.groups.includes(r));
    }
    if (!allowed) {
      throw new ValidationError(`不能转办给 ${user.id}：该用户不在可办理此任务的角色中 / cannot transfer task ${task.id} to user ${user.id}: they are not in a role that may see it`);
    }
    // One person, one vote: a 会签 instance never goes to someone holding another (as 加签 refuses).
    if ((await listOpenSiblings(db, task)).some((t) => t.id !== task.id && t.assignee === user.id)) {
      throw new ValidationError(`不能转办给 ${user.id}：该用户已有此任务未完成的签核 / cannot transfer task ${task.id} to user ${user.id}: they already have an unfinished instance of this task`);
    }
    return user.id;
  }

  return {
    async transfer(id: string, body: { userId?: unknown; comment?: unknown }, principal: Principal): Promise<void> {
      const task = await transferableTask(id, principal);
      const comment = optionalComment(body.comment);
      const to = await assertTransferee(task, body.userId, principal);
      const fact = taskFact(task, 'Transfer', { from: task.assignee, to, ...(comment ? { comment } : {}) });
      await tasks.commitAssignment(task, to, principal, fact, async (trx) => {
        await assertActive(trx, task.process_instance_id, 'task', task.id);
        await assertOneVote(trx, task, to, task.id);
        if (!(await updateOpenTask(trx, task.id, task.assignee, { assignee: to, owner: null, delegation_state: null }, principal.userId))) {
          throw new ConflictError(`任务已变化，请刷新 / task ${id} changed concurrently; reload it`);
        }
        if (comment) await insertComment(trx, { id: randomUUID(), task_id: task.id, process_instance_id: task.process_instance_id, user_id: principal.userId, message: comment });
      });
    },
  };
}

export type TransferService = ReturnType<typeof makeTransferService>;

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { insertComment } from '../store/comments.ts';
import { findInstance } from '../store/instances.ts';
import { markSignerRemoved } from '../store/signers.ts';
import { findTask, listOpenTasksOfInstance, lockOpenTasksOfInstance, type TaskRow } from '../store/tasks.ts';
import type { Db } from '../store/db.ts';
import type { Principal } from '../types.ts';
import { existingUser, isOfficeOrAdmin, optionalComment, rolesOf } from './approval-rights.ts';
import type { Execution } from './execution.ts';
import { canSee, taskFact } from './tasks.ts';
import { findUserWithGroups } from '../store/identity.ts';
import type { SignalAction } from '../engine/runner.ts';
import { describeLoop } from '../engine/multi-instance.ts';
import type { DefinitionService } from './definitions.ts';

/*
 * 加签 / 减签 (add / remove a signer, docs/instance-operations.md) on a
 * running parallel multi-instance user task (会签, 或签, 票签): one instance
 * more for a person, or a person's unfinished instance taken out, through
 * the engine (multi-instance.ts), saved with its tasks and history in one
 * transaction like any other step.
 */

/** The body execution of a multi-instance instance `<body>_<index>`, or null when the execution is not one. */
function bodyOf(executionId: string): string | null {
  const m = /^(.*)_\d+$/.exec(executionId);
  return m ? m[1]! : null;
}

/**
 * The open instances of `task`'s multi-instance body, `task` among them
 * (just `task` when it is not an instance of one): who holds one of these
 * already has their say in it, so neither 加签 nor 转办 may give them another.
 */
export async function listOpenSiblings(db: Db, task: TaskRow): Promise<TaskRow[]> {
  const body = bodyOf(task.execution_id);
  if (body == null) return [task];
  return (await listOpenTasksOfInstance(db, task.process_instance_id))
    .filter((t) => t.task_definition_key === task.task_definition_key && bodyOf(t.execution_id) === body);
}

/**
 * One person, one vote, checked where it counts: in the transaction that
 * gives `userId` the instance `own` of `task`'s multi-instance, with the
 * instance's open tasks locked. Two transfers (or a transfer and a 加签) to
 * the same person run one after the other here, and the second sees the
 * first's committed assignee: 400, nothing saved. The check before the
 * transaction only answers early.
 */
export async function assertOneVote(trx: Db, task: TaskRow, userId: string, own: string): Promise<void> {
  const body = bodyOf(task.execution_id);
  if (body == null) return;
  const open = await lockOpenTasksOfInstance(trx, task.process_instance_id);
  if (open.some((t) => t.id !== own && t.task_definition_key === task.task_definition_key && bodyOf(t.execution_id) === body && t.assignee === userId)) {
    throw new ValidationError(`${userId} 已有此任务未完成的签核 / ${userId} already has an unfinished instance of this task`);
  }
}

/** 加签 POST /task/{id}/signers and 减签 DELETE /task/{id}/signers/{userId}. */
export function makeSignerService(db: Knex, definitions: DefinitionService, execution: Execution) {
  /** Refuses (400) a task that is not an instance of a parallel multi-instance over a collection: nothing else can be done exactly. */
  async function assertParallel(task: TaskRow): Promise<void> {
    const loop = describeLoop((await definitions.load(task.definition_id)).compiled, task.task_definition_key);
    if (!loop) throw new ValidationError(`任务 ${task.id} 不是多实例任务，不能加签或减签 / task ${task.id} is not multi-instance: signers can only be added to or removed from a multi-instance task`);
    if (loop.isSequential) throw new ValidationError(`任务 ${task.id} 是顺序多实例，暂不支持加签或减签 / task ${task.id} is a sequential multi-instance: adding or removing signers is only supported for parallel ones`);
    if (!loop.hasCollection) throw new ValidationError(`任务 ${task.id} 的多实例没有 camunda:collection，无法为某人加签 / task ${task.id}'s multi-instance has no camunda:collection: there is no element variable to give a signer`);
  }

  /**
   * Task `id` and its siblings (the open instances of the same
   * multi-instance body), for one who may change its signers: the office,
   * administrators, the instance's initiator. Others get 403, or 404 when
   * they may not even see the task.
   */
  async function signerContext(id: string, principal: Principal): Promise<{ task: TaskRow; open: TaskRow[] }> {
    const task = await findTask(db, id);
    if (!task) throw new NotFoundError(`任务不存在 / no task with id ${id}`);
    const instance = await findInstance(db, task.process_instance_id);
    if (!isOfficeOrAdmin(principal) && instance?.start_user_id !== principal.userId) {
      if (!canSee(task, principal)) throw new NotFoundError(`任务不存在 / no task with id ${id}`);
      throw new ForbiddenError('只有发起人、办公室或管理员可以加签或减签 / only the initiator, the office or administrators may add or remove signers');
    }
    if (task.end_time || instance?.state !== 'ACTIVE') throw new NotFoundError(`任务已结束 / task ${id} is no longer open`);
    await assertParallel(task);
    return { task, open: await listOpenSiblings(db, task) };
  }

  /** Runs `action` on `target`'s instance through the engine and saves it, with `afterSave` in its transaction. */
  async function run(target: TaskRow, action: SignalAction, principal: Principal, fact: ReturnType<typeof taskFact>, afterSave: (trx: Db) => Promise<void>) {
    await execution.advance(
      { instanceId: target.process_instance_id, definitionId: target.definition_id, activityId: target.task_definition_key, executionId: target.execution_id },
      { variables: {}, by: principal.userId, action, stillOpen: async () => !(await findTask(db, target.id))?.end_time, afterSave, actor: principal, fact },
    );
  }

  return {
    /** 加签: one more instance for `userId`; returns its task's id. */
    async add(id: string, body: { userId?: unknown; comment?: unknown }, principal: Principal): Promise<{ id: string }> {
      const { task, open } = await signerContext(id, principal);
      const comment = optionalComment(body.comment);
      const user = await existingUser(db, body.userId, '加签 / add the signer');
      if (open.some((t) => t.assignee === user.id)) {
        throw new ValidationError(`${user.id} 已是此任务的签核人 / ${user.id} already has an unfinished instance of this task`);
      }
      // The new signer must be one who could have been offered it: of a role its signers have, or among its candidates.
      const signerRoles = new Set<string>();
      for (const t of open) for (const r of rolesOf((t.assignee ? await findUserWithGroups(db, t.assignee) : undefined)?.groups ?? [])) signerRoles.add(r);
      const fits = rolesOf(user.groups).some((r) => signerRoles.has(r) || task.candidate_groups.includes(r)) || task.candidate_users.includes(user.id);
      if (!fits) throw new ValidationError(`不能加签 ${user.id}：该用户不在签核人的角色中 / cannot add ${user.id}: they are not in a role of this task's signers`);
      let added: string | null = null;
      await run(task, { kind: 'addInstance', element: user.id }, principal, taskFact(task, 'AddSigner', { userId: user.id, ...(comment ? { comment } : {}) }), async (trx) => {
        const before = new Set(open.map((t) => t.id));
        const fresh = (await listOpenTasksOfInstance(trx, task.process_instance_id)).find((t) => t.task_definition_key === task.task_definition_key && !before.has(t.id));
        if (!fresh) throw new ConflictError(`加签未产生新任务，请刷新 / adding the signer opened no task; reload and retry`);
        await assertOneVote(trx, task, user.id, fresh.id);
        added = fresh.id;
        if (comment) await insertComment(trx, { id: randomUUID(), task_id: fresh.id, process_instance_id: fresh.process_instance_id, user_id: principal.userId, message: comment });
      });
      return { id: added! };
    },

    /** 减签: `userId`'s unfinished instance removed; never the last one (409). */
    async remove(id: string, userId: string, principal: Principal): Promise<void> {
      const { open } = await signerContext(id, principal);
      const target = open.find((t) => t.assignee === userId);
      if (!target) throw new NotFoundError(`${userId} 没有未完成的签核任务 / ${userId} has no unfinished instance of this task`);
      if (open.length <= 1) {
        throw new ConflictError(`不能移除最后一位未完成的签核人 ${userId} / cannot remove ${userId}: they are the last unfinished signer`);
      }
      await run(target, { kind: 'removeInstance' }, principal, taskFact(target, 'RemoveSigner', { userId }), async (trx) => {
        await markSignerRemoved(trx, target.id);
      });
    },
  };
}

export type SignerService = ReturnType<typeof makeSignerService>;

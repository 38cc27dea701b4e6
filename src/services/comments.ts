import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { deleteComments, findComment, insertComment, listComments, listCommentsOfInstance, updateCommentMessage, type CommentRow } from '../store/comments.ts';
import type { Db } from '../store/db.ts';
import type { Principal } from '../types.ts';
import type { InstanceService } from './instances.ts';
import { taskFact, type TaskService } from './tasks.ts';
import type { TraceFact, TraceService } from './trace.ts';

const MAX_LENGTH = 4000;

function checkMessage(message: unknown): string {
  if (typeof message !== 'string' || !message.trim() || message.length > MAX_LENGTH) {
    throw new ValidationError(`意见内容必须是 1 到 ${MAX_LENGTH} 字符的文本 / message must be text of 1 to ${MAX_LENGTH} characters`);
  }
  return message;
}

/** What a trace row keeps of a comment changed or deleted: who wrote what, so the record of the discussion survives the change. */
const kept = (c: CommentRow) => ({ commentId: c.id, author: c.user_id, taskId: c.task_id, message: c.message });

/**
 * Comments on tasks (and through them on instances): anyone who may see the
 * task (or the instance) may read and add them. Editing or deleting one is
 * for its author and administrators (Camunda asks only for the right to
 * update the task: in an approval, one participant must not rewrite or
 * remove another's opinion); deleting them all is for administrators.
 * Every edit and deletion is traced with the words it replaced; only
 * while the task (or instance) runs, as in Camunda.
 */
export function makeCommentService(db: Knex, tasks: TaskService, trace: TraceService, instances: InstanceService) {
  /** The comment `commentId` of `scope`; 400 as Camunda answers an invalid comment id of a change. */
  async function commentOf(commentId: unknown, scope: { taskId?: string; instanceId?: string }): Promise<CommentRow> {
    if (typeof commentId !== 'string' || !commentId) throw new ValidationError('请求体需要意见 id / body must contain the comment id');
    const c = await findComment(db, commentId);
    if (!c || (scope.taskId != null && c.task_id !== scope.taskId) || (scope.instanceId != null && c.process_instance_id !== scope.instanceId)) {
      throw new ValidationError(`意见不存在 / no comment ${commentId} of ${scope.taskId ? `task ${scope.taskId}` : `process instance ${scope.instanceId}`}`);
    }
    return c;
  }
  const assertAuthor = (c: CommentRow, principal: Principal) => {
    if (!principal.isAdmin && c.user_id !== principal.userId) throw new ForbiddenError(`只有意见作者或管理员可以修改或删除意见 / only the author of comment ${c.id} or an administrator may change or delete it`);
  };
  const assertAdmin = (principal: Principal) => {
    if (!principal.isAdmin) throw new ForbiddenError('只有管理员可以删除全部意见 / only administrators may delete all comments');
  };
  const edit = async (trx: Db, c: CommentRow, message: string) => {
    if (!(await updateCommentMessage(trx, c.id, c.message, message))) throw new ConflictError(`意见已变化，请刷新 / comment ${c.id} changed concurrently; reload it`);
  };
  const remove = async (trx: Db, found: CommentRow[]) => {
    const gone = await deleteComments(trx, found.map((c) => c.id));
    if (gone.length !== found.length) throw new ConflictError('意见已变化，请刷新 / the comments changed concurrently; reload them');
  };
  /** Camunda changes comments of running tasks and instances only: once finished, what was said is the record. */
  const changeableTask = async (taskId: string, principal: Principal) => {
    const task = await tasks.visibleTask(taskId, principal);
    if (task.end_time) throw new ValidationError(`任务已结束，意见不能再修改 / task ${taskId} has ended: its comments can no longer be changed`);
    return task;
  };
  const changeableInstance = async (instanceId: string, principal: Principal) => {
    const instance = await instances.get(instanceId, principal);
    if (instance.state !== 'ACTIVE') throw new ValidationError(`流程实例已结束，意见不能再修改 / process instance ${instanceId} has ended: its comments can no longer be changed`);
  };
  const instanceFact = (instanceId: string, operation: string, details: Record<string, unknown>): TraceFact => ({ operation, entityType: 'ProcessInstance', entityId: instanceId, processInstanceId: instanceId, details });

  return {
    async list(taskId: string, principal: Principal): Promise<CommentRow[]> {
      await tasks.visibleTask(taskId, principal);
      return listComments(db, taskId);
    },
    async get(taskId: string, commentId: string, principal: Principal): Promise<CommentRow> {
      await tasks.visibleTask(taskId, principal);
      const c = await findComment(db, commentId);
      if (!c || c.task_id !== taskId) throw new NotFoundError(`意见不存在 / task ${taskId} has no comment ${commentId}`);
      return c;
    },
    async add(taskId: string, message: unknown, principal: Principal): Promise<CommentRow> {
      checkMessage(message);
      const task = await tasks.visibleTask(taskId, principal);
      const id = randomUUID();
      let row: CommentRow | undefined;
      // A comment on an open task is a change of it: its `update` listeners run in the comment's transaction.
      await tasks.commitUpdate(task, principal, taskFact(task, 'AddComment', { commentId: id }), async (trx) => {
        row = await insertComment(trx, { id, task_id: task.id, process_instance_id: task.process_instance_id, user_id: principal.userId, message: message as string });
      });
      return row!;
    },
    /** Camunda's PUT /task/{id}/comment: body `{ id, message }`. */
    async update(taskId: string, body: Record<string, unknown>, principal: Principal): Promise<void> {
      const message = checkMessage(body.message);
      const task = await changeableTask(taskId, principal);
      const c = await commentOf(body.id, { taskId });
      assertAuthor(c, principal);
      await tasks.commitUpdate(task, principal, taskFact(task, 'UpdateComment', { ...kept(c), previousMessage: c.message, message }), (trx) => edit(trx, c, message));
    },
    /** One comment (`commentId`), or all of the task's (none given: administrators only). */
    async remove(taskId: string, commentId: string | null, principal: Principal): Promise<void> {
      const task = await changeableTask(taskId, principal);
      let found: CommentRow[];
      if (commentId == null) {
        assertAdmin(principal);
        found = await listComments(db, taskId);
      } else {
        found = [await commentOf(commentId, { taskId })];
        assertAuthor(found[0], principal);
      }
      if (!found.length) return;
      await tasks.commitUpdate(task, principal, taskFact(task, 'DeleteComment', { deleted: found.map(kept) }), (trx) => remove(trx, found));
    },

    async listOfInstance(instanceId: string, principal: Principal): Promise<CommentRow[]> {
      await instances.get(instanceId, principal);
      return listCommentsOfInstance(db, instanceId);
    },
    /** Camunda's PUT /process-instance/{id}/comment: any comment of the instance, its tasks' included. */
    async updateOfInstance(instanceId: string, body: Record<string, unknown>, principal: Principal): Promise<void> {
      const message = checkMessage(body.message);
      await changeableInstance(instanceId, principal);
      const c = await commentOf(body.id, { instanceId });
      assertAuthor(c, principal);
      await db.transaction(async (trx) => {
        await edit(trx, c, message);
        await trace.record(trx, principal, instanceFact(instanceId, 'UpdateComment', { ...kept(c), previousMessage: c.message, message }));
      });
    },
    async removeOfInstance(instanceId: string, commentId: string | null, principal: Principal): Promise<void> {
      await changeableInstance(instanceId, principal);
      let found: CommentRow[];
      if (commentId == null) {
        assertAdmin(principal);
        found = await listCommentsOfInstance(db, instanceId);
      } else {
        found = [await commentOf(commentId, { instanceId })];
        assertAuthor(found[0], principal);
      }
      if (!found.length) return;
      await db.transaction(async (trx) => {
        await remove(trx, found);
        await trace.record(trx, principal, instanceFact(instanceId, 'DeleteComment', { deleted: found.map(kept) }));
      });
    },
  };
}

export type CommentService = ReturnType<typeof makeCommentService>;

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ValidationError } from '../errors.ts';
import { insertComment, listComments, type CommentRow } from '../store/comments.ts';
import type { Principal } from '../types.ts';
import { taskFact, type TaskService } from './tasks.ts';
import type { TraceService } from './trace.ts';

const MAX_LENGTH = 4000;

/** Comments on tasks: anyone who may see the task may read and add them. */
export function makeCommentService(db: Knex, tasks: TaskService, trace: TraceService) {
  return {
    async list(taskId: string, principal: Principal): Promise<CommentRow[]> {
      await tasks.visibleTask(taskId, principal);
      return listComments(db, taskId);
    },
    async add(taskId: string, message: unknown, principal: Principal): Promise<CommentRow> {
      if (typeof message !== 'string' || !message.trim() || message.length > MAX_LENGTH) {
        throw new ValidationError(`意见内容必须是 1 到 ${MAX_LENGTH} 字符的文本 / message must be text of 1 to ${MAX_LENGTH} characters`);
      }
      const task = await tasks.visibleTask(taskId, principal);
      const id = randomUUID();
      let row: CommentRow | undefined;
      // A comment on an open task is a change of it: its `update` listeners run in the comment's transaction.
      await tasks.commitUpdate(task, principal, taskFact(task, 'AddComment', { commentId: id }), async (trx) => {
        row = await insertComment(trx, { id, task_id: task.id, process_instance_id: task.process_instance_id, user_id: principal.userId, message });
      });
      return row!;
    },
  };
}

export type CommentService = ReturnType<typeof makeCommentService>;

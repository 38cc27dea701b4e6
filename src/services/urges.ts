import { assertActive } from './suspension.ts';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { ForbiddenError, NotFoundError, RateLimitedError, ValidationError } from '../errors.ts';
import { insertComment } from '../store/comments.ts';
import { findInstance } from '../store/instances.ts';
import { insertUrge, lastUrgedAt } from '../store/notifications.ts';
import { findTask, lockOpenTask } from '../store/tasks.ts';
import type { Principal } from '../types.ts';
import type { NotifyEvents } from './notify-events.ts';
import { canSee, notifiedTask, taskFact } from './tasks.ts';
import type { TraceService } from './trace.ts';

/** A task is urged at most once in this span (by the server's clock). */
export const URGE_INTERVAL_MS = 3600_000;
const MAX_LENGTH = 1000;
/** The role that chases late steps besides the initiator (领导小组办公室). */
const URGING_GROUP = 'office';

/**
 * 催办 (urge): the initiator of an instance, the office or an administrator
 * chases an open task. Its assignee, or its candidates while unassigned, are
 * notified with the message; the urge is a comment on the task ("催办 / Urge:
 * …", so it shows in its comments and history), traced as `Urge`, and
 * refused with 429 within the hour after the last one.
 */
export function makeUrgeService(db: Knex, clock: Clock, trace: TraceService, events: NotifyEvents) {
  return {
    async urge(taskId: string, message: unknown, principal: Principal): Promise<{ notified: number }> {
      if (typeof message !== 'string' || !message.trim() || message.length > MAX_LENGTH) {
        throw new ValidationError(`催办内容 message 必须是 1 到 ${MAX_LENGTH} 字符的文本 / message must be text of 1 to ${MAX_LENGTH} characters`);
      }
      const task = await findTask(db, taskId);
      const instance = task && await findInstance(db, task.process_instance_id);
      const mayUrge = !!task && (principal.isAdmin || principal.groups.includes(URGING_GROUP) || instance?.start_user_id === principal.userId);
      if (!task || (!mayUrge && !canSee(task, principal))) throw new NotFoundError(`任务不存在 / no task with id ${taskId}`);
      if (!mayUrge) throw new ForbiddenError(`只有发起人或办公室可以催办 / only the initiator or the office may urge task ${taskId}`);
      return db.transaction(async (trx) => {
        // The lock makes two urges at once take turns, so the second sees the first;
        // the task is read again under it, so a transfer committed meanwhile urges its new assignee.
        const locked = await lockOpenTask(trx, taskId) ? await findTask(trx, taskId) : undefined;
        if (!locked) throw new NotFoundError(`任务已结束 / task ${taskId} is no longer open`);
        // Nobody can act on a suspended instance's task: chasing it would ask for the impossible.
        await assertActive(trx, locked.process_instance_id, 'task', taskId);
        const now = await clock.now(trx);
        const last = await lastUrgedAt(trx, taskId);
        if (last && now.getTime() - last.getTime() < URGE_INTERVAL_MS) {
          const wait = Math.ceil((last.getTime() + URGE_INTERVAL_MS - now.getTime()) / 1000);
          throw new RateLimitedError(`任务 ${taskId} 一小时内只能催办一次，请 ${Math.ceil(wait / 60)} 分钟后再试 / task ${taskId} was urged less than an hour ago; try again in ${wait} s`, wait);
        }
        const id = randomUUID();
        const text = message.trim();
        await insertUrge(trx, { id, task_id: taskId, process_instance_id: locked.process_instance_id, user_id: principal.userId, message: text, urged_at: now });
        await insertComment(trx, { id, task_id: taskId, process_instance_id: locked.process_instance_id, user_id: principal.userId, message: `催办 / Urge: ${text}` });
        const notified = await events.urged(trx, notifiedTask(locked), { id, by: principal.userId, message: text });
        await trace.record(trx, principal, taskFact(locked, 'Urge', { urgeId: id, notified }));
        return { notified };
      });
    },
  };
}

export type UrgeService = ReturnType<typeof makeUrgeService>;

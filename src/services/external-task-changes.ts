import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.ts';
import {
  distinctTopicNames, findExternalTask, lockExternalTask, lockOpenExternalTask, lockOpenExternalTasksOf, updateExternalTask,
} from '../store/external-tasks.ts';
import type { TopicNotifier } from '../store/notify.ts';
import type { Principal } from '../types.ts';
import { assertWorker, externalFact, refusal, retryTask } from './external-tasks.ts';
import { assertAdmin } from './instances.ts';
import type { TraceService } from './trace.ts';

/** What `PUT /external-task/retries` names: tasks by id and the open tasks of instances. */
export interface RetriesRequest {
  externalTaskIds: string[];
  processInstanceIds: string[];
  retries: number;
}

/**
 * The external-task endpoints beside a worker's own cycle: lock one task by
 * id, the topic names, a failure's details, and an administrator's priority
 * and retries (one task, or many in one transaction).
 */
export function makeExternalTaskChangeService(db: Knex, notifier: TopicNotifier, trace: TraceService) {
  const notFound = (id: string) => new NotFoundError(`外部任务不存在 / External task with id ${id} does not exist`);
  return {
    /**
     * Camunda's LockExternalTaskCmd: locks the task for `workerId` from now,
     * whether it was free, its lock expired, or the same worker holds it (a
     * new lock from now); a live lock of another worker is a 400. Here a
     * worker name is also tied to the account that took the lock, as for
     * complete and failure, so another account's live lock is refused too.
     */
    async lock(id: string, req: { workerId: string; lockDuration: number }, principal: Principal): Promise<void> {
      assertWorker(principal);
      await db.transaction(async (trx) => {
        const task = await lockOpenExternalTask(trx, id);
        if (!task) throw notFound(id);
        const mine = task.worker_id === req.workerId && (task.lock_user_id === principal.userId || principal.isAdmin);
        if (task.lock_live && !mine) {
          throw refusal(task, 'lock', `执行程序 ${req.workerId}（用户 ${principal.userId}）`, `worker '${req.workerId}'`, task.worker_id === req.workerId ? null : req.workerId);
        }
        await lockExternalTask(trx, id, { workerId: req.workerId, userId: principal.userId, lockDurationMs: req.lockDuration });
        await trace.record(trx, principal, externalFact(task, 'Lock', { workerId: req.workerId, lockDuration: req.lockDuration }));
      });
    },

    async topicNames(flags: { locked: boolean; unlocked: boolean; withRetriesLeft: boolean }, principal: Principal): Promise<string[]> {
      assertWorker(principal);
      return distinctTopicNames(db, flags);
    },

    /** The details a worker's last failure reported (null when none). */
    async errorDetails(id: string, principal: Principal): Promise<{ details: string | null; processInstanceId: string }> {
      assertWorker(principal);
      const task = await findExternalTask(db, id);
      if (!task || task.end_time) throw notFound(id);
      return { details: task.error_details, processInstanceId: task.process_instance_id };
    },

    /** Sets the priority workers fetching with usePriority see; its topic's workers are told. */
    async setPriority(id: string, priority: number, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        const task = await lockOpenExternalTask(trx, id);
        if (!task) throw notFound(id);
        await updateExternalTask(trx, id, { priority });
        await notifier.announce(trx, [task.topic]);
        await trace.record(trx, principal, externalFact(task, 'SetPriority', { priority }));
      });
    },

    /**
     * Camunda's synchronous `setRetries` of many tasks: all named tasks (an
     * id not open is a 404) and the open tasks of the named instances, in one
     * transaction; none at all is Camunda's 400 "externalTaskIds is empty".
     */
    async setRetriesOf(req: RetriesRequest, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx: Knex.Transaction) => {
        const tasks = await lockOpenExternalTasksOf(trx, req.externalTaskIds, req.processInstanceIds);
        const found = new Set(tasks.map((t) => t.id));
        const missing = req.externalTaskIds.find((x) => !found.has(x));
        if (missing) throw notFound(missing);
        if (!tasks.length) throw new ValidationError('没有符合条件的外部任务 / externalTaskIds is empty');
        for (const task of tasks) await retryTask(trx, notifier, task, req.retries);
        await trace.record(trx, principal, tasks.map((task) => externalFact(task, 'SetRetries', { retries: req.retries, bulk: true })));
      });
    },
  };
}

export type ExternalTaskChangeService = ReturnType<typeof makeExternalTaskChangeService>;

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { logExternalTasks } from '../store/external-task-log.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import {
  countExternalTasks, findExternalTask, findLockedBy, lockExternalTasks, queryExternalTasks, updateExternalTask, updateLockedTask, type ExternalTaskQuery,
  type ExternalTaskRow,
} from '../store/external-tasks.ts';
import { insertIncident, resolveIncidents } from '../store/incidents.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { ADMIN_GROUP, WORKERS_GROUP, type Principal, type Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import type { Execution } from './execution.ts';
import { iterationVariables } from './iteration-variables.ts';
import type { TraceFact, TraceService } from './trace.ts';
import { assertActive } from './suspension.ts';

/** The longest a fetch may be held open, as a bound on asyncResponseTimeout. */
const MAX_LONG_POLL_MS = 30 * 60_000;

export interface TopicRequest {
  topicName: string;
  lockDuration: number;
  variables?: string[] | null | undefined;
  businessKey?: string | undefined;
  processDefinitionKey?: string | undefined;
}

export interface FetchRequest {
  workerId: string;
  maxTasks: number;
  usePriority: boolean;
  asyncResponseTimeout: number;
  topics: TopicRequest[];
}

export type LockedTask = ExternalTaskRow & { variables: Variables };

/** External tasks: fetch-and-lock with long polling, complete, failure, BPMN error, locks and retries. */
export function makeExternalTaskService(db: Knex, definitions: DefinitionService, execution: Execution, notifier: TopicNotifier, trace: TraceService) {
  /**
   * Locks what is available now, topic by topic, up to maxTasks; the locks
   * and their trace rows commit together. Variables are read (and opened,
   * when sealed) after the commit: loading a definition inside the
   * transaction would need a second connection, which PGlite does not have.
   */
  async function lockAvailable(req: FetchRequest, principal: Principal): Promise<LockedTask[]> {
    const rows = await db.transaction(async (trx) => {
      const picked: { row: ExternalTaskRow; names: string[] | null }[] = [];
      for (const topic of req.topics) {
        const limit = req.maxTasks - picked.length;
        if (limit <= 0) break;
        const locked = await lockExternalTasks(trx, {
          workerId: req.workerId, userId: principal.userId, topic: topic.topicName, lockDurationMs: topic.lockDuration, limit, usePriority: req.usePriority,
          businessKey: topic.businessKey, processDefinitionKey: topic.processDefinitionKey,
        });
        picked.push(...locked.map((row) => ({ row, names: topic.variables ?? null })));
      }
      await trace.record(trx, principal, picked.map(({ row, names }) => externalFact(row, 'Fetch', { workerId: req.workerId, variables: names ?? 'all' })));
      return picked;
    });
    const result: LockedTask[] = [];
    for (const { row, names } of rows) {
      const definition = await definitions.load(row.definition_id);
      // An instance of a multi-instance activity also has its own variables, read before the process's.
      const locals = definition.compiled.includes('MultiInstanceLoopCharacteristics') ? await iterationVariables(db, row) : {};
      const all = { ...await execution.vault.load(db, row.process_instance_id, definition.sensitive), ...locals };
      const wanted = names == null ? all : Object.fromEntries(Object.entries(all).filter(([k]) => names.includes(k)));
      result.push({ ...row, variables: wanted });
    }
    return result;
  }

  /**
   * A task `workerId` holds a live lock on, taken by the same account as the
   * caller's (administrators may act for any account); otherwise a 400 in
   * Camunda's words, e.g. "External Task … cannot be completed by worker …".
   */
  async function lockedBy(id: string, workerId: unknown, principal: Principal, action: LockAction): Promise<ExternalTaskRow> {
    if (typeof workerId !== 'string' || !workerId) throw new ValidationError('需要 workerId / workerId is required');
    const row = await findLockedBy(db, id, workerId);
    if (row && (row.lock_user_id === principal.userId || principal.isAdmin)) {
      // Camunda's ExternalTaskEntity.ensureActive: complete, failure, bpmnError and extendLock.
      await assertActive(db, row.process_instance_id, 'ExternalTask', id);
      return row;
    }
    const task = row ?? (await findExternalTask(db, id));
    if (!task || task.end_time) throw new NotFoundError(`外部任务不存在 / no open external task ${id}`);
    throw refusal(task, action, `执行程序 ${workerId}（用户 ${principal.userId}）`, `worker '${workerId}' of user '${principal.userId}'`, row ? null : workerId);
  }

  /** Refuses the caller when an account other than theirs holds a live lock on the task. */
  async function assertMayUnlock(trx: Knex.Transaction, task: ExternalTaskRow, principal: Principal): Promise<void> {
    if (principal.isAdmin || task.lock_user_id === principal.userId || !(task.worker_id && (await findLockedBy(trx, task.id, task.worker_id)))) return;
    throw refusal(task, 'unlock', `用户 ${principal.userId}`, `user '${principal.userId}'`, null);
  }

  return {
    /**
     * Locks tasks for a worker. With asyncResponseTimeout, waits (without
     * polling the database) until tasks of its topics appear or time is up.
     */
    async fetchAndLock(req: FetchRequest, principal: Principal, abort?: AbortSignal): Promise<LockedTask[]> {
      assertWorker(principal);
      const deadline = Date.now() + Math.min(req.asyncResponseTimeout, MAX_LONG_POLL_MS);
      const topics = req.topics.map((t) => t.topicName);
      for (;;) {
        // Listen before looking, so a task created in between is not missed.
        const stop = new AbortController();
        const onAbort = () => stop.abort();
        abort?.addEventListener('abort', onAbort, { once: true });
        const announced = notifier.waitFor(topics, deadline - Date.now(), stop.signal);
        try {
          const locked = await lockAvailable(req, principal);
          if (locked.length || Date.now() >= deadline || abort?.aborted) return locked;
          await announced;
        } finally {
          stop.abort();
          abort?.removeEventListener('abort', onAbort);
        }
        if (Date.now() >= deadline || abort?.aborted) return [];
      }
    },

    async complete(id: string, body: { workerId: unknown; variables: Variables }, principal: Principal): Promise<void> {
      assertWorker(principal);
      const task = await lockedBy(id, body.workerId, principal, 'complete');
      await execution.advance(
        { instanceId: task.process_instance_id, definitionId: task.definition_id, activityId: task.activity_id, executionId: task.execution_id },
        {
          variables: body.variables, by: String(body.workerId), stillOpen: async () => !(await findExternalTask(db, id))?.end_time,
          actor: principal, fact: externalFact(task, 'Complete', { workerId: body.workerId, variables: Object.keys(body.variables) }),
        },
      );
    },

    /** The worker throws a BPMN error; a boundary error event with the same code takes over. */
    async bpmnError(id: string, body: { workerId: unknown; errorCode: string; errorMessage: string | null; variables: Variables }, principal: Principal): Promise<void> {
      assertWorker(principal);
      const task = await lockedBy(id, body.workerId, principal, 'bpmnError');
      await execution.advance(
        { instanceId: task.process_instance_id, definitionId: task.definition_id, activityId: task.activity_id, executionId: task.execution_id },
        {
          variables: body.variables, by: String(body.workerId), action: { kind: 'error', code: body.errorCode, message: body.errorMessage ?? body.errorCode },
          stillOpen: async () => !(await findExternalTask(db, id))?.end_time,
          actor: principal, fact: externalFact(task, 'BpmnError', { workerId: body.workerId, errorCode: body.errorCode, variables: Object.keys(body.variables) }),
        },
      );
    },

    /**
     * Records a failure. The task is offered again after retryTimeout while
     * retries remain; at 0 retries it raises an incident and waits for a person.
     */
    async failure(id: string, body: { workerId: unknown; errorMessage: string | null; errorDetails: string | null; retries: number; retryTimeout: number }, principal: Principal): Promise<void> {
      assertWorker(principal);
      const task = await lockedBy(id, body.workerId, principal, 'failure');
      await db.transaction(async (trx) => {
        await held(trx, task, {
          retries: body.retries, error_message: body.errorMessage, error_details: body.errorDetails,
          lock_expiration_time: trx.raw('now() + make_interval(secs => ?)', [body.retryTimeout / 1000]),
        });
        await logExternalTasks(trx, (q) => q.where({ id }), 'failure');
        if (body.retries === 0) {
          const incidentId = randomUUID();
          await insertIncident(trx, {
            id: incidentId, incident_type: 'failedExternalTask', process_instance_id: task.process_instance_id,
            definition_id: task.definition_id, activity_id: task.activity_id, configuration: id, message: body.errorMessage,
          });
          await execution.events.incidentRaised(trx, { id: incidentId, instanceId: task.process_instance_id, definitionId: task.definition_id, activityId: task.activity_id, message: body.errorMessage });
        }
        await trace.record(trx, principal, externalFact(task, 'Failure', { workerId: body.workerId, retries: body.retries }));
      });
    },

    async extendLock(id: string, body: { workerId: unknown; newDuration: number }, principal: Principal): Promise<void> {
      assertWorker(principal);
      const task = await lockedBy(id, body.workerId, principal, 'extendLock');
      await db.transaction(async (trx) => {
        await held(trx, task, { lock_expiration_time: trx.raw('now() + make_interval(secs => ?)', [body.newDuration / 1000]) });
        await trace.record(trx, principal, externalFact(task, 'ExtendLock', { workerId: body.workerId, newDuration: body.newDuration }));
      });
    },

    async list(query: ExternalTaskQuery, principal: Principal): Promise<ExternalTaskRow[]> {
      assertWorker(principal);
      return queryExternalTasks(db, query);
    },
    async count(query: ExternalTaskQuery, principal: Principal): Promise<number> {
      assertWorker(principal);
      return countExternalTasks(db, query);
    },
    async get(id: string, principal: Principal): Promise<ExternalTaskRow> {
      assertWorker(principal);
      const task = await findExternalTask(db, id);
      if (!task || task.end_time) throw new NotFoundError(`外部任务不存在 / no open external task ${id}`);
      return task;
    },

    async unlock(id: string, principal: Principal): Promise<void> {
      assertWorker(principal);
      await db.transaction(async (trx) => {
        const task = await findExternalTask(trx, id);
        if (task && !task.end_time) await assertMayUnlock(trx, task, principal);
        if (!task || !(await updateExternalTask(trx, id, { worker_id: null, lock_user_id: null, lock_expiration_time: null }))) throw new NotFoundError(`外部任务不存在 / no open external task ${id}`);
        await trace.record(trx, principal, externalFact(task, 'Unlock'));
      });
    },

    /** Sets the retries; giving retries again resolves the task's incident, and workers are told. */
    async setRetries(id: string, retries: number, principal: Principal): Promise<void> {
      if (!principal.isAdmin) throw new ForbiddenError('需要管理员权限 / administrator rights required');
      await db.transaction(async (trx) => {
        const task = await findExternalTask(trx, id);
        if (!task || task.end_time) throw new NotFoundError(`外部任务不存在 / no open external task ${id}`);
        await retryTask(trx, notifier, task, retries);
        await trace.record(trx, principal, externalFact(task, 'SetRetries', { retries }));
      });
    },
  };
}

/** Sets a task's retries in `trx`; giving retries again resolves its incident and tells the workers of its topic. */
export async function retryTask(trx: Knex.Transaction, notifier: TopicNotifier, task: ExternalTaskRow, retries: number): Promise<void> {
  await updateExternalTask(trx, task.id, { retries, ...(retries > 0 ? { lock_expiration_time: null, worker_id: null, lock_user_id: null } : {}) });
  if (retries > 0) {
    await resolveIncidents(trx, task.id);
    await notifier.announce(trx, [task.topic]);
  }
}

export type LockAction = 'complete' | 'failure' | 'bpmnError' | 'extendLock' | 'unlock' | 'lock';

/** Camunda's sentence for a refused lock action, Chinese first; `otherWorker` when the caller named a worker that holds no lock. */
export function refusal(task: ExternalTaskRow, action: LockAction, whoZh: string, whoEn: string, otherWorker: string | null): ValidationError {
  const [zh, en] = {
    complete: ['完成', `External Task ${task.id} cannot be completed by ${whoEn}`],
    failure: ['报告失败', `Failure of External Task ${task.id} cannot be reported by ${whoEn}`],
    bpmnError: ['报告 BPMN 错误', `Bpmn error of External Task ${task.id} cannot be reported by ${whoEn}`],
    extendLock: ['延长锁定', `The lock of the External Task ${task.id} cannot be extended by ${whoEn}`],
    unlock: ['解锁', `External Task ${task.id} cannot be unlocked by ${whoEn}`],
    lock: ['锁定', `External Task ${task.id} cannot be locked by ${whoEn}`],
  }[action];
  const holder = !task.worker_id || otherWorker === task.worker_id
    ? ['未被锁定或锁定已过期', 'It is not locked, or its lock has expired.']
    : otherWorker != null
      ? [`它被执行程序 ${task.worker_id} 锁定`, `It is locked by worker '${task.worker_id}'.`]
      : [`它被另一账号的执行程序 ${task.worker_id} 锁定`, `It is locked by worker '${task.worker_id}' of another user.`];
  return new ValidationError(`外部任务 ${task.id} 不能由${whoZh}${zh}：${holder[0]} / ${en}. ${holder[1]}`);
}

/** Changes the task only while the lock checked by `lockedBy` still holds; a conflict otherwise. */
async function held(trx: Knex.Transaction, task: ExternalTaskRow, change: Record<string, unknown>): Promise<void> {
  if (!(await updateLockedTask(trx, task, change))) throw new ConflictError(`外部任务 ${task.id} 的锁定已变化 / the lock of external task ${task.id} changed concurrently`);
}

export function externalFact(task: ExternalTaskRow, operation: string, details?: Record<string, unknown>): TraceFact {
  return { operation, entityType: 'ExternalTask', entityId: task.id, processInstanceId: task.process_instance_id, details: { topic: task.topic, ...details } };
}

/** Workers (and administrators) work external tasks; staff accounts do not. */
export function assertWorker(principal: Principal): void {
  if (!principal.groups.includes(WORKERS_GROUP) && !principal.groups.includes(ADMIN_GROUP)) {
    throw new ForbiddenError(`只有 ${WORKERS_GROUP} 组的成员可以处理外部任务 / only members of the ${WORKERS_GROUP} group may work external tasks`);
  }
}

export type ExternalTaskService = ReturnType<typeof makeExternalTaskService>;

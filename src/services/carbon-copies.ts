import { assertActive } from './suspension.ts';
import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import {
  countCarbonCopies, findKnown, insertCarbonCopies, listCarbonCopies, markCarbonCopyRead, type ListedCarbonCopy,
} from '../store/carbon-copies.ts';
import type { Db } from '../store/db.ts';
import { listMemberIds } from '../store/group-members.ts';
import { findInstance } from '../store/instances.ts';
import { lockOpenTask, type TaskRow } from '../store/tasks.ts';
import { PUBLIC_USER, SYSTEM_USER, type Principal } from '../types.ts';
import type { NotifyEvents } from './notify-events.ts';
import { taskFact, type TaskService } from './tasks.ts';
import type { TraceService } from './trace.ts';

/*
 * 抄送 (carbon copy): a step copies its instance to people when it completes
 * (its ccUsers / ccGroups properties), or the person working on it does
 * (POST /task/{id}/cc). A copy is a row per instance, step and recipient; it
 * puts the instance in the recipient's "抄送我的" list with an unread mark
 * and lets them read it as a participant may (store/instances.ts
 * whereVisible), never act on its tasks. Making copies grants that access,
 * so it is traced (`CarbonCopy`, naming the recipients) in the transaction
 * that writes them, with the notifications.
 */

const MAX_MESSAGE = 1000;
const MAX_IDS = 100;
/** Pages are capped, as the other lists are. */
const PAGE_MAX = 200;
const NOBODY = new Set([SYSTEM_USER, PUBLIC_USER]);

export interface CarbonCopyRequest {
  userIds: string[];
  groupIds: string[];
  message: string | null;
}

/** Writes copies in the caller's transaction: the completion's (tasks.ts) or the explicit action's. */
export function makeCarbonCopyWriter(clock: Clock, trace: TraceService, events: NotifyEvents) {
  /**
   * Copies the task's instance to `users` and the members `groups` have
   * now, except the one copying; returns the recipients newly copied.
   */
  async function copy(trx: Db, task: TaskRow, request: CarbonCopyRequest, actor: Principal, origin: 'property' | 'action'): Promise<string[]> {
    const members = await listMemberIds(trx, request.groupIds);
    const recipients = [...new Set([...request.userIds, ...request.groupIds.flatMap((g) => members.get(g) ?? [])])]
      .filter((u) => u !== actor.userId && !NOBODY.has(u.toLowerCase()));
    if (!recipients.length) return [];
    const now = await clock.now(trx as Knex.Transaction);
    const copied = await insertCarbonCopies(trx, recipients.map((userId) => ({
      id: randomUUID(), process_instance_id: task.process_instance_id, task_id: task.id, activity_id: task.task_definition_key,
      user_id: userId, from_user_id: actor.userId, message: request.message, created_at: now,
    })));
    if (!copied.length) return [];
    const instance = await findInstance(trx, task.process_instance_id);
    await events.copied(trx, {
      instanceId: task.process_instance_id, definitionId: task.definition_id, businessKey: instance?.business_key ?? null,
      taskId: task.id, taskName: task.name ?? task.task_definition_key, from: actor.userId, message: request.message, userIds: copied,
    });
    // The grant of read access, naming whom: the trace's record of who may now read the instance.
    await trace.record(trx, actor, { ...taskFact(task, 'CarbonCopy', { recipients: copied, origin, groups: request.groupIds }), entityType: 'ProcessInstance', entityId: task.process_instance_id });
    return copied;
  }

  return {
    copy,
    /** The copies a completing task's ccUsers / ccGroups ask for; in the completion's transaction. */
    async onCompleted(trx: Db, task: TaskRow, actor: Principal): Promise<void> {
      const targets = await events.carbonCopiesOf(trx, task.definition_id, task.task_definition_key);
      if (!targets) return;
      // Ids the diagram names that are no users (or groups) now are skipped: a deployed
      // diagram cannot be fixed by the person completing; the trace row names only those copied.
      const known = await findKnown(trx, targets.users, targets.groups);
      await copy(trx, task, { userIds: targets.users.filter((u) => known.users.has(u)), groupIds: targets.groups.filter((g) => known.groups.has(g)), message: null }, actor, 'property');
    },
  };
}

export type CarbonCopyWriter = ReturnType<typeof makeCarbonCopyWriter>;

function idList(value: unknown, name: string): string[] {
  if (value == null) return [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== 'string' || !v) || value.length > MAX_IDS) {
    throw new ValidationError(`${name} 必须是至多 ${MAX_IDS} 个 id 的数组 / ${name} must be an array of at most ${MAX_IDS} ids`);
  }
  return [...new Set(value as string[])];
}

/** Checks a cc body: ids as arrays of strings, at least one, all existing; an optional message. */
export async function parseCarbonCopy(db: Db, body: Record<string, unknown>): Promise<CarbonCopyRequest> {
  const userIds = idList(body.userIds, 'userIds');
  const groupIds = idList(body.groupIds, 'groupIds');
  if (!userIds.length && !groupIds.length) throw new ValidationError('请指定抄送的用户 userIds 或组 groupIds / name the users (userIds) or groups (groupIds) to copy to');
  const { message } = body;
  if (message != null && (typeof message !== 'string' || message.length > MAX_MESSAGE)) {
    throw new ValidationError(`message 必须是至多 ${MAX_MESSAGE} 字符的文本 / message must be text of at most ${MAX_MESSAGE} characters`);
  }
  const known = await findKnown(db, userIds, groupIds);
  const unknownUsers = userIds.filter((u) => !known.users.has(u) || NOBODY.has(u.toLowerCase()));
  const unknownGroups = groupIds.filter((g) => !known.groups.has(g));
  if (unknownUsers.length || unknownGroups.length) {
    const named = [...unknownUsers.map((u) => `user ${u}`), ...unknownGroups.map((g) => `group ${g}`)].join(', ');
    throw new ValidationError(`抄送对象不存在：${named} / no such recipients: ${named}`);
  }
  return { userIds, groupIds, message: typeof message === 'string' && message.trim() ? message.trim() : null };
}

export interface CarbonCopyFilter {
  unread?: boolean | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

/** The explicit action and the recipient's "抄送我的" list. */
export function makeCarbonCopyService(db: Knex, clock: Clock, trace: TraceService, tasks: TaskService, writer: CarbonCopyWriter) {
  return {
    /** `POST /task/{id}/cc` by whoever may complete the open task; returns how many were newly copied. */
    async cc(taskId: string, body: Record<string, unknown>, principal: Principal): Promise<{ copied: number }> {
      const task = await tasks.actionableTask(taskId, principal);
      const request = await parseCarbonCopy(db, body);
      return db.transaction(async (trx) => {
        // Under the task's lock: a completion committed meanwhile makes this 404 rather than copy from an ended step.
        if (!(await lockOpenTask(trx, taskId))) throw new NotFoundError(`任务已结束 / task ${taskId} is no longer open`);
        // A suspended instance's task takes no action (its completion is refused alike).
        await assertActive(trx, task.process_instance_id, 'task', taskId);
        return { copied: (await writer.copy(trx, task, request, principal, 'action')).length };
      });
    },
    async list(filter: CarbonCopyFilter, principal: Principal): Promise<ListedCarbonCopy[]> {
      return listCarbonCopies(db, { userId: principal.userId, unread: filter.unread, firstResult: filter.firstResult ?? 0, maxResults: Math.min(filter.maxResults ?? PAGE_MAX, PAGE_MAX) });
    },
    async count(filter: CarbonCopyFilter, principal: Principal): Promise<number> {
      return countCarbonCopies(db, { userId: principal.userId, unread: filter.unread });
    },
    /** Marks one's own copy read (traced); another's is 404, as if absent. */
    async markRead(id: string, principal: Principal): Promise<void> {
      await db.transaction(async (trx) => {
        const instanceId = await markCarbonCopyRead(trx, principal.userId, id, await clock.now(trx));
        if (!instanceId) throw new NotFoundError(`抄送不存在 / no carbon copy with id ${id}`);
        await trace.record(trx, principal, { operation: 'ReadCarbonCopy', entityType: 'CarbonCopy', entityId: id, processInstanceId: instanceId });
      });
    },
  };
}

export type CarbonCopyService = ReturnType<typeof makeCarbonCopyService>;

import { createHash, randomUUID } from 'node:crypto';
import { DateTime } from 'luxon';
import type { Clock } from '../clock.ts';
import { notifySettingsOf, type CarbonCopyTargets, type NotifySettings } from '../engine/notify-properties.ts';
import type { Db } from '../store/db.ts';
import { findDefinition } from '../store/definitions.ts';
import { listMemberIds } from '../store/group-members.ts';
import { listEnabledWebhooksOf } from '../store/notification-webhooks.ts';
import { deleteOpeningNotices, EMAIL_KEY_PREFIX, findEmails, insertNotifications, insertOutboxMails, type NewNotification, type NewOutboxMail } from '../store/notifications.ts';
import type { TopicNotifier } from '../store/notify.ts';
import type { ReminderKind } from '../store/reminders.ts';
import { findEmailOptOuts } from '../store/notification-preferences.ts';
import { ADMIN_GROUP, PUBLIC_USER, SYSTEM_USER } from '../types.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';
import { renderTemplate, type NotificationEvent } from './notification-templates.ts';
import { WEBHOOK_GLOBAL, type WebhookPayload } from './webhook-send.ts';

/*
 * Writing notifications in the transaction of the event that causes them:
 * one in-app row per recipient, and with email configured one outbox row per
 * recipient with an address, each with an idempotency key so an event seen
 * twice notifies once. Webhooks ride the same outbox: one row per event for
 * NOTIFY_WEBHOOK_URL, and one per event and enabled role webhook whose group
 * is a candidate group of the task or a group of one of the recipients (a
 * task offered to leading-group posts once to its robot, not once per member).
 * The outbox is sent after commit (notification-sender.ts).
 */

export interface NotifyOptions {
  /** SMTP is configured: queue an email beside each in-app notification. */
  email: boolean;
  /** Where links in emails and webhooks point (PUBLIC_BASE_URL); in-app links are paths. */
  publicBaseUrl: string | undefined;
  /** NOTIFY_WEBHOOK_URL is set: queue one JSON message per event for it. */
  webhook?: boolean;
}

/** A user task as it was opened or handed over. */
export interface NotifiedTask {
  id: string;
  name: string | null;
  definitionId: string;
  taskDefinitionKey: string;
  processInstanceId: string;
  assignee: string | null;
  candidateUsers: string[];
  candidateGroups: string[];
}

interface DefinitionFacts {
  name: string;
  settings: NotifySettings;
}

const NOBODY = new Set([SYSTEM_USER, PUBLIC_USER]);
/** The role told of incidents beside the administrators (领导小组办公室). */
const OFFICE_GROUP = 'office';

/** Makes the writer of notifications the services call inside their transactions. */
export function makeNotifyEvents(clock: Clock, options: NotifyOptions, notifier: TopicNotifier, zone = 'Asia/Shanghai') {
  const facts = new Map<string, DefinitionFacts>();

  /** The definition's name and notify settings (read in the caller's transaction: PGlite has one connection). */
  async function factsOf(trx: Db, definitionId: string): Promise<DefinitionFacts | undefined> {
    const hit = facts.get(definitionId);
    if (hit) return hit;
    const row = await findDefinition(trx, definitionId);
    if (!row) return undefined;
    const found = { name: row.name ?? row.key, settings: notifySettingsOf(row.compiled) };
    facts.set(definitionId, found);
    if (facts.size > 500) facts.delete(facts.keys().next().value!);
    return found;
  }

  /**
   * Writes `event` to each of `userIds`, in-app and (with email on) by email,
   * and to the webhooks: the global one and the role robots of `groups`.
   */
  async function write(trx: Db, event: NotificationEvent, key: string, userIds: string[], values: Record<string, string>, refs: { taskId?: string; instanceId: string }, path: string, groups: string[] = []): Promise<void> {
    const recipients = [...new Set(userIds)].filter((u) => !NOBODY.has(u.toLowerCase()));
    if (!recipients.length && !groups.length) return;
    const now = await clock.now(trx as never);
    const inApp = renderTemplate(event, { ...values, link: path });
    await insertNotifications(trx, recipients.map<NewNotification>((userId) => ({
      id: randomUUID(), user_id: userId, type: event, idempotency_key: `${key}:${userId}`, title: inApp.title, body: inApp.body,
      task_id: refs.taskId ?? null, process_instance_id: refs.instanceId, created_at: now,
    })));
    const link = `${(options.publicBaseUrl ?? '').replace(/\/$/, '')}${path}`;
    const outside = renderTemplate(event, { ...values, link });
    const queued: NewOutboxMail[] = [];
    if (options.email) {
      const [emails, optedOut] = await Promise.all([findEmails(trx, recipients), findEmailOptOuts(trx, recipients)]);
      queued.push(...recipients.filter((u) => emails.has(u) && !optedOut.has(u)).map<NewOutboxMail>((userId) => ({
        id: randomUUID(), channel: 'email', user_id: userId, address: emails.get(userId)!, idempotency_key: `${EMAIL_KEY_PREFIX}${key}:${userId}`,
        subject: outside.title, body: outside.body, created_at: now, due_at: now,
      })));
    }
    // Role robots post to a group chat: only events addressed to the role
    // itself (a task offered to it, an urge of its unclaimed task). A personal
    // event (assigned to, copied to, an instance ended for someone) would tell
    // the whole chat of another's work.
    const roles = [...new Set(groups)];
    const targets = [...(options.webhook ? [{ id: WEBHOOK_GLOBAL, group_id: undefined as string | undefined }] : []), ...(await listEnabledWebhooksOf(trx, roles))];
    queued.push(...targets.map<NewOutboxMail>((hook) => {
      const idempotencyKey = `webhook:${hook.id}:${key}`;
      const payload: WebhookPayload = {
        idempotencyKey, event, title: outside.title, body: outside.body, taskId: refs.taskId ?? null, processInstanceId: refs.instanceId,
        recipients, link, ...(hook.group_id ? { groupId: hook.group_id } : {}), created: now.toISOString(),
      };
      return {
        id: randomUUID(), channel: 'webhook', user_id: null, address: hook.id, idempotency_key: idempotencyKey,
        subject: outside.title, body: outside.body, created_at: now, due_at: now, payload, task_id: refs.taskId ?? null,
      };
    }));
    await insertOutboxMails(trx, queued);
    // The sender is a scheduler source: wake it as an armed timer does.
    if (queued.length) await notifier.announce(trx, [TIMERS_TOPIC]);
  }

  /** The people a task is for: its assignee, or else its candidate users and the members its candidate groups have now. */
  async function recipientsOf(trx: Db, task: NotifiedTask): Promise<{ event: NotificationEvent; userIds: string[]; groups: string[] }> {
    if (task.assignee) return { event: 'task-assigned', userIds: [task.assignee], groups: [] };
    const members = await listMemberIds(trx, task.candidateGroups);
    return { event: 'task-offered', userIds: [...task.candidateUsers, ...task.candidateGroups.flatMap((g) => members.get(g) ?? [])], groups: task.candidateGroups };
  }

  return {
    /** A definition's notify settings, or undefined when it is gone (reminders.ts arms by them). */
    async settingsOf(trx: Db, definitionId: string): Promise<NotifySettings | undefined> {
      return (await factsOf(trx, definitionId))?.settings;
    },

    /**
     * A deadline reminder: the task's assignee, or else its candidates, are
     * told it is due soon or overdue. Keyed by the due date it was armed for,
     * so each fires once per task and due date, and a new due date reminds anew.
     */
    async reminded(trx: Db, kind: ReminderKind, task: NotifiedTask, due: Date): Promise<void> {
      const def = await factsOf(trx, task.definitionId);
      if (!def?.settings.process) return;
      const event: NotificationEvent = kind === 'due-soon' ? 'task-due-soon' : 'task-overdue';
      const { userIds } = await recipientsOf(trx, task);
      const shown = DateTime.fromJSDate(due).setZone(zone).toFormat('yyyy-MM-dd HH:mm');
      await write(trx, event, `${event}:${task.id}:${due.toISOString()}`, userIds, { taskName: task.name ?? task.taskDefinitionKey, processName: def.name, due: shown },
        { taskId: task.id, instanceId: task.processInstanceId }, `/task/${task.id}`);
    },

    /** Tasks a run opened: offered to their candidates or assigned, unless their process or step is silenced. */
    async tasksOpened(trx: Db, tasks: NotifiedTask[]): Promise<void> {
      for (const task of tasks) {
        const def = await factsOf(trx, task.definitionId);
        if (!def?.settings.process || def.settings.silentTasks.has(task.taskDefinitionKey)) continue;
        const { event, userIds, groups } = await recipientsOf(trx, task);
        await write(trx, event, `${event}:${task.id}`, userIds, { taskName: task.name ?? task.taskDefinitionKey, processName: def.name },
          { taskId: task.id, instanceId: task.processInstanceId }, `/task/${task.id}`, groups);
      }
    },

    /** A task handed to `assignee` by `actor` (set-assignee, delegate, 转办); nobody is told of what they did themselves. */
    async assigned(trx: Db, task: NotifiedTask, assignee: string, actor: string): Promise<void> {
      if (assignee === actor) return;
      const def = await factsOf(trx, task.definitionId);
      if (!def?.settings.process || def.settings.silentTasks.has(task.taskDefinitionKey)) return;
      const at = (await clock.now(trx as never)).toISOString();
      await write(trx, 'task-assigned', `task-assigned:${task.id}:${at}`, [assignee], { taskName: task.name ?? task.taskDefinitionKey, processName: def.name },
        { taskId: task.id, instanceId: task.processInstanceId }, `/task/${task.id}`);
    },

    /**
     * 催办: the task's assignee, or else its candidates, get the urger's
     * message. An explicit act, so the notify properties do not silence it.
     */
    async urged(trx: Db, task: NotifiedTask, urge: { id: string; by: string; message: string }): Promise<number> {
      const def = await factsOf(trx, task.definitionId);
      const { userIds, groups } = await recipientsOf(trx, task);
      const to = userIds.filter((u) => u !== urge.by);
      await write(trx, 'task-urged', `task-urged:${urge.id}`, to, { taskName: task.name ?? task.taskDefinitionKey, processName: def?.name ?? '', urger: urge.by, message: urge.message },
        { taskId: task.id, instanceId: task.processInstanceId }, `/task/${task.id}`, groups);
      return new Set(to).size;
    },

    /** Whom the user task `taskKey` of a definition copies its instance to when it completes (ccUsers / ccGroups), if anyone. */
    async carbonCopiesOf(trx: Db, definitionId: string, taskKey: string): Promise<CarbonCopyTargets | undefined> {
      return (await factsOf(trx, definitionId))?.settings.carbonCopies.get(taskKey);
    },

    /**
     * 抄送: each new recipient of a copy is told, with the link to the
     * instance (read-only for them), whatever `notify` says: a copy is asked
     * for by name. One per instance, step and recipient, as the copies are.
     */
    async copied(trx: Db, copy: { instanceId: string; definitionId: string; businessKey: string | null; taskId: string; taskName: string; from: string; message: string | null; userIds: string[] }): Promise<void> {
      const def = await factsOf(trx, copy.definitionId);
      // The key names the action's recipients too: a second copy from the same step to other people is
      // another event (for the global webhook, whose key has no user in it), a replay of this one is not.
      const whom = createHash('sm3').update([...copy.userIds].sort().join('\n')).digest('hex').slice(0, 16);
      await write(trx, 'instance-cc', `instance-cc:${copy.instanceId}:${copy.taskId}:${whom}`, copy.userIds, {
        processName: def?.name ?? '', businessKey: copy.businessKey ? `（${copy.businessKey}）` : '', taskName: copy.taskName, from: copy.from, message: copy.message ?? '',
      }, { instanceId: copy.instanceId }, `/copied/instance/${copy.instanceId}`);
    },

    /**
     * 退回: the step sent back to is told why, in place of the plain offer or
     * assignment notice its opening wrote (one notice, with the reason).
     */
    async sentBack(trx: Db, received: NotifiedTask, by: { userId: string; fromTaskName: string; comment: string }): Promise<void> {
      const def = await factsOf(trx, received.definitionId);
      if (!def?.settings.process || def.settings.silentTasks.has(received.taskDefinitionKey)) return;
      const { userIds } = await recipientsOf(trx, received);
      await deleteOpeningNotices(trx, received.id);
      await write(trx, 'task-sent-back', `task-sent-back:${received.id}`, userIds.filter((u) => u !== by.userId),
        { taskName: received.name ?? received.taskDefinitionKey, processName: def.name, actor: by.userId, fromTaskName: by.fromTaskName, message: by.comment },
        { taskId: received.id, instanceId: received.processInstanceId }, `/task/${received.id}`);
    },

    /** 撤回: those a cancelled task was for (its assignee, or its candidates) are told it was taken back. */
    async withdrawn(trx: Db, cancelled: NotifiedTask[], by: { userId: string; comment: string | null }): Promise<void> {
      for (const task of cancelled) {
        const def = await factsOf(trx, task.definitionId);
        if (!def?.settings.process || def.settings.silentTasks.has(task.taskDefinitionKey)) continue;
        const { userIds } = await recipientsOf(trx, task);
        await write(trx, 'task-withdrawn', `task-withdrawn:${task.id}`, userIds.filter((u) => u !== by.userId),
          { taskName: task.name ?? task.taskDefinitionKey, processName: def.name, actor: by.userId, message: by.comment ?? '' },
          { taskId: task.id, instanceId: task.processInstanceId }, `/task/${task.id}`);
      }
    },

    /** 终止: the initiator is told who ended the instance and why (not when they did it themselves). */
    async terminated(trx: Db, instance: { id: string; definitionId: string; businessKey: string | null; initiator: string | null }, by: { userId: string; reason: string }): Promise<void> {
      if (!instance.initiator || instance.initiator === by.userId) return;
      const def = await factsOf(trx, instance.definitionId);
      if (!def?.settings.process) return;
      await write(trx, 'instance-terminated', `instance-terminated:${instance.id}`, [instance.initiator],
        { processName: def.name, businessKey: instance.businessKey ? `（${instance.businessKey}）` : '', actor: by.userId, message: by.reason },
        { instanceId: instance.id }, `/monitor/instance/${instance.id}`);
    },

    /**
     * An incident raised (a timer or external task out of retries): the
     * administrators and the office are told, whatever the process's notify
     * settings say, as a server fault is not a step of the procedure.
     */
    async incidentRaised(trx: Db, incident: { id: string; instanceId: string; definitionId: string; activityId: string | null; message: string | null }): Promise<void> {
      const def = await factsOf(trx, incident.definitionId);
      const members = await listMemberIds(trx, [ADMIN_GROUP, OFFICE_GROUP]);
      await write(trx, 'incident-raised', `incident-raised:${incident.id}`, [...(members.get(ADMIN_GROUP) ?? []), ...(members.get(OFFICE_GROUP) ?? [])],
        { processName: def?.name ?? incident.definitionId, activityId: incident.activityId ?? '', message: incident.message ?? '' },
        { instanceId: incident.instanceId }, `/monitor/instance/${incident.instanceId}`);
    },

    /** An instance ended: its initiator is told, unless the process says not to. */
    async instanceEnded(trx: Db, instance: { id: string; definitionId: string; businessKey: string | null; initiator: string | null; endEventId?: string | undefined }): Promise<void> {
      if (!instance.initiator) return;
      const def = await factsOf(trx, instance.definitionId);
      if (!def?.settings.process || !def.settings.instanceEnd) return;
      // An end the diagram marks notifyRejected (驳回) is told as a rejection; one notice either way.
      const event: NotificationEvent = instance.endEventId && def.settings.rejectedEnds.has(instance.endEventId) ? 'instance-rejected' : 'instance-ended';
      await write(trx, event, `instance-ended:${instance.id}`, [instance.initiator],
        { processName: def.name, businessKey: instance.businessKey ? `（${instance.businessKey}）` : '' }, { instanceId: instance.id }, `/monitor/instance/${instance.id}`);
    },
  };
}

export type NotifyEvents = ReturnType<typeof makeNotifyEvents>;

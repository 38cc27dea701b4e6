import type { Db } from './db.ts';

/** One in-app notification (站内信) of one user. */
export interface NotificationRow {
  id: string;
  user_id: string;
  type: string;
  idempotency_key: string;
  title: string;
  body: string;
  task_id: string | null;
  process_instance_id: string | null;
  created_at: Date;
  read_at: Date | null;
  /** As listed: whether its task has ended (null when it is about no task). */
  task_ended?: boolean | null;
}

/** One message an outside channel (email, webhook) still has to deliver, or has delivered. */
export interface NotificationOutboxRow {
  id: string;
  /** `email`, or `webhook` (then `address` is the webhook's id, or WEBHOOK_GLOBAL). */
  channel: string;
  /** The recipient of a mail; null for a webhook message, which is about an event, not a person. */
  user_id: string | null;
  address: string;
  idempotency_key: string;
  subject: string;
  body: string;
  created_at: Date;
  due_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: number;
  last_error: string | null;
  sent_at: Date | null;
  failed_at: Date | null;
  /** A webhook message's event as JSON (see services/webhook-send.ts); null for mail. */
  payload: unknown;
  /** The task a webhook message is about, so it is dropped when the task ends. */
  task_id: string | null;
}

/** An outbox row's idempotency key is this before its in-app twin's key: the link between them. */
export const EMAIL_KEY_PREFIX = 'email:';

export type NewNotification = Pick<NotificationRow, 'id' | 'user_id' | 'type' | 'idempotency_key' | 'title' | 'body' | 'task_id' | 'process_instance_id' | 'created_at'>;
export type NewOutboxMail = Pick<NotificationOutboxRow, 'id' | 'channel' | 'user_id' | 'address' | 'idempotency_key' | 'subject' | 'body' | 'created_at' | 'due_at'>
  & Partial<Pick<NotificationOutboxRow, 'payload' | 'task_id'>>;

/** Writes in-app notifications; one whose idempotency key is already there is left as it was. */
export async function insertNotifications(db: Db, rows: NewNotification[]): Promise<void> {
  if (!rows.length) return;
  await db('notifications').insert(rows).onConflict('idempotency_key').ignore();
}

/** Queues messages for outside channels; one whose idempotency key is already queued is left as it was. */
export async function insertOutboxMails(db: Db, rows: NewOutboxMail[]): Promise<void> {
  if (!rows.length) return;
  await db('notification_outbox').insert(rows.map((r) => ({ ...r, payload: r.payload === undefined ? null : JSON.stringify(r.payload) })))
    .onConflict('idempotency_key').ignore();
}

export interface NotificationQuery {
  userId: string;
  unread?: boolean;
  type?: string;
  firstResult: number;
  maxResults: number;
}

function whereOwn(db: Db, q: Omit<NotificationQuery, 'firstResult' | 'maxResults'>) {
  const query = db('notifications').where('notifications.user_id', q.userId);
  if (q.unread) query.whereNull('notifications.read_at');
  if (q.type) query.where('notifications.type', q.type);
  return query;
}

/** A user's own notifications, newest first, each saying whether its task has ended (or is gone). */
export async function listNotifications(db: Db, q: NotificationQuery): Promise<NotificationRow[]> {
  return whereOwn(db, q).leftJoin('tasks', 'tasks.id', 'notifications.task_id')
    .select('notifications.*', db.raw('case when notifications.task_id is null then null else tasks.id is null or tasks.end_time is not null end as task_ended'))
    .orderBy([{ column: 'notifications.created_at', order: 'desc' }, { column: 'notifications.id', order: 'desc' }])
    .offset(q.firstResult).limit(q.maxResults);
}

export async function countNotifications(db: Db, q: Omit<NotificationQuery, 'firstResult' | 'maxResults'>): Promise<number> {
  const row = await whereOwn(db, q).count<{ count: string | number }[]>('* as count').first();
  return Number(row?.count ?? 0);
}

/** Marks one of `userId`'s notifications read; false when it is not theirs (or does not exist). */
export async function markNotificationRead(db: Db, userId: string, id: string, at: Date): Promise<boolean> {
  const found = await db('notifications').where({ id, user_id: userId }).select('id', 'read_at').first();
  if (!found) return false;
  if (!found.read_at) await db('notifications').where({ id, user_id: userId }).whereNull('read_at').update({ read_at: at });
  return true;
}

/** Marks all of `userId`'s unread notifications read; returns how many. */
export async function markAllNotificationsRead(db: Db, userId: string, at: Date): Promise<number> {
  return db('notifications').where({ user_id: userId }).whereNull('read_at').update({ read_at: at });
}

/**
 * Drops the mail not yet sent (nor given up) about `taskIds`, in the
 * transaction that ends them: a 待办 for a task that is gone is wrong. The
 * outbox has no task column; its rows are found through their in-app twins
 * (same key after EMAIL_KEY_PREFIX), which name the task. Only unsent rows
 * are looked at, and the twin by its unique key. Webhook messages name
 * their task themselves.
 */
export async function dropUnsentMailsOfTasks(db: Db, taskIds: readonly string[]): Promise<void> {
  if (!taskIds.length) return;
  await db.raw(`
    delete from notification_outbox o
    where o.sent_at is null and o.failed_at is null
      and (o.task_id = any(?::text[])
        or exists (select 1 from notifications n where n.idempotency_key = substr(o.idempotency_key, ?) and n.task_id = any(?::text[])))`,
  [[...taskIds], EMAIL_KEY_PREFIX.length + 1, [...taskIds]]);
}

/**
 * Removes the offer or assignment notices (in-app and unsent mail) a task's
 * opening wrote, for an event that tells the same people more (退回 with its
 * reason). Only the opening's keys, `<event>:<task>:<user>`, are matched.
 */
export async function deleteOpeningNotices(db: Db, taskId: string): Promise<void> {
  const keys = await db('notifications').where({ task_id: taskId }).whereIn('type', ['task-offered', 'task-assigned'])
    .whereRaw(`idempotency_key = type || ':' || task_id || ':' || user_id`).pluck('idempotency_key') as string[];
  if (!keys.length) return;
  await db('notification_outbox').whereIn('idempotency_key', keys.map((k) => `${EMAIL_KEY_PREFIX}${k}`)).whereNull('sent_at').delete();
  await db('notifications').whereIn('idempotency_key', keys).delete();
}

/** Records a delivery; false if someone else recorded it first. */
export async function markOutboxSent(db: Db, id: string, at: Date): Promise<boolean> {
  return (await db('notification_outbox').where({ id }).whereNull('sent_at').update({ sent_at: at, locked_by: null, locked_until: null, attempts: db.raw('attempts + 1') })) > 0;
}

/** Holds a message until `until` (the recipient's quiet hours): not an attempt, not a failure. */
export async function deferOutbox(db: Db, id: string, until: Date): Promise<void> {
  await db('notification_outbox').where({ id }).whereNull('sent_at').update({ due_at: until, locked_by: null, locked_until: null });
}

/** Gives a message up for good, keeping its last error. */
export async function markOutboxFailed(db: Db, id: string, error: string, at: Date): Promise<void> {
  await db('notification_outbox').where({ id }).whereNull('sent_at')
    .update({ failed_at: at, last_error: error.slice(0, 2000), locked_by: null, locked_until: null, attempts: db.raw('attempts + 1') });
}

/** Outbox rows, oldest first (for the office's view and tests). */
export async function listOutboxMails(db: Db): Promise<NotificationOutboxRow[]> {
  return db('notification_outbox').select('*').orderBy('created_at').orderBy('id');
}

/** Email addresses from users' profiles, by user id (users without one are absent). */
export async function findEmails(db: Db, userIds: readonly string[]): Promise<Map<string, string>> {
  if (!userIds.length) return new Map();
  const rows: { id: string; email: string | null }[] = await db('users').select('id', 'email').whereIn('id', [...userIds]);
  return new Map(rows.filter((r) => r.email && r.email.trim()).map((r) => [r.id, r.email!.trim()]));
}

/** When the task was last urged, if ever. */
export async function lastUrgedAt(db: Db, taskId: string): Promise<Date | undefined> {
  const row = await db('task_urges').where({ task_id: taskId }).max<{ at: Date | null }>('urged_at as at').first();
  return row?.at ? new Date(row.at) : undefined;
}

/** The ids of the task's urges (each urge's comment has the same id). */
export async function listUrgeIds(db: Db, taskId: string): Promise<Set<string>> {
  return new Set((await db('task_urges').where({ task_id: taskId }).select<{ id: string }[]>('id')).map((r) => r.id));
}

export async function insertUrge(db: Db, row: { id: string; task_id: string; process_instance_id: string; user_id: string; message: string; urged_at: Date }): Promise<void> {
  await db('task_urges').insert(row);
}

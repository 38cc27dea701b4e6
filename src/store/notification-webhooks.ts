import type { Db } from './db.ts';

/** A per-role robot as stored: `url` and `secret` are sealed envelopes (see services/notification-webhooks.ts). */
export interface NotificationWebhookRow {
  id: string;
  name: string;
  group_id: string;
  format: string;
  url: unknown;
  url_masked: string;
  secret: unknown;
  key_id: string;
  enabled: boolean;
  created_at: Date;
  updated_at: Date;
}

export type NewNotificationWebhook = Omit<NotificationWebhookRow, 'created_at' | 'updated_at'> & { created_at: Date; updated_at: Date };

const json = (v: unknown) => (v == null ? null : JSON.stringify(v));

export async function insertNotificationWebhook(db: Db, row: NewNotificationWebhook): Promise<void> {
  await db('notification_webhooks').insert({ ...row, url: json(row.url), secret: json(row.secret) });
}

/** Replaces a webhook's fields; false when it does not exist. */
export async function updateNotificationWebhook(db: Db, id: string, row: Omit<NewNotificationWebhook, 'id' | 'created_at'>): Promise<boolean> {
  return (await db('notification_webhooks').where({ id }).update({ ...row, url: json(row.url), secret: json(row.secret) }).returning('id')).length > 0;
}

export async function deleteNotificationWebhook(db: Db, id: string): Promise<boolean> {
  return (await db('notification_webhooks').where({ id }).delete().returning('id')).length > 0;
}

export async function findNotificationWebhook(db: Db, id: string, forUpdate = false): Promise<NotificationWebhookRow | undefined> {
  const q = db('notification_webhooks').where({ id }).first();
  if (forUpdate) q.forUpdate();
  return q;
}

/** All webhooks, by name then id (administrators' list). */
export async function listNotificationWebhooks(db: Db, groupId?: string): Promise<NotificationWebhookRow[]> {
  const q = db('notification_webhooks').select('*').orderBy(['name', 'id']);
  if (groupId) q.where({ group_id: groupId });
  return q;
}

/** The ids and groups of the enabled webhooks of `groupIds`. */
export async function listEnabledWebhooksOf(db: Db, groupIds: readonly string[]): Promise<{ id: string; group_id: string }[]> {
  if (!groupIds.length) return [];
  return db('notification_webhooks').select('id', 'group_id').where({ enabled: true }).whereIn('group_id', [...groupIds]).orderBy('id');
}

/** Whether a group exists. */
export async function groupExists(db: Db, groupId: string): Promise<boolean> {
  return !!(await db('groups').where({ id: groupId }).first('id'));
}

/** The webhooks whose address and secret are sealed under a key other than `currentKeyId` (few: read at once). */
export async function listWebhooksUnderOtherKeys(db: Db, currentKeyId: string): Promise<NotificationWebhookRow[]> {
  return db('notification_webhooks').whereNot('key_id', currentKeyId).orderBy('id');
}

/** Replaces a webhook's sealed address and secret only if they are still exactly what was read. */
export async function replaceWebhookSealed(db: Db, expected: Pick<NotificationWebhookRow, 'id' | 'url' | 'key_id'>, next: Pick<NotificationWebhookRow, 'url' | 'secret' | 'key_id'>): Promise<boolean> {
  const changed = await db('notification_webhooks').where({ id: expected.id, key_id: expected.key_id })
    .whereRaw('url = ?::jsonb', [JSON.stringify(expected.url)])
    .update({ url: JSON.stringify(next.url), secret: json(next.secret), key_id: next.key_id }).returning('id');
  return changed.length > 0;
}

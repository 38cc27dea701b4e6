import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { contextOf, open, seal } from '../crypto/envelope.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import {
  deleteNotificationWebhook, findNotificationWebhook, groupExists, insertNotificationWebhook, listNotificationWebhooks,
  updateNotificationWebhook, type NotificationWebhookRow,
} from '../store/notification-webhooks.ts';
import type { Principal } from '../types.ts';
import type { TraceService } from './trace.ts';

/** The message formats a role webhook speaks: 企业微信 group robot, 钉钉 custom robot, or our generic JSON. */
export const WEBHOOK_FORMATS = ['wecom', 'dingtalk', 'json'] as const;
export type WebhookFormat = typeof WEBHOOK_FORMATS[number];

/** A webhook as the API shows it: never its URL (a 企业微信 robot's key is in it) nor its secret. */
export interface NotificationWebhook {
  id: string;
  name: string;
  groupId: string;
  format: WebhookFormat;
  urlMasked: string;
  hasSecret: boolean;
  enabled: boolean;
  created: Date;
  updated: Date;
}

/** A webhook opened for sending (the sender only). */
export interface OpenedWebhook {
  id: string;
  name: string;
  groupId: string;
  format: WebhookFormat;
  url: string;
  secret: string | null;
  enabled: boolean;
}

const WRITABLE = new Set(['name', 'groupId', 'format', 'url', 'secret', 'enabled']);
/** What a client that read a webhook may send back unchanged: ignored. */
const READ_ONLY = new Set(['id', 'urlMasked', 'hasSecret', 'created', 'updated']);

const sealContext = (id: string, part: 'url' | 'secret') => contextOf('notification-webhook', id, part);

/**
 * A webhook's address and secret opened and sealed again under the
 * keyring's current key (the re-encryption command). Throws EnvelopeError
 * when a value fails its check.
 */
export function resealWebhook(keyring: Keyring, row: Pick<NotificationWebhookRow, 'id' | 'url' | 'secret'>): { url: unknown; secret: unknown; key_id: string } {
  const again = (part: 'url' | 'secret', stored: unknown) => seal(keyring, open(keyring, stored, sealContext(row.id, part)), sealContext(row.id, part));
  const url = again('url', row.url);
  return { url, secret: row.secret == null ? null : again('secret', row.secret), key_id: url.kid };
}

const bad = (field: string, zh: string, en: string) => new ValidationError(`${field}: ${zh} / ${en}`, { field });

/** Checks a robot's address: an absolute http(s) URL. Never quotes it (it may hold the robot's key). */
function checkUrl(value: unknown): URL {
  if (typeof value !== 'string' || !value.trim() || value.length > 2000) throw bad('url', '必须是不超过 2000 字符的网址', 'must be a URL of at most 2000 characters');
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    throw bad('url', '不是有效的网址', 'is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw bad('url', '只接受 http 或 https 网址', 'only http and https URLs are accepted');
  return url;
}

/** The URL as shown: scheme and host only, since robots keep their key in the path or the query. */
const maskUrl = (url: URL) => `${url.protocol}//${url.host}/…`;

const toDto = (r: NotificationWebhookRow): NotificationWebhook => ({
  id: r.id, name: r.name, groupId: r.group_id, format: r.format as WebhookFormat, urlMasked: r.url_masked, hasSecret: r.secret != null,
  enabled: r.enabled, created: r.created_at, updated: r.updated_at,
});

/**
 * Per-role webhooks (企业微信/钉钉 robots, generic JSON), managed by
 * administrators only. The URL and the secret are sealed with the server's
 * SM4 key, bound to the webhook's id, and never handed back: the API shows
 * `urlMasked` and `hasSecret`. Every change is traced, without either.
 */
export function makeNotificationWebhookService(db: Knex, clock: Clock, keyring: Keyring, trace: TraceService) {
  const sealText = (id: string, part: 'url' | 'secret', text: string) => seal(keyring, Buffer.from(text, 'utf8'), sealContext(id, part));
  const openText = (id: string, part: 'url' | 'secret', stored: unknown) => open(keyring, stored, sealContext(id, part)).toString('utf8');

  function requireAdmin(principal: Principal): void {
    if (!principal.isAdmin) throw new ForbiddenError('需要管理员权限 / administrator rights required');
  }

  /** The fields of a request body, checked; on a change (`current` given) what is absent keeps its current value. */
  async function fieldsOf(trx: Knex.Transaction, input: Record<string, unknown>, current: OpenedWebhook | undefined) {
    for (const key of Object.keys(input)) {
      if (!WRITABLE.has(key) && !READ_ONLY.has(key)) throw bad(key, '不是可设置的字段', 'is not a field of a notification webhook');
    }
    const has = (k: string) => input[k] !== undefined;
    const groupId = has('groupId') ? input.groupId : current?.groupId;
    if (typeof groupId !== 'string' || !groupId) throw bad('groupId', '必填，角色（组）的 id', 'is required: the id of a role (group)');
    if (!(await groupExists(trx, groupId))) throw bad('groupId', `角色 ${groupId} 不存在`, `no group with id ${groupId}`);
    const format = has('format') ? input.format : current?.format;
    if (!WEBHOOK_FORMATS.includes(format as WebhookFormat)) throw bad('format', '必须是 wecom、dingtalk 或 json', 'must be wecom, dingtalk or json');
    const name = has('name') ? input.name : current?.name ?? groupId;
    if (typeof name !== 'string' || !name.trim() || name.length > 100) throw bad('name', '必须是不超过 100 字符的文本', 'must be text of at most 100 characters');
    const enabled = has('enabled') ? input.enabled : current?.enabled ?? true;
    if (typeof enabled !== 'boolean') throw bad('enabled', '必须是 true 或 false', 'must be true or false');
    if (!has('url') && !current) throw bad('url', '必填', 'is required');
    const url = has('url') ? checkUrl(input.url).toString() : current!.url;
    // A secret of null or "" removes it; absent keeps it.
    if (input.secret !== undefined && input.secret !== null && (typeof input.secret !== 'string' || input.secret.length > 500)) {
      throw bad('secret', '必须是不超过 500 字符的文本', 'must be text of at most 500 characters');
    }
    const secret = input.secret === undefined ? current?.secret ?? null : (input.secret as string | null) || null;
    // Only 钉钉 signs with a secret; one kept for another format would be accepted and then ignored.
    if (secret && format !== 'dingtalk') throw bad('secret', '只有钉钉（dingtalk）机器人使用加签密钥', 'only dingtalk robots take a signing secret');
    return { groupId, format: format as WebhookFormat, name: name.trim(), enabled, url, secret, urlChanged: has('url'), secretChanged: input.secret !== undefined };
  }

  function opened(row: NotificationWebhookRow): OpenedWebhook {
    return {
      id: row.id, name: row.name, groupId: row.group_id, format: row.format as WebhookFormat, enabled: row.enabled,
      url: openText(row.id, 'url', row.url), secret: row.secret == null ? null : openText(row.id, 'secret', row.secret),
    };
  }

  function stored(id: string, f: Awaited<ReturnType<typeof fieldsOf>>) {
    const url = sealText(id, 'url', f.url);
    return {
      name: f.name, group_id: f.groupId, format: f.format, url, url_masked: maskUrl(new URL(f.url)),
      secret: f.secret ? sealText(id, 'secret', f.secret) : null, key_id: url.kid, enabled: f.enabled,
    };
  }

  const traced = (f: Awaited<ReturnType<typeof fieldsOf>>) => ({ name: f.name, groupId: f.groupId, format: f.format, enabled: f.enabled, urlChanged: f.urlChanged, secretChanged: f.secretChanged });

  return {
    formats: WEBHOOK_FORMATS,

    async list(principal: Principal, groupId?: string): Promise<NotificationWebhook[]> {
      requireAdmin(principal);
      return (await listNotificationWebhooks(db, groupId)).map(toDto);
    },

    async get(id: string, principal: Principal): Promise<NotificationWebhook> {
      requireAdmin(principal);
      const row = await findNotificationWebhook(db, id);
      if (!row) throw new NotFoundError(`通知 webhook 不存在 / no notification webhook with id ${id}`);
      return toDto(row);
    },

    async create(input: Record<string, unknown>, principal: Principal): Promise<NotificationWebhook> {
      requireAdmin(principal);
      return db.transaction(async (trx) => {
        const f = await fieldsOf(trx, input, undefined);
        const id = randomUUID();
        const now = await clock.now(trx);
        await insertNotificationWebhook(trx, { id, ...stored(id, f), created_at: now, updated_at: now });
        await trace.record(trx, principal, { operation: 'Create', entityType: 'NotificationWebhook', entityId: id, details: traced(f) });
        return toDto((await findNotificationWebhook(trx, id))!);
      });
    },

    /** Changes the fields given; an absent `url` or `secret` is kept, `secret: null` removes it. */
    async update(id: string, input: Record<string, unknown>, principal: Principal): Promise<NotificationWebhook> {
      requireAdmin(principal);
      return db.transaction(async (trx) => {
        const row = await findNotificationWebhook(trx, id, true);
        if (!row) throw new NotFoundError(`通知 webhook 不存在 / no notification webhook with id ${id}`);
        const f = await fieldsOf(trx, input, opened(row));
        await updateNotificationWebhook(trx, id, { ...stored(id, f), updated_at: await clock.now(trx) });
        await trace.record(trx, principal, { operation: 'Update', entityType: 'NotificationWebhook', entityId: id, details: traced(f) });
        return toDto((await findNotificationWebhook(trx, id))!);
      });
    },

    async remove(id: string, principal: Principal): Promise<void> {
      requireAdmin(principal);
      await db.transaction(async (trx) => {
        const row = await findNotificationWebhook(trx, id, true);
        if (!row || !(await deleteNotificationWebhook(trx, id))) throw new NotFoundError(`通知 webhook 不存在 / no notification webhook with id ${id}`);
        await trace.record(trx, principal, { operation: 'Delete', entityType: 'NotificationWebhook', entityId: id, details: { name: row.name, groupId: row.group_id, format: row.format } });
      });
    },

    /** A webhook with its URL and secret opened, for the sender; undefined once deleted. */
    async open(id: string): Promise<OpenedWebhook | undefined> {
      const row = await findNotificationWebhook(db, id);
      return row && opened(row);
    },
  };
}

export type NotificationWebhookService = ReturnType<typeof makeNotificationWebhookService>;

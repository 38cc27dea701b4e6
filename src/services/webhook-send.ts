import { createHmac } from 'node:crypto';
import type { NotificationOutboxRow } from '../store/notifications.ts';
import { UndeliverableError, type SendMail } from './notification-sender.ts';
import type { NotificationWebhookService, OpenedWebhook } from './notification-webhooks.ts';

/** The outbox `address` of a message to NOTIFY_WEBHOOK_URL (a role webhook's is its id). */
export const WEBHOOK_GLOBAL = 'global';

/**
 * A notification event as a webhook message carries it, written into the
 * outbox row (`payload`) when the event happens. The generic JSON format
 * posts exactly this.
 */
export interface WebhookPayload {
  idempotencyKey: string;
  event: string;
  title: string;
  body: string;
  taskId: string | null;
  processInstanceId: string | null;
  /** The users the event notifies in-app. */
  recipients: string[];
  /** PUBLIC_BASE_URL plus the web app's path; only the path when PUBLIC_BASE_URL is unset. */
  link: string;
  /** The role a role webhook posts for; absent for NOTIFY_WEBHOOK_URL. */
  groupId?: string;
  created: string;
}

/** How long one post may take before it counts as failed (and is retried). */
const TIMEOUT_MS = 10_000;
/** 企业微信 refuses markdown over 4096 bytes; cut the body well below it. */
const MAX_BODY_CHARS = 1200;

const cut = (text: string) => (text.length > MAX_BODY_CHARS ? `${text.slice(0, MAX_BODY_CHARS)}…` : text);
const absolute = (link: string) => /^https?:\/\//.test(link);
const linkLine = (p: WebhookPayload) => (absolute(p.link) ? `\n\n[打开 / Open](${p.link})` : '');

/** The body a robot of `format` takes (企业微信 group robot, 钉钉 custom robot: markdown), or our JSON. */
export function webhookBody(format: OpenedWebhook['format'], p: WebhookPayload): unknown {
  if (format === 'wecom') return { msgtype: 'markdown', markdown: { content: `**${p.title}**\n${cut(p.body)}${linkLine(p)}` } };
  if (format === 'dingtalk') return { msgtype: 'markdown', markdown: { title: p.title, text: `#### ${p.title}\n\n${cut(p.body)}${linkLine(p)}` } };
  return p;
}

/**
 * 钉钉's signature ("加签"): base64(HMAC-SHA256(secret, timestamp + "\n" +
 * secret)), URL-encoded, sent with `timestamp` (milliseconds) in the query.
 * 钉钉 refuses a timestamp more than an hour from its own clock, so this is
 * the wall clock, not the scheduler's (which tests move).
 */
export function dingtalkSignedUrl(url: string, secret: string, timestamp = Date.now()): string {
  const sign = createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
  return `${url}${url.includes('?') ? '&' : '?'}timestamp=${timestamp}&sign=${encodeURIComponent(sign)}`;
}

/**
 * Posts one message; throws on anything but a 2xx, and for the robots also
 * on a reply whose `errcode` is not 0 (企业微信 and 钉钉 answer 200 with
 * an error code when they refuse a message). Errors never quote the URL:
 * a 企业微信 robot's key is in it, and errors are stored and logged.
 */
async function post(url: string, body: unknown, key: string, robot: boolean): Promise<void> {
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST', redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS),
      headers: { 'Content-Type': 'application/json; charset=utf-8', 'Idempotency-Key': key },
      body: JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause;
    const why = cause?.code ?? ((err as Error).name === 'TimeoutError' ? 'timeout' : 'network error');
    throw new Error(`webhook 连接失败 / webhook unreachable: ${why}`);
  }
  const text = await res.text().catch(() => '');
  if (res.status < 200 || res.status > 299) throw new Error(`webhook 答复 HTTP ${res.status} / webhook answered HTTP ${res.status}`);
  if (!robot) return;
  let reply: { errcode?: unknown; errmsg?: unknown };
  try {
    reply = JSON.parse(text);
  } catch {
    throw new Error('机器人的答复不是 JSON / the robot answered something other than JSON');
  }
  if (reply.errcode !== 0) throw new Error(`机器人拒收 / the robot refused: errcode ${String(reply.errcode)} ${String(reply.errmsg ?? '').slice(0, 200)}`);
}

/**
 * The webhook channel of the outbox sender: NOTIFY_WEBHOOK_URL gets our JSON,
 * a role webhook the format it is set to, its URL and secret opened only
 * here, at sending. A message for a webhook since deleted or disabled (or a
 * global URL since unset) is given up at once rather than retried.
 */
export function makeWebhookSend(webhooks: Pick<NotificationWebhookService, 'open'>, globalUrl: string | undefined): SendMail {
  return async (row: NotificationOutboxRow) => {
    const payload = row.payload as WebhookPayload;
    if (row.address === WEBHOOK_GLOBAL) {
      if (!globalUrl) throw new UndeliverableError('NOTIFY_WEBHOOK_URL 已不再设置 / NOTIFY_WEBHOOK_URL is no longer set');
      return post(globalUrl, payload, row.idempotency_key, false);
    }
    const hook = await webhooks.open(row.address);
    if (!hook) throw new UndeliverableError('webhook 已删除 / the webhook was deleted');
    if (!hook.enabled) throw new UndeliverableError('webhook 已停用 / the webhook was disabled');
    const url = hook.format === 'dingtalk' && hook.secret ? dingtalkSignedUrl(hook.url, hook.secret) : hook.url;
    await post(url, webhookBody(hook.format, payload), row.idempotency_key, hook.format !== 'json');
  };
}

import { DateTime, IANAZone } from 'luxon';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { ValidationError } from '../errors.ts';
import { findPreferences, savePreferences, type PreferencesRow } from '../store/notification-preferences.ts';
import type { Principal } from '../types.ts';
import type { TraceService } from './trace.ts';

/*
 * Per-user notification preferences (docs/notifications.md): email on or
 * off, and quiet hours during which mail is held, not dropped, until they
 * end. In-app notifications (站内信) are always on: they are the record of
 * one's work, and the bell is the place one looks, so they cannot be turned
 * off. Everyone reads and writes only their own.
 */

export const DEFAULT_TIME_ZONE = 'Asia/Shanghai';

export interface Preferences {
  inApp: true;
  email: boolean;
  quietHours: { start: string; end: string; timeZone: string } | null;
}

const HHMM = /^([01]\d|2[0-3]):[0-5]\d$/;

export function preferencesOf(row: PreferencesRow | undefined): Preferences {
  return {
    inApp: true, email: row?.email ?? true,
    quietHours: row?.quiet_start && row.quiet_end ? { start: row.quiet_start, end: row.quiet_end, timeZone: row.time_zone } : null,
  };
}

/**
 * Until when mail to someone with these quiet hours waits, if `now` falls in
 * them; undefined when it may go now. A period may run over midnight
 * (22:00–07:00); it ends at its end time on the next such clock reading.
 */
export function quietUntil(prefs: Preferences, now: Date): Date | undefined {
  const q = prefs.quietHours;
  if (!q) return undefined;
  const local = DateTime.fromJSDate(now).setZone(q.timeZone);
  const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3));
  const [start, end, t] = [minutes(q.start), minutes(q.end), local.hour * 60 + local.minute];
  const quiet = start < end ? t >= start && t < end : t >= start || t < end;
  if (!quiet) return undefined;
  let until = local.set({ hour: Math.floor(end / 60), minute: end % 60, second: 0, millisecond: 0 });
  if (until <= local) until = until.plus({ days: 1 });
  return until.toJSDate();
}

function parse(body: unknown): Omit<PreferencesRow, 'user_id' | 'updated_at'> {
  const refuse = (zh: string, en: string): never => { throw new ValidationError(`${zh} / ${en}`); };
  if (!body || typeof body !== 'object' || Array.isArray(body)) refuse('请求体必须是 JSON 对象', 'the body must be a JSON object');
  const b = body as Record<string, unknown>;
  for (const k of Object.keys(b)) if (!['inApp', 'email', 'quietHours'].includes(k)) refuse(`未知字段 ${k}`, `unknown field ${k}`);
  if (b.inApp !== undefined && b.inApp !== true) refuse('站内信不能关闭（inApp 只能为 true）', 'in-app notifications cannot be turned off (inApp must be true)');
  if (typeof b.email !== 'boolean') refuse('email 必须是 true 或 false', 'email must be true or false');
  const q = b.quietHours;
  if (q === null || q === undefined) return { email: b.email as boolean, quiet_start: null, quiet_end: null, time_zone: DEFAULT_TIME_ZONE };
  if (typeof q !== 'object' || Array.isArray(q)) refuse('quietHours 必须是对象或 null', 'quietHours must be an object or null');
  const { start, end, timeZone = DEFAULT_TIME_ZONE, ...rest } = q as Record<string, unknown>;
  if (Object.keys(rest).length) refuse(`quietHours 中的未知字段 ${Object.keys(rest)[0]}`, `unknown field quietHours.${Object.keys(rest)[0]}`);
  if (typeof start !== 'string' || !HHMM.test(start)) refuse('quietHours.start 必须是 HH:mm（如 22:00）', 'quietHours.start must be HH:mm (22:00)');
  if (typeof end !== 'string' || !HHMM.test(end)) refuse('quietHours.end 必须是 HH:mm（如 07:30）', 'quietHours.end must be HH:mm (07:30)');
  if (start === end) refuse('quietHours 的开始与结束不能相同', 'quietHours.start and end must differ');
  if (typeof timeZone !== 'string' || !IANAZone.isValidZone(timeZone)) refuse('quietHours.timeZone 必须是 IANA 时区（如 Asia/Shanghai）', 'quietHours.timeZone must be an IANA zone (Asia/Shanghai)');
  return { email: b.email as boolean, quiet_start: start as string, quiet_end: end as string, time_zone: timeZone as string };
}

export function makeNotificationPreferenceService(db: Knex, clock: Clock, trace: TraceService) {
  return {
    async get(principal: Principal): Promise<Preferences> {
      return preferencesOf(await findPreferences(db, principal.userId));
    },
    /** Replaces the caller's preferences whole; traced. */
    async put(body: unknown, principal: Principal): Promise<Preferences> {
      const values = parse(body);
      await db.transaction(async (trx) => {
        await savePreferences(trx, { user_id: principal.userId, ...values }, await clock.now(trx));
        await trace.record(trx, principal, { operation: 'UpdateNotificationPreferences', entityType: 'NotificationPreferences', entityId: principal.userId, details: { ...values } });
      });
      return preferencesOf({ user_id: principal.userId, ...values, updated_at: new Date() });
    },
  };
}

export type NotificationPreferenceService = ReturnType<typeof makeNotificationPreferenceService>;

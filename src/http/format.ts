import type { Context } from 'koa';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { TypedValue, Variables } from '../types.ts';

/**
 * The zone dates are shown in: the server's TIMEZONE, the setting timers use
 * too, set from the checked configuration when the app is made (setDateZone).
 */
let offsetFormatter = formatterFor('Asia/Shanghai');

/** Shows API dates in `zone` (the configuration's TIMEZONE, already validated). */
export function setDateZone(zone: string): void {
  offsetFormatter = formatterFor(zone);
}

function formatterFor(zone: string): Intl.DateTimeFormat {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' });
  } catch {
    return new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Shanghai', timeZoneName: 'longOffset' });
  }
}

/** Camunda 7's date format `yyyy-MM-dd'T'HH:mm:ss.SSSZ`, in the server's zone (TIMEZONE, default Asia/Shanghai). */
export function formatDate(value: Date | string | null | undefined): string | null {
  if (value == null) return null;
  const d = value instanceof Date ? value : new Date(value);
  if (Number.isNaN(d.getTime())) return null;
  const name = offsetFormatter.formatToParts(d).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name);
  const sign = m?.[1] === '-' ? -1 : 1;
  const minutes = m ? sign * (Number(m[2]) * 60 + Number(m[3])) : 0;
  const local = new Date(d.getTime() + minutes * 60_000).toISOString().slice(0, 23);
  const abs = Math.abs(minutes);
  return `${local}${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}${String(abs % 60).padStart(2, '0')}`;
}

/** Variables in Camunda's REST shape `{ name: { value, type, valueInfo } }`. */
export function formatVariables(variables: Variables): Record<string, { value: unknown; type: string; valueInfo: object }> {
  const out: Record<string, { value: unknown; type: string; valueInfo: object }> = {};
  for (const [name, v] of Object.entries(variables)) {
    let value = v.value;
    if (v.type === 'Date') value = formatDate(v.value as string);
    if (v.type === 'Json') value = JSON.stringify(v.value);
    out[name] = { value, type: v.type, valueInfo: v.valueInfo ?? {} };
  }
  return out;
}

/**
 * Camunda's `…/variables/{name}/data`: the content of a Bytes or File
 * variable as bytes. Always an attachment, never rendered: the MIME type is
 * whatever the uploader claimed.
 */
export function sendVariableData(ctx: Context, name: string, v: TypedValue | undefined): void {
  if (!v) throw new NotFoundError(`变量不存在 / no variable ${name}`);
  if (v.type !== 'Bytes' && v.type !== 'File') {
    throw new ValidationError(`变量 ${name} 不是二进制变量 / variable ${name} is not a binary variable (Bytes or File)`);
  }
  ctx.body = Buffer.from(typeof v.value === 'string' ? v.value : '', 'base64');
  ctx.type = v.valueInfo?.mimeType ?? 'application/octet-stream';
  ctx.attachment(v.valueInfo?.filename ?? name);
  ctx.set('X-Content-Type-Options', 'nosniff');
}

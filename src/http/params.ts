import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';
import { parseDate } from '../services/variables.ts';

/** Query-string readers that answer a bad value with a 400 naming the parameter. */
export function queryOf(ctx: Context) {
  const raw = (name: string): string | undefined => {
    const v = ctx.query[name];
    return Array.isArray(v) ? v[v.length - 1] : v;
  };
  return {
    string: (name: string) => {
      const v = raw(name);
      return v === undefined || v === '' ? undefined : v;
    },
    bool: (name: string): boolean | undefined => {
      const v = raw(name);
      if (v === undefined || v === '') return undefined;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new ValidationError(`参数 ${name} 必须是 true 或 false / parameter ${name} must be true or false, got "${v}"`);
    },
    int: (name: string, min = 0): number | undefined => {
      const v = raw(name);
      if (v === undefined || v === '') return undefined;
      return checkInt(name, Number(v), min, v);
    },
    /** A Camunda date (`2026-11-25T11:57:14.149+0800`) or ISO 8601, in years 1–9999. */
    date: (name: string): Date | undefined => {
      const v = raw(name);
      if (v === undefined || v === '') return undefined;
      return checkDate(name, v);
    },
    list: (name: string): string[] | undefined => {
      const v = raw(name);
      return v === undefined || v === '' ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean);
    },
    oneOf: <T extends string>(name: string, allowed: readonly T[]): T | undefined => {
      const v = raw(name);
      if (v === undefined || v === '') return undefined;
      if (!(allowed as readonly string[]).includes(v)) {
        throw new ValidationError(`参数 ${name} 必须是 ${allowed.join(', ')} 之一 / parameter ${name} must be one of ${allowed.join(', ')}`);
      }
      return v as T;
    },
  };
}

/** The largest integer the database's integer columns hold; larger is a client's mistake, not a 500. */
const INT_MAX = 2 ** 31 - 1;

/** `n` as an integer in [max(min, -2^31), 2^31-1], or a 400 naming the parameter. */
export function checkInt(name: string, n: unknown, min = 0, shown: unknown = n): number {
  const low = Math.max(min, -INT_MAX - 1);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < low || n > INT_MAX) {
    throw new ValidationError(`参数 ${name} 必须是 ${low} 到 ${INT_MAX} 之间的整数 / parameter ${name} must be an integer from ${low} to ${INT_MAX}, got ${JSON.stringify(shown)}`);
  }
  return n;
}

/** `value` as a date (Camunda's `2026-11-25T11:57:14.149+0800` or ISO 8601, years 1–9999), or a 400 naming the parameter. */
export function checkDate(name: string, value: unknown): Date {
  const d = typeof value === 'string' ? parseDate(value) : null;
  if (!d) {
    throw new ValidationError(`参数 ${name} 不是有效日期 / parameter ${name} must be a date such as 2026-12-01T09:00:00.000+0800, got ${JSON.stringify(value)}`);
  }
  return d;
}

/** The JSON body as an object, or a 400 saying it must be one. */
export function bodyObject(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as { body?: unknown }).body;
  if (body == null || (typeof body === 'object' && Object.keys(body as object).length === 0 && !ctx.request.length)) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new ValidationError('请求体必须是 JSON 对象 / request body must be a JSON object');
  return body as Record<string, unknown>;
}

/** Reads `sortBy` / `sortOrder` the Camunda way: both or neither. */
export function sortingOf<K extends string>(ctx: Context, columns: Record<K, string>): { column: string; order: 'asc' | 'desc' }[] | undefined {
  const q = queryOf(ctx);
  const by = q.oneOf('sortBy', Object.keys(columns) as K[]);
  const order = q.oneOf('sortOrder', ['asc', 'desc'] as const);
  if (!by && !order) return undefined;
  if (!by || !order) throw new ValidationError('sortBy 和 sortOrder 必须同时给出 / sortBy and sortOrder must be given together');
  return [{ column: columns[by], order }];
}

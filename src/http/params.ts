import type { Context } from 'koa';
import { ValidationError } from '../errors.ts';
import { parseDate } from '../services/variables.ts';

/** A query's typed readers, whichever source they read: a bad value is a 400 naming the parameter. */
export interface Params {
  string(name: string): string | undefined;
  bool(name: string): boolean | undefined;
  int(name: string, min?: number): number | undefined;
  /** A Camunda date (`2026-11-25T11:57:14.149+0800`) or ISO 8601, in years 1–9999. */
  date(name: string): Date | undefined;
  /** Comma-separated in a query string, a JSON array of strings in a body (Camunda's `...In` and `...Ids`). */
  list(name: string): string[] | undefined;
  oneOf<T extends string>(name: string, allowed: readonly T[]): T | undefined;
  /** `sortBy` + `sortOrder` in a query string; `sorting: [{ sortBy, sortOrder }]` in a body. */
  sorting<K extends string>(columns: Record<K, string>): { column: string; order: 'asc' | 'desc' }[] | undefined;
  /** The value as given, for a criterion shaped unlike the others (Camunda's `variableValues`): text in a query string, JSON in a body. */
  raw(name: string): unknown;
}

const oneOfError = (name: string, allowed: readonly string[]) =>
  new ValidationError(`参数 ${name} 必须是 ${allowed.join(', ')} 之一 / parameter ${name} must be one of ${allowed.join(', ')}`);

/** Query-string readers that answer a bad value with a 400 naming the parameter. */
export function queryOf(ctx: Context): Params {
  const raw = (name: string): string | undefined => {
    const v = ctx.query[name];
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    return last === '' ? undefined : last;
  };
  const params: Params = {
    string: (name) => raw(name),
    bool: (name) => {
      const v = raw(name);
      if (v === undefined) return undefined;
      if (v === 'true' || v === 'false') return v === 'true';
      throw new ValidationError(`参数 ${name} 必须是 true 或 false / parameter ${name} must be true or false, got "${v}"`);
    },
    int: (name, min = 0) => {
      const v = raw(name);
      return v === undefined ? undefined : checkInt(name, Number(v), min, v);
    },
    date: (name) => {
      const v = raw(name);
      return v === undefined ? undefined : checkDate(name, v);
    },
    list: (name) => raw(name)?.split(',').map((s) => s.trim()).filter(Boolean),
    oneOf: (name, allowed) => {
      const v = raw(name);
      if (v === undefined) return undefined;
      if (!(allowed as readonly string[]).includes(v)) throw oneOfError(name, allowed);
      return v as (typeof allowed)[number];
    },
    sorting: (columns) => {
      const by = params.oneOf('sortBy', Object.keys(columns) as (keyof typeof columns & string)[]);
      const order = params.oneOf('sortOrder', ['asc', 'desc'] as const);
      if (!by && !order) return undefined;
      if (!by || !order) throw new ValidationError('sortBy 和 sortOrder 必须同时给出 / sortBy and sortOrder must be given together');
      return [{ column: columns[by], order }];
    },
    raw: (name) => raw(name),
  };
  return params;
}

/**
 * The same readers over Camunda's JSON query body (`POST /process-instance` and the like), typed as
 * Camunda's DTOs are: strings, booleans, numbers, arrays of strings. `read` collects every name asked
 * for, so that paramsOf can refuse the fields no filter read.
 */
function bodyParamsOf(body: Record<string, unknown>, read: Set<string>): Params {
  const value = (name: string): unknown => {
    read.add(name);
    const v = body[name];
    return v === null || v === '' ? undefined : v;
  };
  const typed = <T>(name: string, ok: (v: unknown) => boolean, what: string): T | undefined => {
    const v = value(name);
    if (v === undefined) return undefined;
    if (!ok(v)) throw new ValidationError(`${name} 必须是${what.split('/')[0]} / ${name} must be ${what.split('/')[1]}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  return {
    string: (name) => typed<string>(name, (v) => typeof v === 'string', '文本/a string'),
    bool: (name) => typed<boolean>(name, (v) => typeof v === 'boolean', ' true 或 false/true or false'),
    int: (name, min = 0) => {
      const v = value(name);
      return v === undefined ? undefined : checkInt(name, v, min);
    },
    date: (name) => {
      const v = value(name);
      return v === undefined ? undefined : checkDate(name, v);
    },
    list: (name) => typed<string[]>(name, (v) => Array.isArray(v) && v.every((x) => typeof x === 'string'), '文本数组/an array of strings'),
    oneOf: (name, allowed) => {
      const v = typed<string>(name, (x) => typeof x === 'string', '文本/a string');
      if (v !== undefined && !(allowed as readonly string[]).includes(v)) throw oneOfError(name, allowed);
      return v as (typeof allowed)[number] | undefined;
    },
    sorting: (columns) => {
      const list = value('sorting');
      if (list === undefined) return undefined;
      if (!Array.isArray(list)) throw new ValidationError('sorting 必须是数组 / sorting must be an array of { sortBy, sortOrder }');
      const sorting = list.map((s: { sortBy?: unknown; sortOrder?: unknown } | null) => {
        const column = typeof s?.sortBy === 'string' && Object.hasOwn(columns, s.sortBy) ? columns[s.sortBy as keyof typeof columns] : undefined;
        if (!column || (s?.sortOrder !== 'asc' && s?.sortOrder !== 'desc')) {
          throw new ValidationError(`排序无效 / invalid sorting ${JSON.stringify(s)}: sortBy one of ${Object.keys(columns).join(', ')}, sortOrder asc or desc`);
        }
        return { column: column as string, order: s.sortOrder as 'asc' | 'desc' };
      });
      return sorting.length ? sorting : undefined;
    },
    raw: (name) => value(name),
  };
}

/**
 * Runs one filter parser over either form of a Camunda query: the query string of `GET /x`, or the
 * JSON body of `POST /x`. Camunda ignores body fields it does not know; here a field no filter read
 * is a 400 naming it, since a criterion dropped in silence would answer with the wrong rows.
 */
export function paramsOf<T>(ctx: Context, parse: (q: Params) => T): T {
  if (ctx.method !== 'POST') return parse(queryOf(ctx));
  const body = bodyObject(ctx);
  const read = new Set<string>();
  const parsed = parse(bodyParamsOf(body, read));
  const unknown = Object.keys(body).filter((k) => !read.has(k) && body[k] !== null);
  if (unknown.length) {
    throw new ValidationError(`不支持的查询条件 / query fields not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
  }
  return parsed;
}

/**
 * A query nested in a body (`processInstanceQuery` of the batch operations),
 * read by the same filter parser as its own endpoint; a field no filter read
 * is a 400 naming it, as for a query by body.
 */
export function nestedParamsOf<T>(raw: unknown, what: string, parse: (q: Params) => T): T | undefined {
  if (raw == null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError(`${what} 必须是对象 / ${what} must be an object`);
  const body = raw as Record<string, unknown>;
  const read = new Set<string>();
  const parsed = parse(bodyParamsOf(body, read));
  const unknown = Object.keys(body).filter((k) => !read.has(k) && body[k] !== null);
  if (unknown.length) {
    throw new ValidationError(`${what} 不支持的查询条件 / ${what}: fields not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
  }
  return parsed;
}

/** `firstResult` / `maxResults`: always query parameters, also for a query by body, as in Camunda. */
export function pagingOf(ctx: Context): { firstResult: number | undefined; maxResults: number | undefined } {
  const q = queryOf(ctx);
  return { firstResult: q.int('firstResult'), maxResults: q.int('maxResults') };
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
  return queryOf(ctx).sorting(columns);
}

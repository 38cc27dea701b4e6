import type { Context, Next } from 'koa';
import { ValidationError } from '../errors.ts';

/**
 * How deep a JSON body may nest. A Camunda variable map is three levels
 * (`variables.name.value`); 64 leaves room for any real JSON value while a
 * body nested 10 000 deep, which recursive code further on (serializers,
 * the engine) would overflow the stack on, is refused first.
 */
export const MAX_JSON_DEPTH = 64;

/**
 * Why `s` cannot be stored or compared as text, or null: PostgreSQL's text
 * refuses NUL, and a lone UTF-16 surrogate has no UTF-8 form at all.
 */
function textFault(s: string): [zh: string, en: string] | null {
  if (s.includes('\0')) return ['含有 NUL 字符', 'contains a NUL character'];
  if (!(s as unknown as { isWellFormed(): boolean }).isWellFormed()) return ['含有不成对的代理项', 'contains a lone surrogate'];
  return null;
}

/** `value` if it is text the database can hold, else a 400 naming the field (`zh` and `en` name it). */
export function checkText(zh: string, en: string, value: string): string {
  const fault = textFault(value);
  if (fault) throw new ValidationError(`${zh}${fault[0]} / ${en} ${fault[1]}`);
  return value;
}

/** A member path for messages: `variables.amount.value`, `items[3]`. */
const member = (path: string, key: string | number) => (typeof key === 'number' ? `${path}[${key}]` : path ? `${path}.${key}` : key);

/**
 * Checks a parsed JSON body without recursion (a deep body must not overflow
 * this check either): nesting at most MAX_JSON_DEPTH, every member name and
 * string free of NUL and lone surrogates, no `__proto__` member. A 400 names
 * the member.
 */
export function checkJson(body: unknown): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: body, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    const zh = path ? `请求体成员 ${path} ` : '请求体';
    const en = path ? `request body member ${path}` : 'request body';
    if (typeof value === 'string') {
      checkText(zh, en, value);
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_JSON_DEPTH) {
      throw new ValidationError(`${zh}嵌套超过 ${MAX_JSON_DEPTH} 层 / ${en} is nested deeper than ${MAX_JSON_DEPTH} levels`);
    }
    if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: member(path, i), depth: depth + 1 });
      continue;
    }
    for (const key of Object.keys(value)) {
      const at = member(path, key);
      if (key === '__proto__') throw new ValidationError(`请求体成员 ${at} 不能命名为 __proto__ / request body member ${at} must not be named __proto__`);
      checkText(`请求体成员名 ${path ? `${path} 下的` : ''}`, `a member name${path ? ` in ${path}` : ''}`, key);
      stack.push({ value: (value as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
}

/**
 * `raw` (percent-encoded, `+` for space when `plus`) decoded, or null when its
 * bytes are not UTF-8. A `%` not followed by two hex digits stays a `%`, as
 * Node's query parser keeps it.
 */
function decodeStrict(raw: string, plus: boolean): string | null {
  try {
    return decodeURIComponent((plus ? raw.replace(/\+/g, ' ') : raw).replace(/%(?![0-9A-Fa-f]{2})/g, '%25'));
  } catch {
    return null;
  }
}

/**
 * The rule for every string in a request line, before authentication and
 * routing: each path segment and each query name and value must decode to
 * UTF-8 text without NUL (otherwise Node and the router would quietly put
 * U+FFFD in its place, or the database would fail with a 500). A 400 names
 * the segment or parameter.
 */
export async function wellFormedRequestLine(ctx: Context, next: Next): Promise<void> {
  const segments = ctx.path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = decodeStrict(segments[i], false);
    if (segment === null) throw new ValidationError(`路径第 ${i} 段不是有效的 UTF-8 / path segment ${i} is not valid UTF-8`);
    checkText(`路径第 ${i} 段`, `path segment ${i}`, segment);
  }
  if (ctx.querystring) {
    for (const pair of ctx.querystring.split('&')) {
      const eq = pair.indexOf('=');
      const name = decodeStrict(eq < 0 ? pair : pair.slice(0, eq), true);
      if (name === null) throw new ValidationError('查询参数名不是有效的 UTF-8 / a query parameter name is not valid UTF-8');
      checkText('查询参数名', 'a query parameter name', name);
      const value = eq < 0 ? '' : decodeStrict(pair.slice(eq + 1), true);
      if (value === null) throw new ValidationError(`参数 ${name} 不是有效的 UTF-8 / parameter ${name} is not valid UTF-8`);
      checkText(`参数 ${name} `, `parameter ${name}`, value);
    }
  }
  await next();
}

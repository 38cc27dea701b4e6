import type { Context, Next } from 'koa';
import { ValidationError } from '../errors.ts';
import { checkText } from '../well-formed.ts';

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

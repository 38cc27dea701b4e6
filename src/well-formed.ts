import { ValidationError } from './errors.ts';

/*
 * Text and JSON that every layer can hold: the checks shared by the HTTP
 * layer (requests) and the variable rules (a Json variable sent as text).
 */

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

/** What a JSON value is, for messages: the request body, or a variable of type Json sent as text. */
export interface JsonSource {
  zh: string;
  en: string;
}
export const REQUEST_BODY: JsonSource = { zh: '请求体', en: 'request body' };

/**
 * Checks parsed JSON without recursion (a deep value must not overflow this
 * check either): nesting at most MAX_JSON_DEPTH, every member name and
 * string free of NUL and lone surrogates, no `__proto__` member. A 400 names
 * the member.
 */
export function checkJson(json: unknown, source: JsonSource = REQUEST_BODY): void {
  const stack: { value: unknown; path: string; depth: number }[] = [{ value: json, path: '', depth: 0 }];
  while (stack.length) {
    const { value, path, depth } = stack.pop()!;
    const zh = path ? `${source.zh}成员 ${path} ` : source.zh;
    const en = path ? `${source.en} member ${path}` : source.en;
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
      if (key === '__proto__') throw new ValidationError(`${source.zh}成员 ${at} 不能命名为 __proto__ / ${source.en} member ${at} must not be named __proto__`);
      checkText(`${source.zh}${path ? ` ${path} 下的` : ''}成员名`, `a member name in ${source.en}${path ? ` ${path}` : ''}`, key);
      stack.push({ value: (value as Record<string, unknown>)[key], path: at, depth: depth + 1 });
    }
  }
}


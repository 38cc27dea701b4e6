import { strictBase64 } from '../crypto/envelope.ts';
import { ValidationError } from '../errors.ts';
import { checkJson } from '../well-formed.ts';
import { variableTypes, type FileValueInfo, type TypedValue, type Variables, type VariableType } from '../types.ts';

const typeByLowerName = new Map(variableTypes.map((t) => [t.toLowerCase(), t]));
const INT32 = { min: -(2 ** 31), max: 2 ** 31 - 1 };
const INT16 = { min: -(2 ** 15), max: 2 ** 15 - 1 };

/**
 * Parses Camunda 7's variable map `{ name: { value, type, valueInfo } }`.
 * Type names are accepted in either initial case ("string" or "String"); an
 * omitted type is inferred from the JSON value, as Camunda does.
 * Throws ValidationError naming the variable and what is wrong with it.
 */
export function parseVariables(input: unknown, what = 'variables'): Variables {
  if (input == null) return {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new ValidationError(`${what} 必须是对象 / ${what} must be an object of { name: { value, type } }`);
  }
  const result: Variables = {};
  for (const [name, raw] of Object.entries(input as Record<string, unknown>)) {
    if (!name || name.length > 255) throw new ValidationError(`变量名无效 / invalid variable name "${name}"`);
    if (raw == null || typeof raw !== 'object' || Array.isArray(raw)) {
      throw new ValidationError(`变量 ${name} 必须是 { value, type } / variable ${name} must be an object { value, type }`);
    }
    const { value, type, valueInfo } = raw as { value?: unknown; type?: unknown; valueInfo?: unknown };
    result[name] = parseValue(name, value, type, valueInfo);
  }
  return result;
}

function parseValue(name: string, value: unknown, rawType: unknown, valueInfo: unknown): TypedValue {
  if (rawType == null || rawType === '') return inferType(value);
  const type = typeof rawType === 'string' ? typeByLowerName.get(rawType.toLowerCase()) : undefined;
  if (!type) {
    throw new ValidationError(
      `变量 ${name} 的类型 ${String(rawType)} 不受支持 / unsupported type ${String(rawType)} of variable ${name}; supported: ${variableTypes.join(', ')}`,
    );
  }
  const bad = (expected: string) =>
    new ValidationError(`变量 ${name} 的值不是 ${type} / value of variable ${name} is not a valid ${type}: expected ${expected}`);
  if (value == null && type === 'File') return { type, value: null, valueInfo: parseFileInfo(name, valueInfo) };
  if (value == null) return { type: type === 'Null' ? 'Null' : type, value: null };
  switch (type) {
    case 'String':
      if (typeof value !== 'string') throw bad('a string');
      return { type, value };
    case 'Boolean':
      if (typeof value === 'boolean') return { type, value };
      if (value === 'true' || value === 'false') return { type, value: value === 'true' };
      throw bad('true or false');
    case 'Integer':
    case 'Short':
    case 'Long': {
      const n = typeof value === 'string' && /^-?\d+$/.test(value.trim()) ? Number(value) : value;
      const range = type === 'Integer' ? INT32 : type === 'Short' ? INT16 : { min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER };
      if (typeof n !== 'number' || !Number.isInteger(n) || n < range.min || n > range.max) throw bad(`an integer in [${range.min}, ${range.max}]`);
      return { type, value: n };
    }
    case 'Double': {
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
      if (typeof n !== 'number' || !Number.isFinite(n)) throw bad('a number');
      return { type, value: n };
    }
    case 'Date': {
      const d = typeof value === 'string' || typeof value === 'number' ? parseDate(value) : null;
      if (!d) throw bad("a date such as 2026-11-25T09:30:00.000+0800");
      return { type, value: d.toISOString() };
    }
    case 'Json': {
      if (typeof value !== 'string') return { type, value };
      let parsed: unknown;
      try {
        parsed = JSON.parse(value);
      } catch {
        throw bad('a JSON text');
      }
      // Parsed here, not in the body: the same depth and text rules as a body's JSON.
      checkJson(parsed, { zh: `变量 ${name} 的值`, en: `the value of variable ${name}` });
      return { type, value: parsed };
    }
    case 'Bytes':
    case 'File': {
      // Camunda's REST carries binary content as base64 text; the engine sees that text too.
      if (typeof value !== 'string' || strictBase64(value) == null) throw bad('base64 text');
      return type === 'File' ? { type, value, valueInfo: parseFileInfo(name, valueInfo) } : { type, value };
    }
    case 'Null':
      throw bad('null');
  }
}

/** A File's `valueInfo`: `filename` is required, `mimeType` and `encoding` optional (as in Camunda). */
function parseFileInfo(name: string, raw: unknown): FileValueInfo {
  const info = (raw && typeof raw === 'object' ? raw : {}) as Record<string, unknown>;
  const text = (key: string, required: boolean) => {
    const v = info[key];
    if (v == null && !required) return undefined;
    if (typeof v !== 'string' || !v || v.length > 255) {
      throw new ValidationError(`文件变量 ${name} 的 valueInfo.${key} 无效 / variable ${name} of type File needs valueInfo.${key} as text of 1 to 255 characters`);
    }
    return v;
  };
  const filename = text('filename', true)!;
  const mimeType = text('mimeType', false);
  const encoding = text('encoding', false);
  return { filename, ...(mimeType ? { mimeType } : {}), ...(encoding ? { encoding } : {}) };
}

/** Years a date may have: what every database column and client can hold, and far beyond any deadline. */
const FIRST_YEAR = 1;
const LAST_YEAR = 9999;

/**
 * Camunda's date format `yyyy-MM-dd'T'HH:mm:ss.SSSZ` (offset without colon) and ISO 8601.
 * Null for anything else, including dates outside years 1–9999, which JavaScript
 * accepts but PostgreSQL refuses (a client's mistake must not become a 500).
 */
export function parseDate(value: string | number): Date | null {
  const text = typeof value === 'string' ? value.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2') : value;
  if (text === '') return null;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) return null;
  const year = d.getUTCFullYear();
  return year >= FIRST_YEAR && year <= LAST_YEAR ? d : null;
}

/** The Camunda type of a plain JSON value (for untyped input and engine-set variables). */
export function inferType(value: unknown): TypedValue {
  if (value == null) return { type: 'Null', value: null };
  if (typeof value === 'string') return { type: 'String', value };
  if (typeof value === 'boolean') return { type: 'Boolean', value };
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) return { type: 'Double', value };
    return { type: value >= INT32.min && value <= INT32.max ? 'Integer' : 'Long', value };
  }
  if (value instanceof Date) return { type: 'Date', value: value.toISOString() };
  return { type: 'Json', value };
}

/** Plain values as the engine's expressions see them. */
export function engineValues(variables: Variables): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, v.value]));
}

/** The names of the Date variables, which the engine holds as ISO text and its expressions read as Dates (ExecutionInfo.dates). */
export function dateNames(variables: Variables): string[] {
  return Object.entries(variables).filter(([, v]) => v.type === 'Date').map(([k]) => k);
}

/**
 * Variables the engine itself changed during a run (scripts, outputs):
 * anything new or different from what it was given, typed by inference.
 */
export function engineChanges(before: Variables, after: Record<string, unknown>): Variables {
  const changed: Variables = {};
  for (const [name, value] of Object.entries(after)) {
    const old = before[name];
    if (old && JSON.stringify(old.value) === JSON.stringify(value)) continue;
    changed[name] = old && sameKind(old.type, value) ? { type: old.type, value } : inferType(value);
  }
  return changed;
}

function sameKind(type: VariableType, value: unknown): boolean {
  const inferred = inferType(value).type;
  if (inferred === type) return true;
  const numeric = ['Integer', 'Short', 'Long', 'Double'];
  return (numeric.includes(type) && numeric.includes(inferred)) || (type === 'Date' && inferred === 'String');
}

/** Camunda's variable modification body `{ modifications, deletions }`. */
export function parseModifications(body: Record<string, unknown>): { modifications: Variables; deletions: string[] } {
  const deletions = body.deletions ?? [];
  if (!Array.isArray(deletions) || deletions.some((d) => typeof d !== 'string')) {
    throw new ValidationError('deletions 必须是变量名数组 / deletions must be an array of variable names');
  }
  return { modifications: parseVariables(body.modifications, 'modifications'), deletions };
}

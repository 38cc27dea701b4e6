/**
 * typeRef conversion as Camunda 7's data type transformers do it: null stays
 * null; string, boolean, integer, long, double and date convert or fail
 * (DMN-01005); any other typeRef (or none) leaves the value as it is.
 */
import { FeelDate, FeelDateTime, FeelDuration, FeelTime } from 'feelin';
import { dateTimeToDate, fromFeel } from './feel.ts';

export const KNOWN_TYPES = new Set(['string', 'boolean', 'integer', 'long', 'double', 'date']);

export class TypeConversionError extends Error {}

const INT_MAX = 2 ** 31 - 1;
const INT_MIN = -(2 ** 31);

/** The value a clause of type `typeRef` holds for `value` (FEEL, JUEL or variable value). */
export function convert(value: unknown, typeRef: string | null): unknown {
  if (value === null || value === undefined) return null;
  const type = typeRef?.toLowerCase();
  if (!type || !KNOWN_TYPES.has(type)) return fromFeel(value);
  const fail = (): never => {
    throw new TypeConversionError(`值 ${show(value)} 不是 ${typeRef} 类型 / DMN-01005 Invalid value '${show(value)}' for clause with type '${typeRef}'`);
  };
  switch (type) {
    case 'string':
      if (value instanceof Date) return value.toISOString();
      if (typeof value === 'object' && !(value instanceof FeelDateTime || value instanceof FeelDate || value instanceof FeelTime || value instanceof FeelDuration)) return JSON.stringify(value);
      return String(value);
    case 'boolean':
      if (typeof value === 'boolean') return value;
      if (typeof value === 'string' && /^(true|false)$/i.test(value)) return value.toLowerCase() === 'true';
      return fail();
    case 'integer':
    case 'long': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^[+-]?\d+$/.test(value.trim()) && value.trim() === value ? Number(value) : NaN;
      if (!Number.isInteger(n)) return fail();
      if (type === 'integer' && (n > INT_MAX || n < INT_MIN)) return fail();
      if (type === 'long' && !Number.isSafeInteger(n)) return fail();
      return n;
    }
    case 'double': {
      if (typeof value === 'number') return value;
      const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isNaN(n) ? fail() : n;
    }
    case 'date': {
      if (value instanceof Date) return value;
      if (value instanceof FeelDateTime) return dateTimeToDate(value);
      // Java's SimpleDateFormat("yyyy-MM-dd'T'HH:mm:ss") in the server's zone; it reads the prefix and ignores the rest.
      const m = typeof value === 'string' ? /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})/.exec(value) : null;
      if (!m) return fail();
      const [y, mo, d, h, mi, s] = m.slice(1).map(Number) as [number, number, number, number, number, number];
      const date = new Date(y, mo - 1, d, h, mi, s);
      if (date.getMonth() !== mo - 1 || date.getDate() !== d || h > 23 || mi > 59 || s > 59) return fail();
      return date;
    }
  }
  return fail();
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

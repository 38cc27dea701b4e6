import type { FormField } from '../types.ts';
import type { formatVariables } from './format.ts';

/**
 * Camunda's form-variables body: each form field by id, with its current
 * value or else its default, typed as Camunda types form field values.
 */
export function formVariablesDto(fields: FormField[], current: ReturnType<typeof formatVariables>, only?: string[]) {
  const out: Record<string, unknown> = {};
  for (const f of fields) {
    if (only && !only.includes(f.id)) continue;
    const type = { long: 'Long', boolean: 'Boolean', date: 'Date', enum: 'String', string: 'String' }[f.type] ?? 'String';
    out[f.id] = current[f.id] ?? { value: typedDefault(f), type, valueInfo: {} };
  }
  return out;
}

/** A default is text in the diagram; Camunda answers it as a value of the field's type (`"50"` of a long field is 50). */
function typedDefault(f: FormField): unknown {
  const text = f.defaultValue;
  if (text == null) return null;
  if (f.type === 'long' && /^-?\d+$/.test(String(text).trim())) return Number(String(text).trim());
  if (f.type === 'boolean' && /^(true|false)$/i.test(String(text).trim())) return String(text).trim().toLowerCase() === 'true';
  return text;
}

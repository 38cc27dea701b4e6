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
    out[f.id] = current[f.id] ?? { value: f.defaultValue, type, valueInfo: {} };
  }
  return out;
}

import { ValidationError } from '../errors.ts';
import type { FormField, TypedValue, Variables } from '../types.ts';
import { parseDate } from './variables.ts';

interface FieldProblem {
  field: string;
  message: string;
}

/**
 * Checks a submission against a task's `camunda:formField`s and converts
 * form values to the field's type (a long field given "3" stores Long 3).
 * Every problem is reported at once, in Chinese and English, so a form can
 * mark all wrong fields in one round.
 */
export function validateSubmission(fields: FormField[], submitted: Variables): Variables {
  const problems: FieldProblem[] = [];
  const result: Variables = { ...submitted };
  for (const field of fields) {
    const has = (name: string) => field.constraints.some((c) => c.name === name);
    const config = (name: string) => field.constraints.find((c) => c.name === name)?.config;
    const label = field.label ? `${field.label} (${field.id})` : field.id;
    if (has('readonly')) continue;
    const given = submitted[field.id];
    const empty = given == null || given.value == null || given.value === '';
    if (empty) {
      if (has('required')) problems.push({ field: field.id, message: `${label} 为必填项 / is required` });
      continue;
    }
    const converted = convert(field, given);
    if (typeof converted === 'string') {
      problems.push({ field: field.id, message: `${label}: ${converted}` });
      continue;
    }
    result[field.id] = converted;
    problems.push(...checkBounds(field.id, label, converted.value, config));
  }
  if (problems.length) {
    throw new ValidationError(
      `表单校验失败 / form validation failed: ${problems.map((p) => p.message).join('; ')}`,
      { fields: problems },
      'FormFieldValidationException',
    );
  }
  return result;
}

/** Returns the converted value, or a message saying why it cannot be converted. */
function convert(field: FormField, given: TypedValue): TypedValue | string {
  const v = given.value;
  switch (field.type) {
    case 'long': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v;
      return typeof n === 'number' && Number.isSafeInteger(n) ? { type: 'Long', value: n } : '必须是整数 / must be an integer';
    }
    case 'boolean':
      if (typeof v === 'boolean') return { type: 'Boolean', value: v };
      if (v === 'true' || v === 'false') return { type: 'Boolean', value: v === 'true' };
      return '必须是是/否 / must be true or false';
    case 'date': {
      const d = typeof v === 'string' || typeof v === 'number' ? parseDate(v) : null;
      return d ? { type: 'Date', value: d.toISOString() } : '必须是有效日期 / must be a valid date';
    }
    case 'enum': {
      const ids = field.values.map((o) => o.id);
      if (typeof v === 'string' && ids.includes(v)) return { type: 'String', value: v };
      const names = field.values.map((o) => (o.name ? `${o.id} (${o.name})` : o.id)).join(', ');
      return `必须是以下之一 / must be one of: ${names}`;
    }
    case 'string':
      return typeof v === 'string' ? { type: 'String', value: v } : '必须是文本 / must be text';
    default:
      return given; // custom form types are passed through unchecked, as in Camunda
  }
}

function checkBounds(id: string, label: string, value: unknown, config: (n: string) => string | null | undefined): FieldProblem[] {
  const problems: FieldProblem[] = [];
  const num = (n: string) => {
    const c = config(n);
    return c == null || c === '' ? undefined : Number(c);
  };
  const [minlength, maxlength, min, max] = [num('minlength'), num('maxlength'), num('min'), num('max')];
  if (typeof value === 'string') {
    if (minlength != null && [...value].length < minlength) problems.push({ field: id, message: `${label} 至少 ${minlength} 个字符 / needs at least ${minlength} characters` });
    if (maxlength != null && [...value].length > maxlength) problems.push({ field: id, message: `${label} 最多 ${maxlength} 个字符 / allows at most ${maxlength} characters` });
  }
  if (typeof value === 'number') {
    if (min != null && value < min) problems.push({ field: id, message: `${label} 不能小于 ${min} / must be at least ${min}` });
    if (max != null && value > max) problems.push({ field: id, message: `${label} 不能大于 ${max} / must be at most ${max}` });
  }
  return problems;
}

import type { TypedValue, VariableType } from '../types.ts';
import { inferType } from './variables.ts';

/** Camunda 7's DMN typeRefs and the value types they produce. */
const TYPE_REFS: Record<string, VariableType> = {
  string: 'String', boolean: 'Boolean', integer: 'Integer', long: 'Long', double: 'Double', date: 'Date',
};

const fits: Partial<Record<VariableType, (v: unknown) => boolean>> = {
  String: (v) => typeof v === 'string',
  Boolean: (v) => typeof v === 'boolean',
  Integer: (v) => typeof v === 'number' && Number.isInteger(v) && Math.abs(v) <= 2 ** 31,
  Long: (v) => typeof v === 'number' && Number.isSafeInteger(v),
  Double: (v) => typeof v === 'number' && Number.isFinite(v),
  Date: (v) => v instanceof Date && !Number.isNaN(v.getTime()),
};

/**
 * A value of an evaluation typed as Camunda types it: by its clause's typeRef
 * (an `integer` output is an Integer, a `long` one a Long), or, without one,
 * by the value itself (Integer, Double, String, Boolean, Date, Json, Null).
 */
export function typedDecisionValue(value: unknown, typeRef: string | null | undefined): TypedValue {
  if (value == null) return { type: 'Null', value: null };
  const type = typeRef ? TYPE_REFS[typeRef.toLowerCase()] : undefined;
  if (type && fits[type]?.(value)) return { type, value: value instanceof Date ? value.toISOString() : value };
  return inferType(value);
}

/** The typeRefs of a compiled decision's clauses: inputs by clause id, outputs by clause id and by output name. */
export interface ClauseTypes { inputs: Map<string, string>; outputs: Map<string, string> }

type Clause = { id?: unknown; name?: unknown; typeRef?: unknown };

/**
 * Reads the typeRefs from the compiled form (src/engine/dmn/model.ts: `inputs`
 * and `outputs` with `id`, `name`, `typeRef`); a form without them types
 * every value by itself.
 */
export function clauseTypes(compiled: string | undefined): ClauseTypes {
  const types: ClauseTypes = { inputs: new Map(), outputs: new Map() };
  let parsed: { inputs?: Clause[]; outputs?: Clause[] } = {};
  try {
    parsed = compiled ? JSON.parse(compiled) : {};
  } catch {
    return types;
  }
  for (const c of Array.isArray(parsed.inputs) ? parsed.inputs : []) {
    if (typeof c?.id === 'string' && typeof c.typeRef === 'string') types.inputs.set(c.id, c.typeRef);
  }
  for (const c of Array.isArray(parsed.outputs) ? parsed.outputs : []) {
    if (typeof c?.typeRef !== 'string') continue;
    if (typeof c.id === 'string') types.outputs.set(c.id, c.typeRef);
    if (typeof c.name === 'string') types.outputs.set(c.name, c.typeRef);
  }
  return types;
}

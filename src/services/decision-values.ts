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
 * by the value itself. An untyped number is what Camunda's FEEL engine hands
 * back (its value mapper turns a whole FEEL number into a Long, any other
 * into a Double) and what JUEL's arithmetic gives (Long, Double): never an
 * Integer, which only an `integer` typeRef (or COUNT) makes.
 */
export function typedDecisionValue(value: unknown, typeRef: string | null | undefined): TypedValue {
  if (value == null) return { type: 'Null', value: null };
  const type = typeRef ? TYPE_REFS[typeRef.toLowerCase()] : undefined;
  if (type && fits[type]?.(value)) return { type, value: value instanceof Date ? value.toISOString() : value };
  if (typeof value === 'number') return { type: Number.isInteger(value) ? 'Long' : 'Double', value };
  return inferType(value);
}

/**
 * The typeRefs of a compiled decision's clauses: inputs by clause id, outputs
 * by clause id and by output name; `count` when the result is a COLLECT COUNT,
 * which Camunda's CountAggregator answers as an Integer whatever the output's type.
 */
export interface ClauseTypes { inputs: Map<string, string>; outputs: Map<string, string>; count: boolean }

type Clause = { id?: unknown; name?: unknown; typeRef?: unknown };

/**
 * Reads the typeRefs from the compiled form (src/engine/dmn/model.ts: `inputs`
 * and `outputs` with `id`, `name`, `typeRef`, or a literal expression's
 * `variable` with `name`, `typeRef`); a form without them types
 * every value by itself.
 */
export function clauseTypes(compiled: string | undefined): ClauseTypes {
  const types: ClauseTypes = { inputs: new Map(), outputs: new Map(), count: false };
  let parsed: { inputs?: Clause[]; outputs?: Clause[]; variable?: Clause; aggregation?: unknown } = {};
  try {
    parsed = compiled ? JSON.parse(compiled) : {};
  } catch {
    return types;
  }
  types.count = parsed.aggregation === 'COUNT';
  for (const c of Array.isArray(parsed.inputs) ? parsed.inputs : []) {
    if (typeof c?.id === 'string' && typeof c.typeRef === 'string') types.inputs.set(c.id, c.typeRef);
  }
  // A literal expression's result is named by its variable, typed by the variable's typeRef.
  const outputs = Array.isArray(parsed.outputs) ? parsed.outputs : parsed.variable && typeof parsed.variable === 'object' ? [parsed.variable] : [];
  for (const c of outputs) {
    if (typeof c?.typeRef !== 'string') continue;
    if (typeof c.id === 'string') types.outputs.set(c.id, c.typeRef);
    if (typeof c.name === 'string') types.outputs.set(c.name, c.typeRef);
  }
  return types;
}

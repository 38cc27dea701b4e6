import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.ts';
import { countVariableInstances, queryVariableInstances, type VariableInstanceQuery, type VariableInstanceRow } from '../store/variables.ts';
import type { Principal, TypedValue } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { visibility } from './instances.ts';
import type { VariableVault } from './sealed-variables.ts';

/**
 * Camunda's runtime variable instances (`/variable-instance`): the
 * variables of running instances the caller may see, opened as the
 * instance's own variable routes open them.
 *
 * Our variables have no id column: a variable is one name in one instance
 * (only instance-scoped variables are stored in `variables`), so its id is
 * `${processInstanceId}:${name}`, stable for the variable's life and the same
 * id `/history/variable-instance` gives it. Instance ids never hold `:`, so
 * the first `:` splits it back.
 */
export type VariableInstance = Omit<VariableInstanceRow, 'value' | 'key_id'> & TypedValue & { id: string };

export const VALUE_OPERATORS = ['eq', 'neq', 'gt', 'gteq', 'lt', 'lteq', 'like'] as const;
export interface ValueCondition { name: string; operator: (typeof VALUE_OPERATORS)[number]; value: unknown }

export type VariableInstanceFilter = Omit<VariableInstanceQuery, 'visibleTo'> & {
  values?: ValueCondition[] | undefined;
  valuesIgnoreCase?: boolean | undefined;
};

export const variableInstanceId = (processInstanceId: string, name: string) => `${processInstanceId}:${name}`;

/** Camunda's `like` on a value: `%` any run, `_` one character, `\` escaping the next. */
function likeRegex(pattern: string, ignoreCase: boolean): RegExp {
  let re = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\' && i + 1 < pattern.length) re += pattern[++i].replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    else if (c === '%') re += '.*';
    else if (c === '_') re += '.';
    else re += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`, ignoreCase ? 'is' : 's');
}

/** Whether one variable's value meets one of Camunda's `variableValues` conditions. */
function meets(v: TypedValue, c: ValueCondition, ignoreCase: boolean): boolean {
  const value = v.value;
  const fold = (x: unknown) => (ignoreCase && typeof x === 'string' ? x.toLowerCase() : x);
  switch (c.operator) {
    case 'eq': return fold(value) === fold(c.value);
    case 'neq': return fold(value) !== fold(c.value);
    case 'like': return typeof value === 'string' && typeof c.value === 'string' && likeRegex(c.value, ignoreCase).test(value);
    default: {
      // Ordering compares numbers with numbers and text (dates are ISO text) with text, as Camunda compares typed values.
      if (typeof value !== typeof c.value || (typeof value !== 'number' && typeof value !== 'string')) return false;
      const [a, b] = [value as number | string, c.value as number | string];
      return c.operator === 'gt' ? a > b : c.operator === 'gteq' ? a >= b : c.operator === 'lt' ? a < b : a <= b;
    }
  }
}

export function makeVariableInstanceService(db: Knex, definitions: DefinitionService, vault: VariableVault) {
  async function opened(rows: VariableInstanceRow[]): Promise<VariableInstance[]> {
    const marked = new Map<string, ReadonlySet<string>>();
    for (const id of new Set(rows.map((r) => r.definition_id))) marked.set(id, (await definitions.load(id)).sensitive);
    return rows.map((row) => {
      const { key_id: _sealedUnder, value: _stored, ...rest } = row;
      return { ...rest, id: variableInstanceId(row.process_instance_id, row.name), ...vault.open(row.process_instance_id, row, marked.get(row.definition_id)!) };
    });
  }

  /**
   * The variables matching the filter. A `variableValues` condition is on
   * the variable itself, as in Camunda (its name and its value; several are
   * all to hold). Values are compared once opened (a sealed value cannot be
   * compared in SQL), so such a query pages after the comparison.
   */
  async function query(filter: VariableInstanceFilter, principal: Principal): Promise<VariableInstance[]> {
    const { values, valuesIgnoreCase, firstResult, maxResults, ...rest } = filter;
    const visibleTo = visibility(principal);
    if (!values?.length) return opened(await queryVariableInstances(db, { ...rest, firstResult, maxResults, visibleTo }));
    const fold = (n: string) => (rest.ignoreCase ? n.toLowerCase() : n);
    const named = (v: { name: string }, n: string) => fold(v.name) === fold(n);
    const candidates = await queryVariableInstances(db, { ...rest, names: [values[0].name], visibleTo });
    const matching = (await opened(candidates.filter((v) => !rest.names || rest.names.some((n) => named(v, n)))))
      .filter((v) => values.every((c) => named(v, c.name) && meets(v, c, valuesIgnoreCase ?? false)));
    const from = firstResult ?? 0;
    return matching.slice(from, maxResults == null ? undefined : from + maxResults);
  }

  return {
    query,
    async count(filter: Omit<VariableInstanceFilter, 'firstResult' | 'maxResults' | 'sorting'>, principal: Principal): Promise<number> {
      // Without a value condition nothing needs opening: counted in SQL, not by decrypting every value.
      const { values, valuesIgnoreCase: _ignored, ...rest } = filter;
      if (!values?.length) return countVariableInstances(db, { ...rest, visibleTo: visibility(principal) });
      return (await query(filter, principal)).length;
    },

    /** One variable instance by id, if its instance is running and the caller may see it. */
    async get(id: string, principal: Principal): Promise<VariableInstance> {
      const at = id.indexOf(':');
      const [instanceId, name] = at > 0 ? [id.slice(0, at), id.slice(at + 1)] : [null, null];
      const [found] = instanceId && name
        ? await opened(await queryVariableInstances(db, { names: [name], processInstanceIds: [instanceId], visibleTo: visibility(principal) }))
        : [];
      if (!found) throw new NotFoundError(`变量实例不存在 / variable instance with id ${id} does not exist`);
      return found;
    },
  };
}

export type VariableInstanceService = ReturnType<typeof makeVariableInstanceService>;

/** A `variableValues` entry as Camunda's query string writes it: `name_operator_value`. */
export function parseValueCondition(text: string): ValueCondition {
  const m = /^(.+?)_(eq|neq|gteq|gt|lteq|lt|like)_(.*)$/s.exec(text);
  if (!m) {
    throw new ValidationError(`variableValues 条目无效 / invalid variableValues entry "${text}": write name_operator_value, operator one of ${VALUE_OPERATORS.join(', ')}`);
  }
  // Camunda reads a query string's value as a number or boolean when it is one.
  const raw = m[3];
  const value = raw === 'true' ? true : raw === 'false' ? false : raw.trim() !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { name: m[1], operator: m[2] as ValueCondition['operator'], value };
}

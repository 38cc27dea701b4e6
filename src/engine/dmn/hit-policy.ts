/**
 * Hit policies as Camunda 7's DMN engine applies them to the rules that
 * matched (each with its evaluated output entries), plus PRIORITY and OUTPUT
 * ORDER as DMN 1.3 defines them (Camunda 7 refuses those two; see docs/dmn.md).
 */
import { DecisionEvaluationError } from './errors.ts';
import type { OutputClause, Rule, TableDecision } from './model.ts';

export interface Matched {
  rule: Rule;
  /** The non-empty output entries in output order (an empty cell gives no entry, as in Camunda). */
  entries: { output: OutputClause; value: unknown }[];
}

export interface HitResult {
  /** The rules that make the result (for an aggregation: all matched rules, whose outputs are recorded). */
  selected: Matched[];
  /** COLLECT with an aggregation: the result's name (null when no rule gave a value) and value. */
  collect: { output: OutputClause | null; value: number | null } | null;
}

export function applyHitPolicy(table: TableDecision, matched: Matched[]): HitResult {
  const ruleIds = () => matched.map((m) => m.rule.id).join(', ');
  switch (table.hitPolicy) {
    case 'UNIQUE':
      if (matched.length > 1) {
        throw new DecisionEvaluationError(
          `决策 ${table.key} 的命中策略 UNIQUE 只允许一条规则匹配，实际匹配了规则 ${ruleIds()} / DMN-03001 Hit policy 'UNIQUE' of decision ${table.key} only allows a single rule to match. Actually match rules: ${ruleIds()}`,
          table.key, matched.map((m) => m.rule.id));
      }
      return { selected: matched, collect: null };
    case 'ANY':
      if (matched.some((m) => !sameEntries(m, matched[0]!))) {
        throw new DecisionEvaluationError(
          `决策 ${table.key} 的命中策略 ANY 要求匹配的规则输出相同，规则 ${ruleIds()} 的输出不同 / DMN-03002 Hit policy 'ANY' of decision ${table.key} only allows multiple matching rules with equal output. Matching rules: ${ruleIds()}`,
          table.key, matched.map((m) => m.rule.id));
      }
      return { selected: matched.slice(0, 1), collect: null };
    case 'FIRST':
      return { selected: matched.slice(0, 1), collect: null };
    case 'PRIORITY':
      return { selected: byPriority(table, matched).slice(0, 1), collect: null };
    case 'OUTPUT ORDER':
      return { selected: byPriority(table, matched), collect: null };
    case 'RULE ORDER':
      return { selected: matched, collect: null };
    case 'COLLECT':
      return { selected: matched, collect: table.aggregation ? aggregate(table, matched) : null };
  }
}

function aggregate(table: TableDecision, matched: Matched[]): HitResult['collect'] {
  const aggregation = table.aggregation!;
  const values: { value: unknown; output: OutputClause }[] = [];
  for (const m of matched) {
    if (m.entries.length > 1) {
      throw new DecisionEvaluationError(
        `决策 ${table.key} 的聚合 ${aggregation} 不能用于多个输出（规则 ${m.rule.id}） / DMN-03003 Unable to execute aggregation '${aggregation}' on compound decision output of rule ${m.rule.id} in decision ${table.key}`,
        table.key, [m.rule.id]);
    }
    if (m.entries.length === 1) values.push(m.entries[0]!);
  }
  // Camunda names the result after the first matched rule that has an output value.
  const output = values[0]?.output ?? null;
  if (aggregation === 'COUNT') return { output: output ?? table.outputs[0] ?? null, value: values.length };
  if (values.length === 0) return { output: null, value: null };
  const numbers = values.map(({ value, output: o }) => toNumber(table, value, o));
  const value = aggregation === 'SUM' ? numbers.reduce((a, b) => a + b, 0) : aggregation === 'MIN' ? Math.min(...numbers) : Math.max(...numbers);
  return { output, value };
}

/** Integer, long and double values aggregate; an untyped value also when it reads as a number, as Camunda's Long.valueOf does. */
function toNumber(table: TableDecision, value: unknown, output: OutputClause): number {
  const type = output.typeRef?.toLowerCase();
  const typed = type && ['string', 'boolean', 'integer', 'long', 'double', 'date'].includes(type);
  if (typeof value === 'number' && (!typed || type === 'integer' || type === 'long' || type === 'double')) return value;
  if (!typed && typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) return Number(value);
  throw new DecisionEvaluationError(
    `决策 ${table.key} 的聚合 ${table.aggregation} 无法处理值 ${JSON.stringify(value)} / DMN-03004 Unable to convert value '${String(value)}' of decision ${table.key} to a supported type (integer, long, double) for aggregation ${table.aggregation}`,
    table.key);
}

/** Stable sort by the outputValues order of each output that has one, first output first (DMN 1.3, 8.2.11). */
function byPriority(table: TableDecision, matched: Matched[]): Matched[] {
  const rank = (m: Matched, output: OutputClause): number => {
    const list = output.priorities!;
    const entry = m.entries.find((e) => e.output.id === output.id);
    const index = entry ? list.findIndex((p) => p === entry.value) : -1;
    return index < 0 ? list.length : index;
  };
  const ordered = table.outputs.filter((o) => o.priorities);
  return matched
    .map((m, index) => ({ m, index }))
    .sort((a, b) => {
      for (const o of ordered) {
        const diff = rank(a.m, o) - rank(b.m, o);
        if (diff !== 0) return diff;
      }
      return a.index - b.index;
    })
    .map(({ m }) => m);
}

function sameEntries(a: Matched, b: Matched): boolean {
  if (a.entries.length !== b.entries.length) return false;
  return a.entries.every((e, i) => e.output.id === b.entries[i]!.output.id && sameValue(e.value, b.entries[i]!.value));
}

function sameValue(a: unknown, b: unknown): boolean {
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (a !== null && b !== null && typeof a === 'object' && typeof b === 'object') return JSON.stringify(a) === JSON.stringify(b);
  return a === b;
}

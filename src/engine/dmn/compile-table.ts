/**
 * Checks one decision table as Camunda 7's DMN transformer does, and more:
 * every expression and unary test is parsed now, so a table that deploys is
 * a table that can be evaluated. Each problem names the element it is about.
 */
import { findSyntaxError } from '../expressions.ts';
import { feelLiteral, feelSyntaxError } from './feel.ts';
import type { Aggregation, Expr, HitPolicy, InputClause, Language, OutputClause, Rule, TableDecision } from './model.ts';

export interface Problem { message: string; elementIds: string[] }
/** A moddle element: the parsed XML, loosely typed as moddle gives it. */
export type El = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const HIT_POLICIES = new Set<HitPolicy>(['UNIQUE', 'FIRST', 'PRIORITY', 'ANY', 'COLLECT', 'RULE ORDER', 'OUTPUT ORDER']);
const AGGREGATIONS = new Set<Aggregation>(['SUM', 'MIN', 'MAX', 'COUNT']);
const FEEL_LANGUAGES = new Set([
  'feel',
  'https://www.omg.org/spec/DMN/20191111/FEEL/',
  'http://www.omg.org/spec/DMN/20180521/FEEL/',
  'http://www.omg.org/spec/FEEL/20140401',
]);

/** Which language an expression is in, or null when it is one this server does not run (scripts). */
export function languageOf(declared: unknown, fallback: string | undefined): Language | null {
  const language = String(declared ?? fallback ?? 'feel').trim();
  if (FEEL_LANGUAGES.has(language) || language.toLowerCase() === 'feel') return 'feel';
  if (language.toLowerCase() === 'juel') return 'juel';
  return null;
}

/** Why an expression cannot be run, or null. */
export function expressionProblem(expr: Expr, kind: 'expression' | 'unaryTests'): string | null {
  if (expr.language === 'juel') {
    const error = findSyntaxError(juelTemplate(expr.text));
    return error ? `JUEL 表达式错误 / invalid JUEL expression "${expr.text}": ${error.message}` : null;
  }
  return feelSyntaxError(expr.text, kind);
}

/** Camunda wraps a JUEL text that is not already `${…}` / `#{…}` into `${…}`. */
export function juelTemplate(text: string): string {
  const trimmed = text.trim();
  return trimmed.startsWith('${') || trimmed.startsWith('#{') ? trimmed : `\${${trimmed}}`;
}

const text = (e: El | undefined): string => String(e?.text ?? '').trim();
const ids = (...list: unknown[]): string[] => list.filter((x): x is string => typeof x === 'string' && x !== '');

export function compileTable(decision: El, table: El, defaultLanguage: string | undefined, required: string[], problems: Problem[]): TableDecision {
  const decisionId = String(decision.id);
  const where = (...more: unknown[]) => ids(...more, table.id, decisionId);
  const hitPolicy = String(table.hitPolicy ?? 'UNIQUE') as HitPolicy;
  if (!HIT_POLICIES.has(hitPolicy)) {
    problems.push({ message: `不支持的命中策略 ${hitPolicy} / unknown hit policy '${hitPolicy}' of decision ${decisionId}`, elementIds: where() });
  }
  const aggregation = table.aggregation ? (String(table.aggregation) as Aggregation) : null;
  if (aggregation && !AGGREGATIONS.has(aggregation)) {
    problems.push({ message: `不支持的聚合 ${aggregation} / unknown aggregation '${aggregation}' of decision ${decisionId}`, elementIds: where() });
  } else if (aggregation && hitPolicy !== 'COLLECT') {
    problems.push({ message: `只有 COLLECT 命中策略可以聚合 / the aggregation ${aggregation} needs hit policy COLLECT, not ${hitPolicy} (decision ${decisionId})`, elementIds: where() });
  }

  const expr = (e: El | undefined, kind: 'expression' | 'unaryTests', owner: string[]): Expr | null => {
    const body = text(e);
    if (!e || body === '') return null;
    const language = languageOf(e.expressionLanguage, defaultLanguage);
    if (!language) {
      problems.push({ message: `不支持的表达式语言 ${e.expressionLanguage} / expression language '${e.expressionLanguage}' is not supported (only FEEL and JUEL)`, elementIds: owner });
      return null;
    }
    const result = { text: body, language };
    const problem = expressionProblem(result, kind);
    if (problem) problems.push({ message: problem, elementIds: owner });
    return result;
  };

  const inputs: InputClause[] = [];
  for (const input of (table.input ?? []) as El[]) {
    if (!input.id) problems.push({ message: `决策表输入缺少 id / an input of decision ${decisionId} has no id`, elementIds: where() });
    const expression = expr(input.inputExpression, 'expression', where(input.inputExpression?.id, input.id));
    if (text(input.inputExpression) === '') {
      problems.push({ message: `输入 ${input.id ?? ''} 没有输入表达式 / input ${input.id ?? ''} of decision ${decisionId} has no input expression`, elementIds: where(input.id) });
    }
    inputs.push({
      id: String(input.id ?? ''),
      label: input.label ?? null,
      expression: expression ?? { text: '', language: 'feel' },
      typeRef: input.inputExpression?.typeRef ?? null,
      inputVariable: String(input.inputVariable ?? '').trim() || 'cellInput',
    });
  }

  const outputs: OutputClause[] = [];
  const names = new Set<string>();
  const outputList = (table.output ?? []) as El[];
  if (outputList.length === 0) problems.push({ message: `决策 ${decisionId} 没有输出 / decision table of ${decisionId} has no output`, elementIds: where() });
  for (const output of outputList) {
    const name = output.name ? String(output.name) : null;
    if (!output.id) problems.push({ message: `决策表输出缺少 id / an output of decision ${decisionId} has no id`, elementIds: where() });
    if (!name && outputList.length > 1) {
      problems.push({ message: `多个输出时每个输出都需要名称 / output ${output.id} needs a name: decision ${decisionId} has more than one output`, elementIds: where(output.id) });
    }
    if (name && names.has(name)) problems.push({ message: `输出名称 ${name} 重复 / output name '${name}' is used twice in decision ${decisionId}`, elementIds: where(output.id) });
    if (name) names.add(name);
    // Output values only order PRIORITY and OUTPUT ORDER tables; elsewhere Camunda ignores them, and so do we.
    const ordered = hitPolicy === 'PRIORITY' || hitPolicy === 'OUTPUT ORDER';
    outputs.push({ id: String(output.id ?? ''), label: output.label ?? null, name, typeRef: output.typeRef ?? null, priorities: ordered ? priorities(output, problems, where(output.outputValues?.id, output.id)) : null });
  }
  if ((hitPolicy === 'PRIORITY' || hitPolicy === 'OUTPUT ORDER') && !outputs.some((o) => o.priorities)) {
    problems.push({ message: `命中策略 ${hitPolicy} 需要输出值列表 / hit policy ${hitPolicy} needs output values (the priority order) on an output of decision ${decisionId}`, elementIds: where() });
  }

  const rules: Rule[] = [];
  for (const rule of (table.rule ?? []) as El[]) {
    if (!rule.id) problems.push({ message: `规则缺少 id / a rule of decision ${decisionId} has no id`, elementIds: where() });
    const inputEntries = (rule.inputEntry ?? []) as El[];
    const outputEntries = (rule.outputEntry ?? []) as El[];
    if (inputEntries.length !== inputs.length) {
      problems.push({ message: `规则 ${rule.id} 有 ${inputEntries.length} 个输入条目，但有 ${inputs.length} 个输入 / rule ${rule.id} has ${inputEntries.length} input entries for ${inputs.length} inputs`, elementIds: where(rule.id) });
    }
    if (outputEntries.length !== outputs.length) {
      problems.push({ message: `规则 ${rule.id} 有 ${outputEntries.length} 个输出条目，但有 ${outputs.length} 个输出 / rule ${rule.id} has ${outputEntries.length} output entries for ${outputs.length} outputs`, elementIds: where(rule.id) });
    }
    rules.push({
      id: String(rule.id ?? ''),
      inputEntries: inputEntries.map((e) => expr(e, 'unaryTests', where(e.id, rule.id))),
      outputEntries: outputEntries.map((e) => expr(e, 'expression', where(e.id, rule.id))),
    });
  }
  return { kind: 'table', key: decisionId, name: decision.name ?? null, required, hitPolicy, aggregation, inputs, outputs, rules };
}

/** The outputValues as literals in priority order; anything but a list of literals is refused. */
function priorities(output: El, problems: Problem[], owner: string[]): unknown[] | null {
  const body = text(output.outputValues);
  if (!body) return null;
  const parts = splitTopLevel(body);
  const values: unknown[] = [];
  for (const part of parts) {
    const literal = /^(".*"|-?\d+(\.\d+)?|true|false)$/s.test(part) && !feelSyntaxError(part, 'expression');
    if (!literal) {
      problems.push({ message: `输出值只能是字面量列表 / output values of ${output.id} must be a list of literals, not "${body}"`, elementIds: owner });
      return null;
    }
    values.push(feelLiteral(part));
  }
  return values;
}

/** Splits `"a, b", "c"` at the commas outside string literals. */
function splitTopLevel(body: string): string[] {
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (quoted && ch === '\\') { current += ch + (body[++i] ?? ''); continue; }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) { parts.push(current.trim()); current = ''; continue; }
    current += ch;
  }
  parts.push(current.trim());
  return parts;
}

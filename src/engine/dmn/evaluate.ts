/**
 * Evaluates a deployed decision and the decisions it requires, as Camunda 7's
 * DMN engine does: required decisions first (each once), their results put
 * into the variables of the decisions after them, the root's result last.
 * Synchronous and pure: the caller loads the compiled decisions and records
 * the history rows of the returned evaluation.
 */
import { evaluate as evaluateJuel, ExpressionError, makeExpressions, type JuelEnv, type JuelExpressions } from '../expressions.ts';
import { juelTemplate } from './compile-table.ts';
import { DecisionEvaluationError } from './errors.ts';
import { evaluateFeel, feelUnaryTests } from './feel.ts';
import { applyHitPolicy, type Matched } from './hit-policy.ts';
import { outputKey, setOwn, type Decision, type Expr, type LiteralDecision, type TableDecision } from './model.ts';
import { convert, TypeConversionError } from './types.ts';

export interface DecisionEvaluation {
  /** Camunda's DmnDecisionResult of the root decision: one entry per matched rule (or one per aggregation), keyed by output name. */
  resultList: Record<string, unknown>[];
  /** One per decision evaluated, required decisions first, the root decision last. */
  records: EvaluatedDecision[];
}

export interface EvaluatedDecision {
  key: string; name: string | null; hitPolicy: string | null; aggregation: string | null;
  collectResultValue: number | null;
  inputs: { clauseId: string; clauseName: string | null; value: unknown }[];
  /** A literal expression's one output has no clause and no rule (Camunda records them as null). */
  outputs: { clauseId: string | null; clauseName: string | null; ruleId: string | null; ruleOrder: number | null; variableName: string; value: unknown }[];
}

type Variables = Record<string, unknown>;

/**
 * `env` is what JUEL's now(), dateTime() and currentUser() see: the caller's
 * clock, zone and user (over REST the one evaluating, in a process the run's);
 * without it the wall clock, the default zone and no user.
 */
export function evaluateDecision(key: string, lookup: (key: string) => string | undefined, variables: Record<string, unknown>, env?: JuelEnv): DecisionEvaluation {
  const order: Decision[] = [];
  const visit = (k: string, from: string | null) => {
    if (order.some((d) => d.key === k)) return;
    const decision = load(k, lookup, from);
    for (const r of decision.required) visit(r, k);
    order.push(decision);
  };
  visit(key, null);

  const scope: Variables = { ...variables };
  const records: EvaluatedDecision[] = [];
  const juel = makeExpressions(env);
  let resultList: Record<string, unknown>[] = [];
  for (const decision of order) {
    const evaluated = decision.kind === 'literal' ? evaluateLiteral(decision, scope, juel) : evaluateTable(decision, scope, juel);
    records.push(evaluated.record);
    resultList = evaluated.resultList;
    if (decision.key !== key) addToVariables(decision, resultList, scope);
  }
  return { resultList, records };
}

const cache = new Map<string, Decision>();
const CACHE_SIZE = 500;

function load(key: string, lookup: (key: string) => string | undefined, from: string | null): Decision {
  const json = lookup(key);
  if (json === undefined) {
    const by = from ? ` (required by ${from})` : '';
    throw new DecisionEvaluationError(`找不到决策 ${key} / decision ${key} is not deployed${by}`, key);
  }
  let decision = cache.get(json);
  if (!decision) {
    decision = JSON.parse(json) as Decision;
    if (cache.size >= CACHE_SIZE) cache.delete(cache.keys().next().value!);
    cache.set(json, decision);
  }
  return decision;
}

/** Camunda's addResultToVariableContext: a single result's entries as variables, otherwise a list per output. */
function addToVariables(decision: Decision, resultList: Record<string, unknown>[], scope: Variables): void {
  if (resultList.length === 0) return;
  const multi = decision.kind !== 'literal'
    && ((decision.hitPolicy === 'COLLECT' && !decision.aggregation) || decision.hitPolicy === 'RULE ORDER' || decision.hitPolicy === 'OUTPUT ORDER');
  if (resultList.length === 1 && !multi) {
    for (const [name, value] of Object.entries(resultList[0]!)) setOwn(scope, name, value);
    return;
  }
  const names = new Set(resultList.flatMap((r) => Object.keys(r)));
  for (const name of names) setOwn(scope, name, resultList.filter((r) => Object.hasOwn(r, name)).map((r) => r[name]));
}

function evaluateTable(table: TableDecision, scope: Variables, juel: JuelExpressions): { record: EvaluatedDecision; resultList: Record<string, unknown>[] } {
  const inputs: EvaluatedDecision['inputs'] = [];
  let candidates = table.rules;
  table.inputs.forEach((input, index) => {
    const raw = evaluateExpression(juel, table, input.expression, scope, `input ${input.id}`);
    const value = typed(table, raw, input.typeRef, `input ${input.id}`);
    inputs.push({ clauseId: input.id, clauseName: input.label, value });
    candidates = candidates.filter((rule) => {
      const entry = rule.inputEntries[index];
      if (!entry) return true;
      if (entry.language === 'feel') return feel(table, entry, `rule ${rule.id}`, () => feelUnaryTests(entry.text, value, input.inputVariable, scope));
      return evaluateExpression(juel, table, entry, { ...scope, [input.inputVariable]: value }, `rule ${rule.id}`) === true;
    });
  });

  const matched: Matched[] = candidates.map((rule) => ({
    rule,
    entries: table.outputs.flatMap((output, index) => {
      const entry = rule.outputEntries[index];
      if (!entry) return [];
      const raw = evaluateExpression(juel, table, entry, scope, `rule ${rule.id}`);
      return [{ output, value: typed(table, raw, output.typeRef, `rule ${rule.id}, output ${output.id}`) }];
    }),
  }));

  const hit = applyHitPolicy(table, matched);
  const outputs: EvaluatedDecision['outputs'] = hit.selected.flatMap((m, index) => m.entries.map(({ output, value }) => ({
    clauseId: output.id, clauseName: output.label, ruleId: m.rule.id, ruleOrder: index + 1, variableName: outputKey(output), value,
  })));
  let resultList: Record<string, unknown>[];
  if (hit.collect) {
    const { output, value } = hit.collect;
    resultList = output || value !== null ? [{ [output ? outputKey(output) : outputKey(table.outputs[0]!)]: value }] : [];
  } else {
    resultList = hit.selected.map((m) => Object.fromEntries(m.entries.map(({ output, value }) => [outputKey(output), value])));
  }
  return {
    record: {
      key: table.key, name: table.name, hitPolicy: table.hitPolicy, aggregation: table.aggregation,
      collectResultValue: hit.collect?.value ?? null, inputs, outputs,
    },
    resultList,
  };
}

/**
 * Camunda's DmnDecisionLiteralExpressionEvaluationHandler: the expression's
 * value converted by the variable's typeRef is the one result entry, named by
 * the variable, even when it is null; history records no inputs and that one
 * output, with no clause and no rule.
 */
function evaluateLiteral(decision: LiteralDecision, scope: Variables, juel: JuelExpressions): { record: EvaluatedDecision; resultList: Record<string, unknown>[] } {
  const where = `literal expression, variable ${decision.variable.name}`;
  const raw = evaluateExpression(juel, decision, decision.expression, scope, where);
  const value = typed(decision, raw, decision.variable.typeRef, where);
  const entry: Record<string, unknown> = {};
  setOwn(entry, decision.variable.name, value);
  return {
    record: {
      key: decision.key, name: decision.name, hitPolicy: null, aggregation: null, collectResultValue: null, inputs: [],
      outputs: [{ clauseId: null, clauseName: null, ruleId: null, ruleOrder: null, variableName: decision.variable.name, value }],
    },
    resultList: [entry],
  };
}

class UnknownVariable extends Error {}

function evaluateExpression(juel: JuelExpressions, table: Decision, expr: Expr, scope: Variables, where: string): unknown {
  if (expr.language === 'feel') return feel(table, expr, where, () => evaluateFeel(expr.text, scope));
  const template = juelTemplate(expr.text);
  try {
    if (!juel.isExpression(template)) return juel.resolveExpression(template, { environment: { variables: scope } });
    // Camunda's DMN resolves JUEL identifiers from the variables only, and an unknown one is an error (DMN-01002).
    return evaluateJuel(template.slice(2, -1), (name) => {
      if (!Object.hasOwn(scope, name)) throw new UnknownVariable(`Cannot resolve identifier '${name}'`);
      return scope[name];
    }, juel.env);
  } catch (err) {
    if (!(err instanceof ExpressionError || err instanceof UnknownVariable)) throw err;
    throw new DecisionEvaluationError(
      `决策 ${table.key} 的表达式 "${expr.text}"（${where}）无法求值：${err.message} / DMN-01002 Unable to evaluate expression "${expr.text}" (${where}) of decision ${table.key}: ${err.message}`,
      table.key);
  }
}

/**
 * feelin answers null rather than throwing; what it still throws (a variable
 * name with spaces can make a checked expression parse differently) is the
 * table's failure, not the server's.
 */
function feel<T>(table: Decision, expr: Expr, where: string, run: () => T): T {
  try {
    return run();
  } catch (err) {
    throw new DecisionEvaluationError(
      `决策 ${table.key} 的 FEEL 表达式 "${expr.text}"（${where}）无法求值：${(err as Error).message} / DMN-01002 Unable to evaluate FEEL "${expr.text}" (${where}) of decision ${table.key}: ${(err as Error).message}`,
      table.key);
  }
}

function typed(table: Decision, value: unknown, typeRef: string | null, where: string): unknown {
  try {
    return convert(value, typeRef);
  } catch (err) {
    if (!(err instanceof TypeConversionError)) throw err;
    throw new DecisionEvaluationError(`决策 ${table.key}（${where}）：${err.message}`, table.key);
  }
}

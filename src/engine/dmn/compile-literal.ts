/**
 * Checks one decision literal expression as Camunda 7's DMN transformer does
 * (a `<variable>` naming the result is required, DMN-02017) and more: the
 * expression is parsed now, in FEEL or JUEL, so a literal expression that
 * deploys is one that can be evaluated. Each problem names its element.
 */
import { expressionProblem, languageOf, type El, type Problem } from './compile-table.ts';
import type { LiteralDecision } from './model.ts';

const ids = (...list: unknown[]): string[] => list.filter((x): x is string => typeof x === 'string' && x !== '');

export function compileLiteral(decision: El, literal: El, defaultLanguage: string | undefined, required: string[], problems: Problem[]): LiteralDecision {
  const decisionId = String(decision.id);
  const variable = decision.variable as El | undefined;
  const name = String(variable?.name ?? '').trim();
  if (!variable) {
    problems.push({
      message: `决策 ${decisionId} 的字面量表达式需要 variable 元素 / DMN-02017 The decision '${decisionId}' must have a 'variable' element if it contains a literal expression`,
      elementIds: ids(literal.id, decisionId),
    });
  } else if (!name) {
    problems.push({ message: `决策 ${decisionId} 的 variable 缺少名称 / the variable of decision ${decisionId} has no name: it names the literal expression's result`, elementIds: ids(variable.id, decisionId) });
  }
  if ((literal.importedValues ?? null) !== null) {
    problems.push({ message: `不支持 importedValues / decision ${decisionId}: a literal expression with importedValues is not evaluated by Camunda 7`, elementIds: ids(literal.id, decisionId) });
  }
  const text = String(literal.text ?? '').trim();
  const language = languageOf(literal.expressionLanguage, defaultLanguage);
  if (!text) {
    problems.push({ message: `决策 ${decisionId} 的字面量表达式为空 / the literal expression of decision ${decisionId} has no text`, elementIds: ids(literal.id, decisionId) });
  } else if (!language) {
    problems.push({
      message: `不支持的表达式语言 ${literal.expressionLanguage} / expression language '${literal.expressionLanguage}' of decision ${decisionId} is not supported (only FEEL and JUEL)`,
      elementIds: ids(literal.id, decisionId),
    });
  } else {
    const problem = expressionProblem({ text, language }, 'expression');
    if (problem) problems.push({ message: problem, elementIds: ids(literal.id, decisionId) });
  }
  return {
    kind: 'literal', key: decisionId, name: decision.name ?? null, required,
    variable: { name, typeRef: variable?.typeRef ? String(variable.typeRef) : null },
    expression: { text, language: language ?? 'feel' },
  };
}

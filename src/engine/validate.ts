import type { ModdleElement } from 'bpmn-moddle';
import { findSyntaxError } from './expressions.ts';

/** Attributes whose text may hold `${...}` expressions the engine evaluates. */
const expressionAttributes = ['assignee', 'candidateUsers', 'candidateGroups', 'dueDate', 'followUpDate', 'priority'];

/**
 * Finds expressions that cannot be parsed, so a typo in a gateway condition
 * is refused at deploy time instead of failing a person's task completion.
 */
export function checkExpressions(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const check = (element: ModdleElement, text: unknown) => {
    if (typeof text !== 'string') return;
    const error = findSyntaxError(text);
    if (error) problems.push({ elementId: String(element.id), message: `表达式错误 / invalid expression: ${error.message}` });
  };
  const visit = (container: ModdleElement) => {
    for (const e of (container.flowElements ?? []) as ModdleElement[]) {
      if (e.conditionExpression) check(e, e.conditionExpression.body);
      for (const attr of expressionAttributes) check(e, e[attr]);
      if (e.flowElements) visit(e);
    }
  };
  processes.forEach(visit);
  return problems;
}

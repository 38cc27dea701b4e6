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
      for (const d of (e.eventDefinitions ?? []) as ModdleElement[]) {
        const cycle = d.$type === 'bpmn:TimerEventDefinition' ? String(d.timeCycle?.body ?? '').trim() : '';
        // The engine times boundary and intermediate timers itself and knows only ISO 8601 cycles.
        if (cycle && e.$type !== 'bpmn:StartEvent' && !cycle.startsWith('R') && !cycle.includes('${')) {
          problems.push({ elementId: String(e.id), message: `cron 周期只能用于定时启动事件 / a cron cycle ("${cycle}") works on timer start events only; use an ISO 8601 cycle such as R/PT1H here` });
        }
      }
      if (e.flowElements) visit(e);
    }
  };
  processes.forEach(visit);
  return problems;
}

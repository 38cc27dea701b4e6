import type { ModdleElement } from 'bpmn-moddle';
import { findSyntaxError } from './expressions.ts';

/** Attributes whose text may hold `${...}` expressions the engine evaluates (user-tasks.ts, recorder.ts). */
const expressionAttributes = ['name', 'assignee', 'candidateUsers', 'candidateGroups', 'dueDate', 'followUpDate', 'priority', 'formKey', 'topic', 'taskPriority'];

/** The texts of a camunda:inputOutput parameter: its value, or its list's and map's values, nested (io-mapping.ts). */
function parameterTexts(p: ModdleElement): unknown[] {
  const d = p.definition as ModdleElement | undefined;
  if (!d) return [p.value];
  if (d.$type === 'camunda:List') return ((d.items ?? []) as ModdleElement[]).flatMap((i) => (i.$type === 'camunda:Value' ? [i.value] : parameterTexts({ definition: i } as unknown as ModdleElement)));
  if (d.$type === 'camunda:Map') return ((d.entries ?? []) as ModdleElement[]).flatMap(parameterTexts);
  if (d.$type === 'camunda:Value') return [d.value];
  return []; // scripts: check-scripts.ts
}

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
      const values = (e.extensionElements?.values ?? []) as ModdleElement[];
      for (const io of values.filter((v) => v.$type === 'camunda:InputOutput')) {
        for (const p of [...(io.inputParameters ?? []), ...(io.outputParameters ?? [])] as ModdleElement[]) parameterTexts(p).forEach((text) => check(e, text));
      }
      if (e.flowElements) visit(e);
    }
  };
  processes.forEach(visit);
  return problems;
}

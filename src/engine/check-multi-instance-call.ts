import type { ModdleElement } from 'bpmn-moddle';

/*
 * Multi-instance call activities run as Camunda 7 runs them: one child
 * instance per loop instance, `camunda:in` read in the instance's scope
 * (its element variable and loopCounter before the process variables), a
 * completion condition ending the children still running. Two forms are
 * refused, naming the element, until their results are shown to be
 * Camunda's: `camunda:out` (Camunda writes each child's outs through the
 * instance's execution into the process as each child ends, an order and
 * scope not verified here) and `camunda:in variables="all"` (it would copy
 * the instance's counters, whose values at that moment are not verified).
 */
export function checkMultiInstanceCall(element: ModdleElement): { elementId: string; message: string }[] {
  if (element.$type !== 'bpmn:CallActivity') return [];
  const id = String(element.id);
  const values = ((element.extensionElements as ModdleElement | undefined)?.values ?? []) as ModdleElement[];
  const problems: { elementId: string; message: string }[] = [];
  if (values.some((v) => v.$type === 'camunda:Out')) {
    problems.push({ elementId: id, message: `多实例调用活动 ${id} 暂不支持 camunda:out / camunda:out on the multi-instance call activity ${id} is not run by this server yet` });
  }
  if (values.some((v) => v.$type === 'camunda:In' && v.variables === 'all')) {
    problems.push({ elementId: id, message: `多实例调用活动 ${id} 暂不支持 camunda:in variables="all" / camunda:in variables="all" on the multi-instance call activity ${id} is not run by this server yet` });
  }
  return problems;
}

import type { ModdleElement } from 'bpmn-moddle';

/*
 * Multi-instance call activities run as Camunda 7 runs them: one child
 * instance per loop instance, `camunda:in` read in the instance's scope
 * (its element variable and loopCounter before the process variables), a
 * completion condition ending the children still running, and `camunda:out`
 * (source, sourceExpression) written as each child ends: Camunda sets it
 * through the instance's execution, and a name that is none of the
 * instance's own variables goes up to the process variable, as applyOut
 * writes it (call-activity-multi-instance-out.test.ts). Refused, naming the
 * element: an out whose target is a loop variable (Camunda would set that
 * instance's own), `camunda:out variables="all"` (it would write the
 * child's copies of the loop variables back) and `camunda:in
 * variables="all"` (it would copy the instance's counters, whose values at
 * that moment are not verified).
 */
export function checkMultiInstanceCall(element: ModdleElement): { elementId: string; message: string }[] {
  if (element.$type !== 'bpmn:CallActivity') return [];
  const id = String(element.id);
  const values = ((element.extensionElements as ModdleElement | undefined)?.values ?? []) as ModdleElement[];
  const problems: { elementId: string; message: string }[] = [];
  const loop = element.loopCharacteristics as ModdleElement | undefined;
  const local = new Set(['loopCounter', 'nrOfInstances', 'nrOfActiveInstances', 'nrOfCompletedInstances', loop?.elementVariable].filter(Boolean));
  for (const out of values.filter((v) => v.$type === 'camunda:Out')) {
    if (out.variables === 'all') {
      problems.push({ elementId: id, message: `多实例调用活动 ${id} 暂不支持 camunda:out variables="all" / camunda:out variables="all" on the multi-instance call activity ${id} is not run by this server yet (it would write the child's copies of the loop variables back)` });
    } else if (typeof out.target === 'string' && local.has(out.target)) {
      problems.push({ elementId: id, message: `多实例调用活动 ${id} 的 camunda:out 不能写入循环变量 ${out.target} / camunda:out on the multi-instance call activity ${id} may not target the loop variable ${out.target} (Camunda would set that instance's own variable)` });
    }
  }
  if (values.some((v) => v.$type === 'camunda:In' && v.variables === 'all')) {
    problems.push({ elementId: id, message: `多实例调用活动 ${id} 暂不支持 camunda:in variables="all" / camunda:in variables="all" on the multi-instance call activity ${id} is not run by this server yet` });
  }
  return problems;
}

import type { ModdleElement } from 'bpmn-moddle';

/*
 * Multi-instance call activities run as Camunda 7 runs them: one child
 * instance per loop instance, `camunda:in` read in the instance's scope
 * (its element variable and loopCounter before the process variables), a
 * completion condition ending the children still running, and `camunda:out`
 * (source, sourceExpression) written as each child ends: Camunda sets it
 * through the instance's execution, and a name that is none of the
 * instance's own variables goes up to the process variable, as applyOut
 * writes it (call-activity-multi-instance-out.test.ts).
 *
 * `camunda:in variables="all"` on a sequential one runs: Camunda's
 * getVariables() of the instance's execution is the process variables with
 * the instance's element variable and loopCounter and the body's counters
 * (nrOfInstances, nrOfActiveInstances 1, nrOfCompletedInstances = the
 * instances before it), which is what the child is given here
 * (call-activity-multi-instance-all.test.ts). Refused, naming the element:
 * - `camunda:in variables="all"` on a parallel one: Camunda starts the
 *   children one after another in the command, and a child that ends at once
 *   (no wait state) has already counted when the next one copies the
 *   counters; here every child of the command is given them as they stood
 *   before the first started;
 * - `camunda:out variables="all"`: Camunda writes every variable of the
 *   child through the instance's execution, so the child's copies of the
 *   loop variables land on the instance's own and on the body's counters,
 *   which its multi-instance behaviour then counts on; the engine here keeps
 *   its counts apart and cannot follow;
 * - an out whose target is a loop variable (the same, named).
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
      problems.push({ elementId: id, message: `多实例调用活动 ${id} 不支持 camunda:out variables="all"：Camunda 会把子流程中循环变量的副本写回本实例与多实例计数器 / camunda:out variables="all" on the multi-instance call activity ${id} is not run by this server: Camunda writes every variable of the child through the instance's execution, so the child's copies of loopCounter, nrOfInstances, nrOfActiveInstances, nrOfCompletedInstances and the element variable overwrite the instance's own and the counters its multi-instance behaviour counts on, which the engine here keeps apart; pass the variables out by name (camunda:out source/target)` });
    } else if (typeof out.target === 'string' && local.has(out.target)) {
      problems.push({ elementId: id, message: `多实例调用活动 ${id} 的 camunda:out 不能写入循环变量 ${out.target} / camunda:out on the multi-instance call activity ${id} may not target the loop variable ${out.target} (Camunda would set that instance's own variable)` });
    }
  }
  if (!loop?.isSequential && values.some((v) => v.$type === 'camunda:In' && v.variables === 'all')) {
    problems.push({ elementId: id, message: `并行多实例调用活动 ${id} 不支持 camunda:in variables="all"（顺序多实例可以）：立即结束的子流程在 Camunda 中先计数，下一个子流程复制的计数器已变 / camunda:in variables="all" on the parallel multi-instance call activity ${id} is not run by this server (a sequential one is): Camunda starts the children one after another, and a child that ends at once has already counted when the next copies nrOfActiveInstances and nrOfCompletedInstances; here every child is given the counters as they stood before the first started` });
  }
  return problems;
}

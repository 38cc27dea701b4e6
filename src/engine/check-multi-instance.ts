import type { ModdleElement } from 'bpmn-moddle';
import { findSyntaxError } from './expressions.ts';

/** Elements whose multi-instance runs as Camunda 7's (multi-instance.ts, the runner's iteration records). */
const RUNS_MULTI_INSTANCE = new Set(['bpmn:UserTask']);

/**
 * Multi-instance is refused at deployment, naming the element, where it would
 * be accepted and then misbehave: on anything but a user task for now (an
 * external task's, sub-process's or call activity's instances are not kept
 * apart yet), without a collection or a loopCardinality (nothing to count),
 * and with an expression that does not parse.
 */
export function checkMultiInstance(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const visit = (element: ModdleElement) => {
    const loop = element.loopCharacteristics as ModdleElement | undefined;
    if (loop?.$type === 'bpmn:MultiInstanceLoopCharacteristics') {
      const id = String(element.id);
      const type = String(element.$type).replace(/^bpmn:/, '');
      if (!RUNS_MULTI_INSTANCE.has(element.$type)) {
        problems.push({ elementId: id, message: `${id}（${type}）的多实例尚不支持，目前只支持用户任务 / multi-instance on ${id} (${type}) is not run by this server yet; only user tasks can be multi-instance` });
      }
      const collection = loop.collection == null ? '' : String(loop.collection).trim();
      const cardinality = loop.loopCardinality?.body == null ? '' : String(loop.loopCardinality.body).trim();
      if (!collection && !cardinality) {
        problems.push({ elementId: id, message: `${id} 的多实例需要 camunda:collection 或 loopCardinality / multi-instance ${id} needs a camunda:collection or a loopCardinality` });
      }
      const expressions: [string, string][] = [['camunda:collection', collection], ['loopCardinality', cardinality], ['completionCondition', String(loop.completionCondition?.body ?? '')]];
      for (const [what, text] of expressions) {
        const wrong = text && findSyntaxError(text);
        if (wrong) problems.push({ elementId: id, message: `${id} 的 ${what} 表达式有误 / the ${what} of ${id} does not parse: ${wrong.message}` });
      }
      if (loop.completionCondition?.language) {
        problems.push({ elementId: id, message: `${id} 的 completionCondition 只能是表达式 / the completionCondition of ${id} must be an expression, not a ${String(loop.completionCondition.language)} script` });
      }
    }
    for (const child of (element.flowElements ?? []) as ModdleElement[]) visit(child);
  };
  for (const proc of processes) visit(proc);
  return problems;
}

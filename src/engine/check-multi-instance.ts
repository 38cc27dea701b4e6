import type { ModdleElement } from 'bpmn-moddle';
import { eachElement } from './flow-elements.ts';
import { checkMultiInstanceCall } from './check-multi-instance-call.ts';
import { findSyntaxError } from './expressions.ts';

/** Elements whose multi-instance runs as Camunda 7's (multi-instance.ts, the runner's iteration records). */
const RUNS_MULTI_INSTANCE = new Set(['bpmn:UserTask', 'bpmn:ScriptTask', 'bpmn:SubProcess', 'bpmn:CallActivity']);
/** Worker tasks: multi-instance when done by a worker (`camunda:type="external"`), one external task per instance. */
const EXTERNAL_CAPABLE = new Set(['bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask']);

function runsMultiInstance(element: ModdleElement): boolean {
  return RUNS_MULTI_INSTANCE.has(element.$type) || (EXTERNAL_CAPABLE.has(element.$type) && element.type === 'external');
}

/**
 * Multi-instance is refused at deployment, naming the element, where it would
 * be accepted and then misbehave: on anything but a user task, an external
 * task, a script task, a sub-process or a call activity (the forms of the
 * last not run yet: check-multi-instance-call.ts), on a parallel script task with a completion
 * condition, without a collection or a loopCardinality (nothing to count),
 * and with an expression that does not parse.
 */
export function checkMultiInstance(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const visit = (element: ModdleElement) => {
    const loop = element.loopCharacteristics as ModdleElement | undefined;
    if (loop?.$type === 'bpmn:MultiInstanceLoopCharacteristics') {
      const id = String(element.id);
      const type = String(element.$type).replace(/^bpmn:/, '');
      if (!runsMultiInstance(element)) {
        problems.push({ elementId: id, message: `${id}（${type}）的多实例尚不支持，目前只支持用户任务、外部任务、脚本任务、嵌入式子流程和调用活动 / multi-instance on ${id} (${type}) is not run by this server yet; only user tasks, external tasks (camunda:type="external"), script tasks, embedded sub-processes and call activities can be multi-instance` });
      }
      if (element.$type === 'bpmn:ScriptTask' && !loop.isSequential && loop.completionCondition?.body) {
        // Every instance's script runs in the same command; one the condition ended would still have run.
        problems.push({ elementId: id, message: `${id} 是并行多实例脚本任务，不能有 completionCondition（请改为顺序执行）/ the parallel multi-instance script task ${id} cannot have a completionCondition: its instances run in one command, so those the condition ends would already have run; make it sequential` });
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
      problems.push(...checkMultiInstanceCall(element));
      if (loop.completionCondition?.language) {
        problems.push({ elementId: id, message: `${id} 的 completionCondition 只能是表达式 / the completionCondition of ${id} must be an expression, not a ${String(loop.completionCondition.language)} script` });
      }
    }
  };
  eachElement(processes, visit);
  return problems;
}

import type { ModdleElement } from 'bpmn-moddle';

/**
 * Constructs the engine accepts but runs otherwise than Camunda 7, refused at
 * deployment naming the element (issue 14: nothing accepted and then wrong).
 * Each was tried over REST (test/conformance/unverified.test.ts):
 * - event sub-processes: a timer start is never armed as a timer row, a
 *   message or signal start never subscribes (POST /message cannot reach it),
 *   and an error start does not interrupt its scope (the other branches run on);
 * - an escalation end event, or any escalation caught by an interrupting
 *   boundary event: the boundary is cancelled and the normal path is taken;
 * - a standard loop: Camunda 7 does not run `standardLoopCharacteristics`;
 * What runs as Camunda's (an escalation throw caught by a non-interrupting
 * boundary, or by nothing; a transaction sub-process without cancel events;
 * cancel events, which check-compensation.ts decides on)
 * stays accepted and has its conformance test.
 */
export function checkUnverified(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const refuse = (e: ModdleElement, zh: string, en: string) => problems.push({ elementId: String(e.id), message: `${e.id}：${zh} / ${e.id}: ${en}` });
  const visit = (container: ModdleElement) => {
    for (const e of (container.flowElements ?? []) as ModdleElement[]) {
      const definitions = ((e.eventDefinitions ?? []) as ModdleElement[]).map((d) => d.$type);
      if (e.$type === 'bpmn:SubProcess' && e.triggeredByEvent) {
        refuse(e, '事件子流程尚不支持（定时、消息、信号启动不会等待，错误启动不会中断其范围）',
          'event sub-processes are not run as Camunda 7 runs them yet (timer, message and signal starts are never armed; an error start does not interrupt its scope)');
      }
      if (e.loopCharacteristics?.$type === 'bpmn:StandardLoopCharacteristics') {
        refuse(e, '不支持标准循环（Camunda 7 也不执行）', 'standard loops (standardLoopCharacteristics) are not run; Camunda 7 does not run them either; use multi-instance');
      }
      if (definitions.includes('bpmn:EscalationEventDefinition')) {
        if (e.$type === 'bpmn:EndEvent') {
          refuse(e, '升级结束事件尚不支持（捕获它的边界事件不会生效）', 'escalation end events are not run as Camunda 7 runs them yet (the catching boundary event is cancelled and the normal path taken)');
        }
        if (e.$type === 'bpmn:BoundaryEvent' && e.cancelActivity !== false) {
          refuse(e, '中断型升级边界事件尚不支持，请用非中断型', 'interrupting escalation boundary events are not run as Camunda 7 runs them yet; a non-interrupting one (cancelActivity="false") is');
        }
      }
      if (e.flowElements) visit(e);
    }
  };
  for (const proc of processes) visit(proc);
  return problems;
}

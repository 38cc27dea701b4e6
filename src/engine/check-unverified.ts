import type { ModdleElement } from 'bpmn-moddle';
import { eachElement } from './flow-elements.ts';
import { checkEventSubProcesses } from './check-event-subprocesses.ts';

/**
 * Constructs the engine accepts but runs otherwise than Camunda 7, refused at
 * deployment naming the element (issue 14: nothing accepted and then wrong).
 * Each was tried over REST (test/conformance/unverified.test.ts):
 * a standard loop: Camunda 7 does not run `standardLoopCharacteristics`.
 * What runs as Camunda's (a transaction sub-process without cancel events)
 * stays accepted and has its conformance test. Event sub-processes and
 * escalations have their own check (check-event-subprocesses.ts), cancel
 * events are decided on by check-compensation.ts.
 */
export function checkUnverified(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const refuse = (e: ModdleElement, zh: string, en: string) => problems.push({ elementId: String(e.id), message: `${e.id}：${zh} / ${e.id}: ${en}` });
  eachElement(processes, (e) => {
    if (e.loopCharacteristics?.$type === 'bpmn:StandardLoopCharacteristics') {
      refuse(e, '不支持标准循环（Camunda 7 也不执行）', 'standard loops (standardLoopCharacteristics) are not run; Camunda 7 does not run them either; use multi-instance');
    }
  });
  problems.push(...checkEventSubProcesses(processes));
  return problems;
}

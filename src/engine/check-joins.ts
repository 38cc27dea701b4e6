import type { ModdleElement } from 'bpmn-moddle';

/*
 * An inclusive join runs here by dead-path elimination (serialize.ts,
 * InclusiveJoinGateway): it waits for a token or a discard on every incoming
 * flow. That is Camunda 7's "waits for every token that can still reach it"
 * unless the join lies on a cycle, where a later round brings tokens on some
 * flows only and the join would wait for ever. Such a diagram is refused at
 * deployment, naming the gateway, rather than accepted and then stuck.
 */

export interface JoinProblem {
  elementId: string;
  message: string;
}

export function checkInclusiveJoins(processes: ModdleElement[]): JoinProblem[] {
  const problems: JoinProblem[] = [];
  for (const proc of processes) visit(proc, problems);
  return problems;
}

function visit(container: ModdleElement, problems: JoinProblem[]): void {
  const elements = (container.flowElements ?? []) as ModdleElement[];
  const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow');
  const next = new Map<string, string[]>();
  for (const f of flows) {
    const from = f.sourceRef?.id as string | undefined;
    const to = f.targetRef?.id as string | undefined;
    if (!from || !to) continue;
    next.set(from, [...(next.get(from) ?? []), to]);
  }
  for (const e of elements) {
    if (e.flowElements) visit(e, problems);
    if (e.$type !== 'bpmn:InclusiveGateway') continue;
    const incoming = flows.filter((f) => f.targetRef?.id === e.id).length;
    if (incoming > 1 && reaches(next, e.id as string)) {
      problems.push({
        elementId: e.id as string,
        message: `包容网关 ${e.id} 在循环中汇聚，暂不支持 / inclusive gateway ${e.id} joins on a cycle (a path leads from it back to it), which is not supported`,
      });
    }
  }
}

/** Whether a path of sequence flows leads from `start` back to it. */
export function reaches(next: Map<string, string[]>, start: string): boolean {
  const seen = new Set<string>();
  const stack = [...(next.get(start) ?? [])];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === start) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) ?? []));
  }
  return false;
}

import type { ModdleElement } from 'bpmn-moddle';

/*
 * A non-interrupting timer cycle on a boundary event (cancelActivity="false",
 * `R2/PT1H`, `R/PT1H`) fires again while its activity is still open, and in
 * Camunda 7 every firing is a token of its own: two reminders (user tasks) are
 * open side by side. The engine here runs one execution of an element at a
 * time, so a second firing would wait behind the first until it ends. That
 * is the same as Camunda's only when each firing's path runs to its end in
 * the firing's own command, holding nothing: so a repeating cycle is accepted
 * when everything its path reaches goes straight through (script tasks,
 * plain and manual tasks, exclusive gateways, throw and end events), and
 * refused at deployment, naming the boundary event, otherwise.
 */

/** Elements a token passes straight through, in the command that brought it. */
const PASSES_THROUGH = new Set(['bpmn:ScriptTask', 'bpmn:Task', 'bpmn:ManualTask', 'bpmn:ExclusiveGateway', 'bpmn:IntermediateThrowEvent', 'bpmn:EndEvent']);

export function checkTimerCycles(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const visit = (container: ModdleElement) => {
    const children = (container.flowElements ?? []) as ModdleElement[];
    for (const e of children) {
      if (e.$type === 'bpmn:BoundaryEvent' && e.cancelActivity === false && repeats(e)) {
        const holding = firstHolding(e, children);
        if (holding) {
          const id = String(e.id);
          problems.push({
            elementId: id,
            message: `${id}：非中断的重复定时器每次触发在 Camunda 7 中各自成为并行的令牌，而其路径上的 ${holding.id} 会等待，本服务器会让后一次触发排在前一次之后；请让路径只经过脚本任务、网关和结束事件，或改为只触发一次（R1/…）`
              + ` / ${id}: each firing of a repeating non-interrupting timer is a token of its own in Camunda 7, but its path reaches ${holding.id} (${String(holding.$type).replace(/^bpmn:/, '')}), which holds a token: here a later firing would wait behind the earlier one instead of running beside it. Let the path pass only through script tasks, exclusive gateways and throw or end events, or fire once (R1/…)`,
          });
        }
      }
      if (e.flowElements) visit(e);
    }
  };
  for (const proc of processes) visit(proc);
  return problems;
}

/** Whether the event's timer is a cycle that may fire more than once (`R/…`, `Rn/…` with n > 1, or an expression). */
function repeats(event: ModdleElement): boolean {
  const timer = ((event.eventDefinitions ?? []) as ModdleElement[]).find((d) => d.$type === 'bpmn:TimerEventDefinition');
  const cycle = timer?.timeCycle?.body;
  if (cycle == null) return false;
  const text = String(cycle).trim();
  const count = /^R(\d*)\//.exec(text);
  if (!count) return true; // an expression: its value is not known until it runs
  return count[1] === '' || Number(count[1]) > 1;
}

/**
 * The first element the boundary's path reaches that does not pass a token
 * straight through, if any. Flows are read from the container, as a diagram
 * need not list its `outgoing` references.
 */
function firstHolding(boundary: ModdleElement, siblings: ModdleElement[]): ModdleElement | undefined {
  const flows = siblings.filter((f) => f.$type === 'bpmn:SequenceFlow');
  const next = (e: ModdleElement) => flows.filter((f) => f.sourceRef === e).map((f) => f.targetRef as ModdleElement);
  const seen = new Set<ModdleElement>();
  const queue = next(boundary);
  while (queue.length) {
    const e = queue.shift()!;
    if (!e || seen.has(e)) continue;
    seen.add(e);
    if (!PASSES_THROUGH.has(e.$type) || isLinkThrow(e)) return e;
    queue.push(...next(e));
  }
  return undefined;
}

/** A link throw goes on at its catch, elsewhere in the diagram: not followed here, so not taken as passing through. */
function isLinkThrow(e: ModdleElement): boolean {
  return ((e.eventDefinitions ?? []) as ModdleElement[]).some((d) => d.$type === 'bpmn:LinkEventDefinition');
}

import type { ModdleElement } from 'bpmn-moddle';
import { reaches } from './check-joins.ts';

type Problem = { elementId: string; message: string };

/** Activities that can be compensated, and be compensation handlers, here: tasks that complete once. */
const TASKS = new Set(['bpmn:UserTask', 'bpmn:ScriptTask', 'bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask', 'bpmn:ManualTask', 'bpmn:Task', 'bpmn:ReceiveTask']);

const isCompensate = (e: ModdleElement) => ((e.eventDefinitions ?? []) as ModdleElement[]).some((d) => d.$type === 'bpmn:CompensateEventDefinition');
const compensateDefinition = (e: ModdleElement) => ((e.eventDefinitions ?? []) as ModdleElement[]).find((d) => d.$type === 'bpmn:CompensateEventDefinition');

/**
 * Compensation runs as Camunda 7's (compensation.ts) for what is checked here:
 * a compensation boundary event on a task that completes at most once per
 * scope, associated with one handler task (`isForCompensation`) of its own;
 * intermediate throw and end events compensating their own scope, or the one
 * activity named by `activityRef` in it. Refused, naming the element: what
 * Camunda runs differently from what would run here (a compensated activity
 * on a cycle or multi-instance, a sub-process compensated or compensating, a
 * throw whose scope holds a sub-process with compensation handlers inside,
 * which Camunda would compensate too, compensation event sub-processes), and
 * what Camunda itself refuses (sequence flows into or out of a handler or a
 * compensation boundary event, `activityRef` outside the scope).
 * `waitForCompletion="false"` is deployed with a warning, as in Camunda 7,
 * whose throw waits all the same.
 */
export function checkCompensation(processes: ModdleElement[]): { problems: Problem[]; warnings: Problem[] } {
  const problems: Problem[] = [];
  const warnings: Problem[] = [];
  const refuse = (e: ModdleElement, zh: string, en: string) => problems.push({ elementId: String(e.id), message: `${e.id}：${zh} / ${e.id}: ${en}` });
  for (const proc of processes) visitScope(proc, [], refuse, warnings);
  return { problems, warnings };
}

type Refuse = (e: ModdleElement, zh: string, en: string) => void;

function visitScope(scope: ModdleElement, onCycle: boolean[], refuse: Refuse, warnings: Problem[]): void {
  const elements = (scope.flowElements ?? []) as ModdleElement[];
  const next = successors(elements);
  const cyclic = onCycle.some(Boolean);
  for (const e of elements) {
    if (e.$type === 'bpmn:BoundaryEvent' && isCompensate(e)) checkBoundary(e, scope, next, cyclic, refuse);
    if (e.$type === 'bpmn:BoundaryEvent' && e.attachedToRef?.isForCompensation) {
      refuse(e, '补偿处理活动上不能附加边界事件', 'a boundary event on a compensation handler is not run here (the compensation throw would go on as if the handler had completed)');
    }
    if (e.isForCompensation) checkHandler(e, scope, refuse);
    if ((e.$type === 'bpmn:IntermediateThrowEvent' || e.$type === 'bpmn:EndEvent') && isCompensate(e)) checkThrow(e, elements, refuse, warnings);
    if (isCancel(e)) checkCancel(e, scope, refuse);
    if (e.$type === 'bpmn:StartEvent' && isCompensate(e)) {
      refuse(e, '补偿事件子流程尚不支持', 'compensation event sub-processes (a compensation start event) are not run yet');
    }
    if (e.flowElements) visitScope(e, [...onCycle, reaches(next, String(e.id))], refuse, warnings);
  }
}

function checkBoundary(e: ModdleElement, scope: ModdleElement, next: Map<string, string[]>, cyclicScope: boolean, refuse: Refuse): void {
  const attached = e.attachedToRef as ModdleElement | undefined;
  if (!attached) return;
  if (!TASKS.has(attached.$type)) {
    refuse(e, `补偿边界事件只支持附在任务上（${attached.$type.slice(5)} 尚不支持）`, `a compensation boundary event is only run on a task here; on a ${attached.$type.slice(5)} it is not run yet`);
  } else if (attached.loopCharacteristics) {
    refuse(e, '多实例活动的补偿尚不支持', 'compensating a multi-instance activity (once per completed instance) is not run yet');
  } else if (cyclicScope || reaches(next, String(attached.id))) {
    refuse(e, `活动 ${attached.id} 位于循环中，可能多次完成，其补偿尚不支持`, `activity ${attached.id} lies on a cycle and may complete more than once; compensating each completion is not run yet`);
  }
  const outgoing = flowsOf(scope).filter((f) => f.sourceRef?.id === e.id);
  if (outgoing.length) refuse(e, '补偿边界事件不能有流出的顺序流（Camunda 7 同样不接受）', 'a compensation boundary event cannot have outgoing sequence flows (Camunda 7 refuses it too)');
  const handlers = associationsOf(scope).filter((a) => a.sourceRef?.id === e.id).map((a) => a.targetRef as ModdleElement);
  if (handlers.length !== 1 || !handlers[0]?.isForCompensation) {
    refuse(e, '补偿边界事件须通过一条关联连接到一个补偿处理活动（isForCompensation="true"）', 'a compensation boundary event needs exactly one association to a compensation handler (an activity with isForCompensation="true")');
  }
}

function checkHandler(e: ModdleElement, scope: ModdleElement, refuse: Refuse): void {
  if (!TASKS.has(e.$type)) {
    refuse(e, `补偿处理活动只支持任务（${e.$type.slice(5)} 尚不支持）`, `a compensation handler is only run as a task here; a ${e.$type.slice(5)} handler is not run yet`);
  } else if (e.loopCharacteristics) {
    refuse(e, '多实例补偿处理活动尚不支持', 'a multi-instance compensation handler is not run yet');
  }
  if (flowsOf(scope).some((f) => f.sourceRef?.id === e.id || f.targetRef?.id === e.id)) {
    refuse(e, '补偿处理活动不能有顺序流（Camunda 7 同样不接受）', 'a compensation handler cannot have incoming or outgoing sequence flows (Camunda 7 refuses it too)');
  }
  const sources = associationsOf(scope).filter((a) => a.targetRef?.id === e.id).map((a) => a.sourceRef as ModdleElement);
  if (sources.length !== 1 || sources[0]?.$type !== 'bpmn:BoundaryEvent' || !isCompensate(sources[0])) {
    refuse(e, '补偿处理活动须恰好由一个补偿边界事件关联', 'a compensation handler must be associated with exactly one compensation boundary event');
  }
}

function checkThrow(e: ModdleElement, elements: ModdleElement[], refuse: Refuse, warnings: Problem[]): void {
  const definition = compensateDefinition(e)!;
  const ref = definition.activityRef as ModdleElement | undefined;
  if (ref && !elements.includes(ref)) {
    refuse(e, `activityRef="${ref.id}" 不在本事件所在的范围内（Camunda 7 同样不接受）`, `activityRef="${ref.id}": no activity with that id in the scope of this event (Camunda 7 refuses it too)`);
  } else if (ref && !elements.some((b) => b.$type === 'bpmn:BoundaryEvent' && isCompensate(b) && b.attachedToRef?.id === ref.id)) {
    refuse(e, `activityRef="${ref.id}" 所指的活动没有补偿边界事件`, `activityRef="${ref.id}" names an activity without a compensation boundary event; compensating it is not run here`);
  }
  const nested = elements.filter((s) => s.flowElements && (!ref || ref.id === s.id) && hasCompensationInside(s));
  for (const s of nested) {
    refuse(e, `补偿会传递到已完成的子流程 ${s.id} 内部，尚不支持`, `compensation would propagate into the completed sub-process ${s.id} and its handlers; that is not run yet`);
  }
  if (definition.waitForCompletion === false) {
    warnings.push({ elementId: String(e.id), message: `${e.id}：不支持 waitForCompletion="false"，补偿事件会等待补偿完成（与 Camunda 7 相同） / ${e.id}: waitForCompletion="false" is not supported; the event waits for compensation to complete, as in Camunda 7` });
  }
}

const isCancel = (e: ModdleElement) => ((e.eventDefinitions ?? []) as ModdleElement[]).some((d) => d.$type === 'bpmn:CancelEventDefinition');

/** Gateways that let paths of a transaction run side by side. */
const CONCURRENT = new Set(['bpmn:ParallelGateway', 'bpmn:InclusiveGateway', 'bpmn:ComplexGateway']);
const ONE_PATH = new Set(['bpmn:ExclusiveGateway', 'bpmn:EventBasedGateway']);

/**
 * A cancel end event directly in a transaction with one cancel boundary event
 * (as Camunda 7 requires), and a cancel boundary event on a transaction. The
 * transaction may not run paths side by side: Camunda's documentation and its
 * engine differ on whether they are interrupted before or after compensation.
 */
function checkCancel(e: ModdleElement, scope: ModdleElement, refuse: Refuse): void {
  if (e.$type === 'bpmn:BoundaryEvent') {
    const tx = e.attachedToRef as ModdleElement | undefined;
    if (tx && tx.$type !== 'bpmn:Transaction') refuse(e, '取消边界事件只能附在事务子流程上（Camunda 7 同样不接受）', 'a cancel boundary event can only be attached to a transaction sub-process (Camunda 7 refuses it too)');
    else if (tx && cancelBoundaries(scope, tx).length > 1) refuse(e, '一个事务子流程只能有一个取消边界事件（Camunda 7 同样不接受）', 'a transaction sub-process can have only one cancel boundary event (Camunda 7 refuses it too)');
    return;
  }
  if (e.$type !== 'bpmn:EndEvent') {
    refuse(e, '取消事件只能是结束事件或边界事件', 'a cancel event can only be an end event or a boundary event');
    return;
  }
  if (scope.$type !== 'bpmn:Transaction') {
    refuse(e, '取消结束事件只能直接位于事务子流程中（Camunda 7 同样不接受）', 'a cancel end event can only be used directly inside a transaction sub-process (Camunda 7 refuses it too)');
    return;
  }
  if (!cancelBoundaries(scope.$parent!, scope).length) {
    refuse(e, `事务子流程 ${scope.id} 没有取消边界事件`, `transaction ${scope.id} has no cancel boundary event to leave by`);
  }
  const concurrent = concurrency(scope);
  if (concurrent) {
    refuse(e, `事务子流程 ${scope.id} 中有并行的路径（${concurrent}），取消时的行为尚不支持`, `transaction ${scope.id} runs paths side by side (${concurrent}); cancelling it while they run is not run here`);
  }
  for (const s of ((scope.flowElements ?? []) as ModdleElement[]).filter((x) => x.flowElements && hasCompensationInside(x))) {
    refuse(e, `补偿会传递到已完成的子流程 ${s.id} 内部，尚不支持`, `compensation would propagate into the completed sub-process ${s.id} and its handlers; that is not run yet`);
  }
}

function cancelBoundaries(parent: ModdleElement, tx: ModdleElement): ModdleElement[] {
  return ((parent?.flowElements ?? []) as ModdleElement[]).filter((b) => b.$type === 'bpmn:BoundaryEvent' && b.attachedToRef === tx && isCancel(b));
}

/** The first element of a transaction that starts a path beside another, or null. */
function concurrency(tx: ModdleElement): string | null {
  const elements = (tx.flowElements ?? []) as ModdleElement[];
  const flows = flowsOf(tx);
  let starts = 0;
  for (const e of elements) {
    if (e.$type === 'bpmn:SequenceFlow' || e.isForCompensation || (e.$type === 'bpmn:SubProcess' && e.triggeredByEvent)) continue;
    if (CONCURRENT.has(e.$type)) return String(e.id);
    if (e.$type === 'bpmn:BoundaryEvent') {
      if (e.cancelActivity === false) return String(e.id);
      continue;
    }
    const out = flows.filter((f) => f.sourceRef?.id === e.id).length;
    if (out > 1 && !ONE_PATH.has(e.$type)) return String(e.id);
    if (!flows.some((f) => f.targetRef?.id === e.id) && ++starts > 1) return String(e.id);
  }
  return null;
}

function hasCompensationInside(scope: ModdleElement): boolean {
  return ((scope.flowElements ?? []) as ModdleElement[]).some((e) => (e.$type === 'bpmn:BoundaryEvent' && isCompensate(e)) || (e.flowElements && hasCompensationInside(e)));
}

function flowsOf(scope: ModdleElement): ModdleElement[] {
  return ((scope.flowElements ?? []) as ModdleElement[]).filter((f) => f.$type === 'bpmn:SequenceFlow');
}

/** Associations live in `artifacts`, of the scope or (as some modelers write them) of the process. */
function associationsOf(scope: ModdleElement): ModdleElement[] {
  let root: ModdleElement | undefined = scope;
  const all: ModdleElement[] = [];
  while (root) {
    all.push(...((root.artifacts ?? []) as ModdleElement[]).filter((a) => a.$type === 'bpmn:Association'));
    root = root.$parent?.$type === 'bpmn:Definitions' ? undefined : root.$parent;
  }
  return all;
}

function successors(elements: ModdleElement[]): Map<string, string[]> {
  const next = new Map<string, string[]>();
  for (const f of elements.filter((x) => x.$type === 'bpmn:SequenceFlow')) {
    const from = f.sourceRef?.id as string | undefined;
    const to = f.targetRef?.id as string | undefined;
    if (from && to) next.set(from, [...(next.get(from) ?? []), to]);
  }
  // A boundary event's path starts from the activity it is attached to.
  for (const b of elements.filter((x) => x.$type === 'bpmn:BoundaryEvent' && x.attachedToRef)) {
    const from = String(b.attachedToRef.id);
    next.set(from, [...(next.get(from) ?? []), String(b.id)]);
  }
  return next;
}

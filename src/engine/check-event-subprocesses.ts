import type { ModdleElement } from 'bpmn-moddle';

/*
 * Event sub-processes and escalations run as Camunda 7's (event-subprocesses.ts)
 * except where refused here, at deployment, naming the element:
 * - a start that is not one message, signal, timer, error or escalation
 *   definition (conditional starts are not run yet; a none start is no
 *   event sub-process start at all);
 * - a non-interrupting error start (Camunda refuses it too);
 * - an error or escalation catch without a reference (catch-all): the
 *   engine matches only by reference;
 * - a timer start whose value is an expression; a message start without a
 *   message or one whose name is an expression;
 * - a non-interrupting message, signal, escalation or cycle start whose sub-process can
 *   wait: it may fire again while the first run still waits, and Camunda then
 *   runs the two side by side, which the engine cannot (one run per element);
 * - an event sub-process inside an event sub-process;
 * - two escalations sharing a code: Camunda catches by code, the engine by reference;
 * - an error start whose scope holds an external task: a worker's BPMN
 *   error does not reach an event sub-process here (only error end events do);
 * - an escalation or error whose innermost catcher is a boundary event
 *   while another catcher waits further out (for an error: an event
 *   sub-process): Camunda 7 lets the innermost catch it, the engine hands it
 *   on to both or to the outer one. (An event sub-process innermost stops
 *   it there in the engine too.)
 */

type Problem = { elementId: string; message: string };

/** Elements after which an event sub-process still runs on in the same command (it never waits). */
const STRAIGHT_THROUGH = new Set([
  'bpmn:StartEvent', 'bpmn:EndEvent', 'bpmn:SequenceFlow', 'bpmn:ScriptTask', 'bpmn:ExclusiveGateway', 'bpmn:ParallelGateway',
  'bpmn:InclusiveGateway', 'bpmn:IntermediateThrowEvent', 'bpmn:ManualTask', 'bpmn:Task',
]);

export function checkEventSubProcesses(processes: ModdleElement[]): Problem[] {
  const root = processes[0]?.$parent as ModdleElement | undefined;
  const problems: Problem[] = [];
  const refuse = (e: ModdleElement, zh: string, en: string) => problems.push({ elementId: String(e.id), message: `${e.id}：${zh} / ${e.id}: ${en}` });
  const visit = (scope: ModdleElement, insideEsp: boolean) => {
    const children = (scope.flowElements ?? []) as ModdleElement[];
    for (const e of children) {
      if (e.$type === 'bpmn:SubProcess' && e.triggeredByEvent) {
        if (insideEsp) refuse(e, '事件子流程内不能再嵌套事件子流程', 'an event sub-process inside an event sub-process is not run here');
        checkStart(e, scope, refuse);
      }
      if (e.$type === 'bpmn:BoundaryEvent') checkEscalationCatch(e, refuse);
      if (e.flowElements) visit(e, insideEsp || Boolean(e.triggeredByEvent));
    }
  };
  for (const proc of processes) visit(proc, false);
  for (const proc of processes) problems.push(...checkCatchPaths(proc));
  const codes = new Map<string, string>();
  for (const e of (root?.rootElements ?? []) as ModdleElement[]) {
    if (e.$type !== 'bpmn:Escalation' || e.escalationCode == null) continue;
    const other = codes.get(String(e.escalationCode));
    if (other) refuse(e, `与 ${other} 的升级代码相同`, `has the escalation code of ${other}: Camunda 7 catches by code, this server by reference; give each code one escalation`);
    codes.set(String(e.escalationCode), String(e.id));
  }
  return problems;
}

function checkStart(esp: ModdleElement, scope: ModdleElement, refuse: (e: ModdleElement, zh: string, en: string) => void): void {
  const starts = ((esp.flowElements ?? []) as ModdleElement[]).filter((c) => c.$type === 'bpmn:StartEvent');
  if (starts.length !== 1) return refuse(esp, '事件子流程须恰有一个启动事件', 'an event sub-process needs exactly one start event');
  const start = starts[0]!;
  const definitions = (start.eventDefinitions ?? []) as ModdleElement[];
  const type = definitions[0]?.$type;
  const interrupting = start.isInterrupting !== false;
  if (definitions.length !== 1 || !['bpmn:MessageEventDefinition', 'bpmn:SignalEventDefinition', 'bpmn:TimerEventDefinition', 'bpmn:ErrorEventDefinition', 'bpmn:EscalationEventDefinition'].includes(type!)) {
    return refuse(start, '事件子流程的启动事件须为消息、信号、定时、错误或升级事件（条件启动尚不支持）',
      'an event sub-process start must be one message, signal, timer, error or escalation event (conditional starts are not run yet)');
  }
  const d = definitions[0]!;
  if (type === 'bpmn:ErrorEventDefinition') {
    if (!interrupting) refuse(start, '错误启动事件必须是中断型', 'an error start event must be interrupting (Camunda 7 refuses it too)');
    if (!d.errorRef) refuse(start, '不指定错误的错误启动事件（捕获全部）尚不支持', 'an error start without errorRef (catch-all) is not run here yet; name the error');
    if (holds(scope, esp, (e) => e.type === 'external' || e.$type === 'bpmn:CallActivity')) {
      refuse(start, '其范围内的外部任务或调用活动抛出的 BPMN 错误不会触发此事件子流程',
        'a BPMN error a worker throws from an external task, or a called process throws up to its call activity, in this scope would not reach this event sub-process here; only error end events do');
    }
  }
  if (type === 'bpmn:EscalationEventDefinition' && !d.escalationRef) {
    refuse(start, '不指定升级的升级启动事件（捕获全部）尚不支持', 'an escalation start without escalationRef (catch-all) is not run here yet; name the escalation');
  }
  if (type === 'bpmn:EscalationEventDefinition' && holds(scope, esp, (e) => e.$type === 'bpmn:CallActivity')) {
    refuse(start, '被调用流程抛出的升级不会传到调用方，此事件子流程的范围内不能有调用活动', 'an escalation a called process throws is not carried up to its call activity here, so an escalation event sub-process cannot have a call activity in its scope');
  }
  if (scope.loopCharacteristics) {
    refuse(esp, '多实例子流程内的事件子流程尚不支持（不会按每个实例触发）', 'an event sub-process inside a multi-instance sub-process is not run yet: its start would be armed once for all instances, not once per instance');
  }
  if (type === 'bpmn:MessageEventDefinition' && (!d.messageRef?.name || String(d.messageRef.name).includes('${'))) {
    refuse(start, '消息启动事件须引用有名称的消息（名称不能是表达式）', 'a message start needs a message with a name, not an expression');
  }
  if (type === 'bpmn:SignalEventDefinition' && (!d.signalRef?.name || String(d.signalRef.name).includes('${'))) {
    refuse(start, '信号启动事件须引用有名称的信号（名称不能是表达式）', 'a signal start needs a signal with a name, not an expression');
  }
  const timer = type === 'bpmn:TimerEventDefinition' ? (['timeCycle', 'timeDate', 'timeDuration'] as const).find((k) => d[k]) : undefined;
  if (timer && String(d[timer].body ?? '').includes('${')) {
    refuse(start, '事件子流程的定时启动不能使用表达式', 'a timer start of an event sub-process cannot use an expression here yet');
  }
  const firesAgain = type === 'bpmn:MessageEventDefinition' || type === 'bpmn:SignalEventDefinition' || type === 'bpmn:EscalationEventDefinition' || timer === 'timeCycle';
  if (!interrupting && firesAgain && waits(esp)) {
    refuse(start, '可多次触发的非中断事件子流程中不能有等待的环节（前一次未结束时再次触发，Camunda 会并行运行两次，本服务器不能）',
      'a non-interrupting message, signal, escalation or cycle start whose sub-process waits is not run here: fired again while the first run waits, Camunda 7 runs both side by side, which this engine cannot');
  }
}

/** An escalation caught by a boundary event must name its escalation (see above). */
function checkEscalationCatch(e: ModdleElement, refuse: (e: ModdleElement, zh: string, en: string) => void): void {
  const d = ((e.eventDefinitions ?? []) as ModdleElement[]).find((x) => x.$type === 'bpmn:EscalationEventDefinition');
  if (d && !d.escalationRef) refuse(e, '不指定升级的升级边界事件（捕获全部）尚不支持', 'an escalation boundary event without escalationRef (catch-all) is not run here yet; name the escalation');
  if (d && (e.attachedToRef as ModdleElement | undefined)?.$type === 'bpmn:CallActivity') {
    refuse(e, '被调用流程抛出的升级不会传到调用活动，调用活动上不能有升级边界事件', 'an escalation a called process throws is not carried up to its call activity here, so a call activity cannot have an escalation boundary event');
  }
  // Camunda hands a called process's uncaught escalation on from the call activity outward, so a boundary
  // on a sub-process around one would catch it; here it never leaves the child, so that catch never fires.
  const host = e.attachedToRef as ModdleElement | undefined;
  if (d && host?.flowElements && holds(host, e, (x) => x.$type === 'bpmn:CallActivity')) {
    refuse(e, '被调用流程抛出的升级不会传到调用方，范围内有调用活动的子流程上不能有升级边界事件', 'an escalation a called process throws is not carried up to its call activity here, so a sub-process holding a call activity cannot have an escalation boundary event');
  }
}

/** Whether anything in the sub-process may wait (see STRAIGHT_THROUGH). */
function waits(container: ModdleElement): boolean {
  return ((container.flowElements ?? []) as ModdleElement[]).some((e) => {
    if (e.$type === 'bpmn:SubProcess' || e.$type === 'bpmn:Transaction') return waits(e);
    return !STRAIGHT_THROUGH.has(e.$type);
  });
}

/** Whether the scope (but not the event sub-process itself) holds an element that `is`, in embedded sub-processes too. */
function holds(scope: ModdleElement, except: ModdleElement, is: (e: ModdleElement) => boolean): boolean {
  return ((scope.flowElements ?? []) as ModdleElement[]).some((e) => e !== except
    && (is(e) || (Boolean(e.flowElements) && !e.triggeredByEvent && holds(e, except, is))));
}

type Level = { scope: ModdleElement; attached: ModdleElement[] };

/**
 * Each error or escalation a throw or end event raises, with the catchers
 * on its way out to the process (see above): at each enclosing scope, its
 * event sub-processes' starts and the boundary events attached to it.
 */
function checkCatchPaths(proc: ModdleElement): Problem[] {
  const problems: Problem[] = [];
  const walk = (levels: Level[]) => {
    const children = (levels[0]!.scope.flowElements ?? []) as ModdleElement[];
    for (const e of children) {
      for (const d of (e.$type === 'bpmn:EndEvent' || e.$type === 'bpmn:IntermediateThrowEvent' ? e.eventDefinitions ?? [] : []) as ModdleElement[]) {
        const kind = d.$type === 'bpmn:ErrorEventDefinition' ? 'error' : d.$type === 'bpmn:EscalationEventDefinition' ? 'escalation' : null;
        const ref = kind === 'error' ? d.errorRef : d.escalationRef;
        if (!kind || !ref) continue;
        const byLevel = levels.map((level) => catchersAt(level, d.$type, ref)).filter((l) => l.length);
        const catchers = byLevel.flat();
        // An event sub-process innermost stops it there, as in Camunda; a boundary event does not stop the engine's handing on.
        const innermostIsEsp = byLevel[0]?.some((c) => c.$type === 'bpmn:StartEvent');
        const outward = byLevel.slice(1).flat();
        if (!innermostIsEsp && outward.length && (kind === 'escalation' || outward.some((c) => c.$type === 'bpmn:StartEvent'))) {
          const names = catchers.map((c) => c.id).join(', ');
          problems.push({
            elementId: String(e.id),
            message: `${e.id}：此${kind === 'error' ? '错误' : '升级'}可被多层捕获（${names}），尚不支持 / ${e.id}: this ${kind} could be caught at more than one level (${names}); Camunda 7 lets the innermost catch it, which is not run here yet`,
          });
        }
      }
      if (!e.flowElements) continue;
      const attached = children.filter((b) => b.$type === 'bpmn:BoundaryEvent' && b.attachedToRef?.id === e.id);
      walk([{ scope: e, attached }, ...levels]);
    }
  };
  walk([{ scope: proc, attached: [] }]);
  return problems;
}

/** The starts of a scope's event sub-processes and its boundary events that catch `ref`. */
function catchersAt(level: Level, type: string, ref: ModdleElement): ModdleElement[] {
  const esps = ((level.scope.flowElements ?? []) as ModdleElement[]).filter((e) => e.$type === 'bpmn:SubProcess' && e.triggeredByEvent);
  const starts = esps.flatMap((esp) => ((esp.flowElements ?? []) as ModdleElement[]).filter((c) => c.$type === 'bpmn:StartEvent'));
  return [...starts, ...level.attached].filter((c) => ((c.eventDefinitions ?? []) as ModdleElement[])
    .some((d) => d.$type === type && (d.errorRef ?? d.escalationRef)?.id === ref.id));
}

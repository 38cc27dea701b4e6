import * as elements from 'bpmn-elements';
import { firstOccurrence, type TimerSpec } from './schedule.ts';
import type { Recorder } from './recorder.ts';

/*
 * Event sub-processes (`triggeredByEvent="true"`) as Camunda 7 runs them.
 * The engine starts one only when an error or escalation is thrown inside
 * its scope, and never interrupts the scope. So:
 * - a message, signal or timer start is the host's: the engine sees a none
 *   start (HostStartEvent), and the host opens a subscription or timer row
 *   for each such start when its scope starts, closes them when the scope
 *   ends, and runs the event sub-process when one is correlated or fires;
 * - an interrupting start (any kind) cancels everything else in its scope
 *   first, and the scope's other event starts with it, as Camunda's does.
 * A host wait of a scope is named `<scope execution>~<start event>~`: its
 * subscription has that execution id, its n-th timer `<that>_<n>_t`, so
 * closing the name deletes all of them (store/timers.ts deletes by prefix).
 */

export type EventStartKind = 'message' | 'signal' | 'timer' | 'error' | 'escalation';

export interface EventStart {
  espId: string;
  /** The process or sub-process whose event sub-process it is. */
  scopeId: string;
  startId: string;
  kind: EventStartKind;
  interrupting: boolean;
  messageId?: string;
  messageName?: string;
  timer?: TimerSpec;
}

const HOST_KINDS = new Set<EventStartKind>(['message', 'signal', 'timer']);

const KINDS: Record<string, EventStartKind> = {
  'bpmn:MessageEventDefinition': 'message', 'bpmn:SignalEventDefinition': 'signal', 'bpmn:TimerEventDefinition': 'timer',
  'bpmn:ErrorEventDefinition': 'error', 'bpmn:EscalationEventDefinition': 'escalation',
};

/** The event starts of a compiled definition, from its serialized activities. */
export function eventStartsOf(compiled: string): EventStart[] {
  const cached = cache.get(compiled);
  if (cached) return cached;
  const activities: any[] = JSON.parse(compiled).activities ?? [];
  const esps = new Map(activities.filter((a) => a.behaviour?.triggeredByEvent).map((a) => [a.id, a] as const));
  const starts: EventStart[] = [];
  for (const a of activities) {
    const esp = esps.get(a.parent?.id);
    if (!esp || a.type !== 'bpmn:StartEvent') continue;
    const definition = (a.behaviour?.eventDefinitions ?? [])[0];
    const kind = KINDS[definition?.type];
    if (!kind) continue;
    const b = definition.behaviour ?? {};
    const ref = b.messageRef ?? b.signalRef;
    const timerType = (['timeCycle', 'timeDate', 'timeDuration'] as const).find((k) => typeof b[k] === 'string');
    starts.push({
      espId: esp.id, scopeId: esp.parent.id, startId: a.id, kind, interrupting: a.behaviour.isInterrupting !== false,
      ...(ref ? { messageId: String(ref.id), messageName: String(ref.name ?? ref.id) } : {}),
      ...(timerType ? { timer: { timerType, expression: String(b[timerType]).trim() } } : {}),
    });
  }
  if (cache.size > 200) cache.clear();
  cache.set(compiled, starts);
  return starts;
}
const cache = new Map<string, EventStart[]>();

/**
 * A message, signal or timer start of an event sub-process is a none start
 * to the engine: the host decides when it happens (see above).
 */
export function HostStartEvent(activityDef: any, context: any) {
  const parent = context.definitionContext?.getActivityById?.(activityDef.parent?.id);
  const kind = KINDS[activityDef.behaviour?.eventDefinitions?.[0]?.type];
  if (!parent?.behaviour?.triggeredByEvent || !kind || !HOST_KINDS.has(kind)) return elements.StartEvent(activityDef, context);
  const { eventDefinitions: _hostOwned, ...behaviour } = activityDef.behaviour;
  return elements.StartEvent({ ...activityDef, behaviour }, context);
}

/** The name of a host wait (see above), and its parts back. */
const waitName = (scopeExecutionId: string, startId: string) => `${scopeExecutionId}~${startId}~`;
function parseWait(executionId: string): { scopeExecutionId: string; startId: string; firing?: number } | null {
  const m = /^(.+)~([^~]+)~(?:_(\d+)_t)?$/.exec(executionId);
  return m ? { scopeExecutionId: m[1]!, startId: m[2]!, ...(m[3] ? { firing: Number(m[3]) } : {}) } : null;
}

const kElements = Symbol.for('elements');

/**
 * Cancels everything running in a scope (a process or sub-process
 * execution) but what `keep` keeps, as the engine's terminate does: the
 * elements are stopped (the recorder cancels them and closes their waits)
 * and forgotten by the scope, and its flows stop, so nothing in it moves on.
 */
function interruptScope(scope: any, keep: (content: any) => boolean): void {
  const postponed: Set<any> = scope[kElements].postponed;
  for (const flow of scope.getSequenceFlows?.() ?? []) flow.stop();
  for (const msg of [...postponed]) {
    if (keep(msg.content)) continue;
    postponed.delete(msg);
    if (!msg.content.isSequenceFlow && !msg.content.isAssociation) scope._getChildApi(msg)?.stop();
    msg.ack();
  }
}

/** The execution of a running scope (the process, or a sub-process by its execution id), or undefined. */
function findScope(engine: any, scopeExecutionId: string, find: (executionId: string) => any): any {
  for (const definition of engine.execution?.definitions ?? []) {
    for (const proc of definition.getRunningProcesses?.() ?? []) {
      if (proc.executionId === scopeExecutionId) return proc.execution;
    }
  }
  return find(scopeExecutionId)?.owner?.execution?.source?.execution;
}

/** What one run does with event sub-processes: opens and closes their waits, interrupts, triggers. */
export class EventSubProcessRun {
  private readonly byScope = new Map<string, EventStart[]>();
  private readonly byEsp = new Map<string, EventStart>();
  /** Whether this run's target was a host wait that fired. */
  triggered = false;

  constructor(starts: EventStart[], private readonly recorder: Recorder, private readonly now: Date = new Date(), private readonly zone = 'Asia/Shanghai') {
    for (const s of starts) {
      this.byScope.set(s.scopeId, [...(this.byScope.get(s.scopeId) ?? []), s]);
      this.byEsp.set(s.espId, s);
    }
    const { listener } = recorder;
    listener.on('activity.end', setCaughtEscalationVariable);
    if (!starts.length) return;
    listener.on('activity.start', (api: any) => {
      const started = this.byEsp.get(api.id);
      if (started && api.owner?.triggeredByEvent && started.interrupting && !HOST_KINDS.has(started.kind)) this.interruptFor(api);
      else if (this.byScope.has(api.id) && !api.owner?.triggeredByEvent) this.open(api.id, api.executionId);
    });
    const close = (api: any) => {
      if (this.byScope.has(api.id) && api.executionId) this.closeScope(api.id, api.executionId);
    };
    listener.on('activity.end', close);
    listener.on('activity.leave', close);
    listener.on('activity.stop', close);
  }

  /** Opens the process scope's waits once the instance has started. */
  openProcess(engine: any): void {
    for (const definition of engine.execution?.definitions ?? []) {
      for (const proc of definition.getRunningProcesses?.() ?? []) {
        if (this.byScope.has(proc.id)) this.open(proc.id, proc.executionId);
      }
    }
  }

  /** Whether `executionId` names a host wait of an event start (see above). */
  static isHostWait(executionId: string): boolean {
    return parseWait(executionId) != null;
  }

  /**
   * Runs the event sub-process a host wait names: interrupting its scope
   * first, or, for a non-interrupting one, leaving the wait open (a timer
   * cycle arms its next firing). Returns false when the scope no longer runs.
   */
  trigger(engine: any, executionId: string, find: (executionId: string) => any): boolean {
    const wait = parseWait(executionId);
    const scope = wait && findScope(engine, wait.scopeExecutionId, find);
    const start = wait && scope && (this.byScope.get(scope.id) ?? []).find((s) => s.startId === wait.startId);
    if (!wait || !start) return false;
    const name = waitName(wait.scopeExecutionId, start.startId);
    if (start.interrupting) {
      interruptScope(scope, () => false);
      this.closeScope(start.scopeId, wait.scopeExecutionId);
    } else if (start.kind === 'timer') {
      const firing = wait.firing ?? 1;
      this.recorder.closed.add(`${name}_${firing}`);
      if (start.timer!.timerType === 'timeCycle' && firing < cycleRepeats(start.timer!.expression)) this.arm(start, name, firing + 1);
    }
    this.triggered = true;
    scope.getActivityById(start.espId).run();
    return true;
  }

  /** An error or escalation start began its event sub-process: the rest of its scope ends. */
  private interruptFor(api: any): void {
    const scope = api.owner?.parentElement?.execution;
    const execution = scope?.source?.execution ?? scope;
    if (!execution?.[kElements]) return;
    // The end event that threw completes as it would have; anything else is cancelled.
    interruptScope(execution, (c) => c.id === api.id || c.type === 'bpmn:EndEvent');
    const start = this.byEsp.get(api.id)!;
    this.closeScope(start.scopeId, execution.executionId);
  }

  private open(scopeId: string, scopeExecutionId: string): void {
    for (const s of this.byScope.get(scopeId) ?? []) {
      if (!HOST_KINDS.has(s.kind)) continue;
      const name = waitName(scopeExecutionId, s.startId);
      if (s.kind === 'timer') this.arm(s, name, 1);
      else this.recorder.waitingMessages.set(name, { kind: s.kind as 'message' | 'signal', activityId: s.startId, executionId: name, messageId: s.messageId!, messageName: s.messageName! });
    }
  }

  private arm(s: EventStart, name: string, firing: number): void {
    const due = firstOccurrence(s.timer!, this.now, this.zone)?.due;
    if (!due) return;
    const executionId = `${name}_${firing}_t`;
    this.recorder.timers.set(executionId, {
      activityId: s.startId, activityExecutionId: `${name}_${firing}`, executionId, timerType: s.timer!.timerType,
      expression: s.timer!.expression, expireAt: due, armedAt: this.now,
    });
  }

  /** The scope ended or was interrupted: its event starts wait no more. */
  private closeScope(scopeId: string, scopeExecutionId: string): void {
    for (const s of this.byScope.get(scopeId) ?? []) {
      if (HOST_KINDS.has(s.kind)) this.recorder.closed.add(waitName(scopeExecutionId, s.startId));
    }
  }
}

/**
 * When an event that caught an escalation ends (a boundary event, an
 * escalation start), sets its `camunda:escalationCodeVariable` to the
 * escalation's code in the process's scope, as Camunda does (error-events.ts
 * does the same for errors). The caught escalation is the event's output.
 */
function setCaughtEscalationVariable(api: any): void {
  const caught = api.content?.output;
  const definitions: any[] = api.owner?.behaviour?.eventDefinitions ?? [];
  const name = definitions.find((d) => d?.type === 'bpmn:EscalationEventDefinition')?.behaviour?.escalationCodeVariable;
  const variables = processEnvironmentOf(api)?.variables;
  if (typeof name !== 'string' || !name || !caught?.id || !variables) return;
  const escalation = api.owner.context?.definitionContext?.getActivityById?.(caught.id);
  variables[name] = escalation?.behaviour?.escalationCode ?? null;
}

/**
 * The process's environment, where Camunda's `setVariable` lands a variable
 * no inner scope holds: an event inside a (event) sub-process sees a copy.
 */
export function processEnvironmentOf(api: any): any {
  let element = api.owner;
  for (let depth = 0; element && element.type !== 'bpmn:Process' && depth < 100; depth++) element = element.parentElement;
  return element?.environment ?? api.environment;
}

/** How many times a cycle fires (`R3/PT1H`: 3); unbounded (`R/PT1H`, cron) as Infinity. */
function cycleRepeats(expression: string): number {
  const m = /^R(\d*)\//.exec(expression);
  return m?.[1] ? Number(m[1]) : Infinity;
}

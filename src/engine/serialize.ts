import * as elements from 'bpmn-elements';
import type { ModdleElement, ParseResult } from 'bpmn-moddle';
import serializer, { TypeResolver } from 'moddle-context-serializer';
import { TimerValueError, timerValueProblem } from './check-timers.ts';
import { CamundaConditionalEventDefinition } from './conditional.ts';
import { CamundaBpmnError } from './error-events.ts';
import { CamundaLoopCharacteristics } from './multi-instance.ts';
import { CamundaCancelEventDefinition, CamundaCompensateEventDefinition } from './compensation.ts';
import { HostStartEvent } from './event-subprocesses.ts';
import { scopedSubProcess } from './sub-process-instances.ts';
import { decisionAware } from './business-rule-task.ts';
import { firstOccurrence, parseTimeDate } from './schedule.ts';

/**
 * Camunda's `camunda:type="external"` tasks are done by a worker: the engine
 * waits on them like on a user task (a signal task) until the worker's
 * result is signalled in. Other tasks keep the engine's own behaviour.
 */
function externalAware(own: (def: any, context: any) => unknown) {
  return function ExternalAwareTask(activityDef: any, context: any) {
    return activityDef.behaviour?.type === 'external' ? elements.SignalTask(activityDef, context) : own(activityDef, context);
  };
}

/** Whether an element the engine waits on is an external (worker) task. */
export function isExternalTask(behaviour: { type?: unknown } | undefined): boolean {
  return behaviour?.type === 'external';
}

/**
 * The engine decides whether a `timeDate` has passed with the process's
 * wall clock and zone, and completes a past one on the spot. The server
 * must decide instead: a date without an offset is read in the server's
 * zone (HostTimers.zone), and compared with the host's "now" when it gives
 * one (HostTimers.now, an injected clock in tests).
 */
function HostTimerEventDefinition(activity: any, eventDefinition: any) {
  const definition = new (elements.TimerEventDefinition as any)(activity, eventDefinition);
  definition.parse = hostParse;
  const own = definition._getTimers;
  definition._getTimers = function getTimers(this: any, message: unknown) {
    const result = own.call(this, message);
    if (result.timerType !== 'timeDate' || !result.expireAt) return result;
    const { now, zone } = (this.environment?.timers ?? {}) as { now?: Date; zone?: string };
    const local = zone && typeof result.timeDate === 'string' ? parseTimeDate(result.timeDate, zone) : null;
    if (local) result.expireAt = local;
    if (now || local) result.timeout = new Date(result.expireAt).getTime() - (now ?? new Date()).getTime();
    return result;
  };
  return definition;
}

/**
 * Replaces the engine's timer parser (@0dep/piso), which loops without end
 * on `R/PT0S` and steps period by period through long gaps: the value,
 * literal or resolved from `${...}` just now, is checked first (a bad one
 * fails the run, naming the element: an incident, or a 400 to the person
 * waiting), then timed by schedule.ts, which computes rather than steps.
 * Counted from the process clock, as the engine's own parser did: the
 * service re-times the row by the server's clock (execution.ts, dueAt).
 */
function hostParse(this: any, timerType: string, value: unknown): { expireAt: Date; repeat?: number; delay: number } {
  const zone: string = this.environment?.timers?.zone ?? 'Asia/Shanghai';
  const now = new Date();
  const problem = timerValueProblem(timerType, value, now, zone);
  if (problem) throw new TimerValueError(`定时事件 ${this.activity?.id} / timer ${this.activity?.id}: ${problem}`);
  if (value instanceof Date) return { expireAt: value, delay: value.getTime() - now.getTime() };
  const text = String(value).trim();
  if (timerType === 'timeDate') {
    const expireAt = parseTimeDate(text, zone)!;
    return { expireAt, delay: expireAt.getTime() - now.getTime() };
  }
  // A cycle with nothing left before its end date (R0, or re-parsed on resume after the end) is due at
  // once, as the engine's parser had it: the timer row being fired decides, not this.
  const due = firstOccurrence({ timerType: timerType as 'timeDuration' | 'timeCycle', expression: text }, now, zone)?.due ?? now;
  const repeats = /^R(\d*)\//.exec(text)?.[1];
  return {
    expireAt: due,
    delay: due.getTime() - now.getTime(),
    ...(repeats === undefined ? {} : { repeat: repeats === '' ? -1 : Number(repeats) }),
  };
}

/** Maps element types to engine behaviours; serializing and running must use the same one. */
export const typeResolver = TypeResolver(elements, (mapper) => {
  // Root elements that only describe (performer resources, data item types): nothing to run.
  mapper['bpmn:Resource'] = elements.Dummy;
  mapper['bpmn:ItemDefinition'] = elements.Dummy;
  mapper['bpmn:ServiceTask'] = externalAware(elements.ServiceTask);
  mapper['bpmn:SendTask'] = externalAware(elements.SendTask);
  // With camunda:decisionRef, a DMN decision evaluated in the run (business-rule-task.ts).
  mapper['bpmn:BusinessRuleTask'] = decisionAware(externalAware(elements.BusinessRuleTask));
  mapper['bpmn:TimerEventDefinition'] = HostTimerEventDefinition;
  mapper['bpmn:Error'] = CamundaBpmnError;
  mapper['bpmn:InclusiveGateway'] = InclusiveJoinGateway;
  mapper['bpmn:MultiInstanceLoopCharacteristics'] = CamundaLoopCharacteristics;
  mapper['bpmn:CompensateEventDefinition'] = CamundaCompensateEventDefinition;
  mapper['bpmn:CancelEventDefinition'] = CamundaCancelEventDefinition;
  mapper['bpmn:ConditionalEventDefinition'] = CamundaConditionalEventDefinition;
  // A sub-process's own variables are its instance's loop variables; what its elements set is the process's (sub-process-instances.ts).
  mapper['bpmn:SubProcess'] = scopedSubProcess(elements.SubProcess);
  mapper['bpmn:Transaction'] = scopedSubProcess(elements.Transaction);
  mapper['bpmn:StartEvent'] = HostStartEvent;
});

/**
 * An inclusive gateway with several incoming flows joins as Camunda 7's does:
 * it waits until every incoming flow brought a token or was found dead (the
 * engine discards the flows an inclusive or exclusive split did not take, and
 * the discard runs on to the join), as the engine's parallel join does. The
 * tokens already arrived live in the join's inbound queue, part of the saved
 * state, so the wait survives every save and recovery between completions.
 * A join on a cycle could wait for a token that never comes again, so such a
 * diagram is refused at deployment (check-joins.ts).
 */
function InclusiveJoinGateway(activityDef: any, context: any) {
  return elements.InclusiveGateway({ ...activityDef, isParallelGateway: true }, context);
}

/**
 * Serializes the engine's form of one process of a parsed definitions file.
 * A Camunda definition is one process, so the file's other processes and its
 * collaboration are left out: the engine would otherwise start a sibling
 * process when a message or signal reaches it, and Camunda never runs drawn
 * message flows (black-box pools have no process to map). Performer
 * resources without an assignment expression (documentation only) are left
 * out too. With `startEventIds`, only those start events are kept.
 * The parsed model is restored afterwards.
 */
export function serializeForEngine(parsed: ParseResult, process: ModdleElement, startEventIds?: string[], asNoneStart?: string): string {
  const restore: (() => void)[] = [];
  const root = parsed.rootElement;
  const roots = (root.rootElements ?? []) as ModdleElement[];
  root.rootElements = roots.filter((e) => e === process || (e.$type !== 'bpmn:Process' && e.$type !== 'bpmn:Collaboration'));
  restore.push(() => (root.rootElements = roots));
  if (startEventIds) restore.push(keepStartEvents(process, new Set(startEventIds)));
  if (asNoneStart) {
    // A timer start event: the scheduler decides when it fires, so the engine starts it as a none start.
    const start = (process.flowElements as ModdleElement[]).find((e) => e.id === asNoneStart);
    if (start) {
      // Removed, not emptied: the engine treats an empty list as an event still to wait for.
      const definitions = start.eventDefinitions;
      delete start.eventDefinitions;
      restore.push(() => (start.eventDefinitions = definitions));
    }
  }
  for (const element of walk(process)) {
    const resources = element.resources as ModdleElement[] | undefined;
    if (!resources?.some((r) => !r.resourceAssignmentExpression)) continue;
    element.resources = resources.filter((r) => r.resourceAssignmentExpression);
    restore.push(() => (element.resources = resources));
  }
  try {
    return serializer(parsed as never, typeResolver).serialize();
  } finally {
    for (const undo of restore) undo();
  }
}

/**
 * Leaves out the process's other start events and what only they lead to, so
 * the engine starts at exactly the start event the instance was started by.
 * (It would otherwise run every start event: a none start would race a
 * message start. And it starts every element without an incoming flow, so an
 * element reached only from a dropped start goes too, with its flows and its
 * boundary events, and so on down the path.) Returns the undo.
 */
function keepStartEvents(process: ModdleElement, keep: Set<string>): () => void {
  const elements = process.flowElements as ModdleElement[];
  const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow');
  const dropped = new Set(elements.filter((e) => e.$type === 'bpmn:StartEvent' && !keep.has(e.id!)).map((e) => e.id));
  for (let grew = true; grew; ) {
    grew = false;
    for (const e of elements) {
      if (dropped.has(e.id) || e.$type === 'bpmn:SequenceFlow') continue;
      const incoming = flows.filter((f) => f.targetRef?.id === e.id);
      const orphaned = incoming.length > 0 && incoming.every((f) => dropped.has(f.sourceRef?.id));
      if (orphaned || (e.$type === 'bpmn:BoundaryEvent' && dropped.has(e.attachedToRef?.id))) {
        dropped.add(e.id);
        grew = true;
      }
    }
  }
  process.flowElements = elements.filter((e) => !dropped.has(e.id) && !(e.$type === 'bpmn:SequenceFlow' && dropped.has(e.sourceRef?.id)));
  return () => (process.flowElements = elements);
}

function* walk(container: ModdleElement): Generator<ModdleElement> {
  for (const e of (container.flowElements ?? []) as ModdleElement[]) {
    yield e;
    if (e.flowElements) yield* walk(e);
  }
}

/**
 * Decodes a resource by the encoding its XML declaration names (Camunda
 * Modeler writes UTF-8; older tools ISO-8859-1), and rewrites the
 * declaration to match the decoded text the parser receives.
 */
export function decodeXml(bytes: Buffer): string {
  const head = bytes.subarray(0, 200).toString('latin1');
  const declared = /^\s*<\?xml[^>]*encoding=["']([A-Za-z0-9._-]+)["']/.exec(head)?.[1];
  if (!declared || /^utf-?8$/i.test(declared)) return bytes.toString('utf8');
  let text: string;
  try {
    text = new TextDecoder(declared.toLowerCase()).decode(bytes);
  } catch {
    return bytes.toString('utf8'); // unknown encoding: the parser will say so
  }
  return text.replace(/(<\?xml[^>]*encoding=["'])[A-Za-z0-9._-]+(["'])/, '$1UTF-8$2');
}

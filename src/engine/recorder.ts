import { EventEmitter } from 'node:events';
import { describeCall, type CalledProcess, type ThrownError } from './call-activity.ts';
import { setCaughtErrorVariables } from './error-events.ts';
import { isCompensationBoundary } from './compensation.ts';
import { EngineRunError } from './run-error.ts';
import type { RunBudget } from './scripts.ts';
import { isExternalTask } from './serialize.ts';
import { describeExternalTask, describeWaitingTask, type WaitingTask } from './user-tasks.ts';
import { waitingFromCreated } from './task-creation.ts';
import { resolveTimeouts, timeoutListenersOf } from './task-timeouts.ts';

/*
 * What one engine run did, as its events tell it: the Recorder listens to a
 * run and keeps what the store needs (tasks and waits opened and closed,
 * timers armed, messages thrown, the activity history); the postponed walk
 * says what is still running once the run is quiet.
 */

export interface ActivityEvent {
  kind: 'start' | 'end' | 'cancel';
  executionId: string;
  activityId: string;
  name: string | null;
  type: string;
}

export interface WaitingExternalTask {
  activityId: string;
  executionId: string;
  topic: string;
  priority: number;
}

export interface ArmedTimer {
  activityId: string;
  /** The element's execution id: the timer closes when it ends or leaves. */
  activityExecutionId: string;
  /** The timer's own execution id, which the engine re-registers on resume. */
  executionId: string;
  timerType: string;
  expression: string | null;
  /** When the engine expects it, by this process's wall clock at arming. */
  expireAt: Date;
  armedAt: Date;
}

export interface ThrownMessage {
  activityId: string;
  executionId: string;
  messageName: string;
  /** The event's `camunda:inputParameter`s, resolved when it threw: the message's payload. */
  variables: Record<string, unknown>;
}

export interface MessageWait {
  kind: 'message' | 'signal';
  activityId: string;
  executionId: string;
  messageId: string;
  messageName: string;
}

/**
 * An escalation end event is over once it started: the catch that cuts it
 * short does not cancel it, as in Camunda (history shows it passed). Other
 * end events left unfinished (a cancel end event whose transaction the cancel
 * boundary ends) are cancelled.
 */
function escalationEnd(api: any): boolean {
  return api.type === 'bpmn:EndEvent' && Boolean(api.owner?.behaviour?.eventDefinitions?.some((d: any) => d.type === 'bpmn:EscalationEventDefinition'));
}

/** The execution ids of everything still waiting: elements, sub-process children, multi-instance iterations. */
export function postponedIds(apis: any[]): Set<string> {
  return new Set(walkPostponed(apis).map((api) => api.executionId));
}

/** A waiting element by execution id, looking inside sub-processes too. */
export function findPostponed(apis: any[], executionId: string): any {
  return walkPostponed(apis).find((api) => api.executionId === executionId);
}

/**
 * Every element still running, inside sub-processes too. An element lists
 * itself among its own postponed (a sub-process then adds its children), so
 * each execution is visited once.
 */
export function walkPostponed(apis: any[], seen = new Map<string, any>()): any[] {
  for (const api of apis) {
    if (!api?.executionId || seen.has(api.executionId)) continue;
    seen.set(api.executionId, api);
    if (typeof api.getPostponed === 'function') walkPostponed(api.getPostponed(), seen);
    // A multi-instance body's iterations are postponed in its own execution, not in the api's list.
    const inner = api.owner?.execution;
    if (inner && typeof inner.getPostponed === 'function') walkPostponed(inner.getPostponed(), seen);
  }
  return [...seen.values()];
}

/** Listens to one run and keeps what the store needs. */
export class Recorder {
  readonly listener = new EventEmitter();
  readonly activities: ActivityEvent[] = [];
  readonly waiting = new Map<string, WaitingTask>();
  readonly waitingExternal = new Map<string, WaitingExternalTask>();
  readonly waitingMessages = new Map<string, MessageWait>();
  readonly timers = new Map<string, ArmedTimer>();
  readonly thrown: ThrownMessage[] = [];
  /** Timer execution id → its element's execution id, also for timers re-registered on resume. */
  private readonly timerOwners = new Map<string, string>();
  private readonly timerActivities = new Set<string>();
  readonly closed = new Set<string>();
  private readonly started = new Set<string>();
  private readonly ended = new Set<string>();
  /** Call activities that began in this run, waiting for their child. */
  readonly calls = new Map<string, CalledProcess>();
  /** Every call activity execution of this run (those open before it are announced again on resume). */
  readonly callExecutions = new Set<string>();
  /** BPMN errors thrown and not (yet) caught: one left when the instance ends is what it ended with. */
  readonly uncaughtErrors: ThrownError[] = [];
  /** Multi-instance iterations waiting in this run, with their element for history. */
  private readonly iterations = new Map<string, ActivityEvent>();

  /** `clock`: the run's time and zone, for timer values resolved when a task is created (task-timeouts.ts). */
  constructor(private readonly open: Set<string>, budget: RunBudget, stop: () => void, clock: { now?: Date | undefined; zone?: string | undefined } = {}) {
    this.listener.on('activity.start', (api) => {
      // Stopping the engine does not end a cycle that never waits (it runs on in this call
      // stack), so the run is also unwound by throwing; guard reports the budget's failure.
      if (!budget.step(api.id)) {
        stop();
        throw new EngineRunError(budget.failure!.message, budget.failure!.activityId);
      }
      if (isCompensationBoundary(api)) return;
      this.started.add(api.executionId);
      this.activities.push(event('start', api, isMultiInstanceBody(api)));
    });
    this.listener.on('activity.end', (api) => {
      setCaughtErrorVariables(api);
      this.ended.add(api.executionId);
      if (isCompensationBoundary(api)) this.activities.push({ ...event('start', api), type: api.owner.type });
      this.activities.push(event('end', api, isMultiInstanceBody(api)));
      if (this.isWait(api.executionId)) this.closed.add(api.executionId);
    });
    const cancel = (api: any) => {
      if (this.ended.has(api.executionId)) return;
      if (!this.started.has(api.executionId) && !this.open.has(api.executionId)) return;
      this.ended.add(api.executionId);
      this.activities.push(event(escalationEnd(api) ? 'end' : 'cancel', api, isMultiInstanceBody(api)));
      if (this.isWait(api.executionId)) this.closed.add(api.executionId);
    };
    this.listener.on('activity.leave', cancel);
    // A terminate end event stops (not discards) every other element of its scope, which
    // then never leaves; the run is persisted only when the engine itself stopped them
    // (a stopped run, budget or failure, throws before it is saved).
    // Its message names no execution; the element itself still knows which one it was running.
    this.listener.on('activity.stop', (api) => {
      const executionId = api.executionId ?? api.owner?.executionId;
      if (executionId) cancel({ id: api.id, executionId, name: api.name, owner: api.owner, type: api.type });
    });
    this.listener.on('activity.timer', (api) => {
      const content = api.content ?? {};
      const activityExecutionId: string = content.parent?.executionId && content.parent.id === api.id
        ? content.parent.executionId
        : String(api.executionId).replace(/_\d+$/, '');
      this.timerOwners.set(api.executionId, activityExecutionId);
      this.timerActivities.add(activityExecutionId);
      if (this.open.has(activityExecutionId)) return; // re-registered on resume: its row exists
      this.timers.set(api.executionId, {
        activityId: api.id, activityExecutionId, executionId: api.executionId, timerType: content.timerType ?? 'timeDuration',
        expression: content[content.timerType] ?? null, expireAt: new Date(content.expireAt),
        // The engine's own "now" when it computed expireAt, so the span is exact.
        armedAt: new Date(new Date(content.expireAt).getTime() - Number(content.timeout ?? 0)),
      });
    });
    // multi-instance.ts announces each instance, as the engine does not (see Characteristics.announce).
    this.listener.on('iteration.start', (api) => this.iterationStarted(api));
    this.listener.on('iteration.end', (api) => this.iterationEnded(api, 'end'));
    this.listener.on('iteration.cancel', (api) => this.iterationEnded(api, 'cancel'));
    this.listener.on('activity.message', (api) => {
      const message = api.content?.message;
      if (api.content?.state !== 'throw' || !message) return;
      this.thrown.push({ activityId: api.id, executionId: api.executionId, messageName: String(message.name ?? message.id), variables: inputParameters(api) });
    });
    this.listener.on('activity.call', (api) => {
      this.callExecutions.add(api.executionId);
      if (!this.open.has(api.executionId)) this.calls.set(api.executionId, describeCall(api));
    });
    this.listener.on('activity.throw', (api) => {
      const m = api.content?.message;
      if (m?.type === 'bpmn:Error') this.uncaughtErrors.push({ code: String(m.code ?? m.id ?? ''), message: String(m.message ?? m.name ?? '') });
    });
    this.listener.on('activity.catch', () => this.uncaughtErrors.pop());
    this.listener.on('wait', (api) => {
      if (api.type === 'bpmn:ManualTask') return api.signal(); // Camunda passes through manual tasks.
      // Resuming announces the waits again, so iterations open before this run are known here too.
      if (isIteration(api)) this.iterationStarted(api);
      if (this.open.has(api.executionId)) return;
      const message = api.content?.message ?? api.content?.signal;
      const kind = api.content?.message ? 'message' as const : 'signal' as const;
      // A task created with listeners was resolved before they ran (task-creation.ts): as they left it.
      if (api.type === 'bpmn:UserTask') {
        const created = api.content?.camundaTask;
        const waiting = created ? waitingFromCreated(created, timeoutListenersOf(api.owner?.behaviour ?? {})) : describeWaitingTask(api);
        this.waiting.set(api.executionId, { ...waiting, timeouts: resolveTimeouts(api, waiting.timeouts, clock) });
      }
      else if (isExternalTask(api.owner?.behaviour)) this.waitingExternal.set(api.executionId, describeExternalTask(api));
      else if (message?.id) {
        this.waitingMessages.set(api.executionId, { kind, activityId: api.id, executionId: api.executionId, messageId: message.id, messageName: message.name ?? message.id });
      }
    });
  }

  /** One instance of a multi-instance activity began; its history row opens unless it was open before this run. */
  private iterationStarted(api: any): void {
    if (this.iterations.has(api.executionId)) return;
    const started = event('start', api);
    this.iterations.set(api.executionId, started);
    if (!this.open.has(api.executionId)) this.activities.push(started);
  }

  private iterationEnded(api: any, kind: 'end' | 'cancel'): void {
    if (this.ended.has(api.executionId)) return;
    this.ended.add(api.executionId);
    this.closed.add(api.executionId);
    this.activities.push({ ...(this.iterations.get(api.executionId) ?? event('start', api)), kind });
  }

  /**
   * Closes the multi-instance iterations that are no longer waiting: the
   * engine ends them without an event of their own, when their task is
   * completed (`target` with a signal), when a completion condition ends the
   * rest, or when the whole activity is interrupted. `running`: every
   * execution the engine still runs.
   */
  settleIterations(running: ReadonlySet<string>, action = 'signal', target?: string): void {
    for (const [id, started] of this.iterations) {
      if (running.has(id) || this.closed.has(id) || this.ended.has(id)) continue;
      this.closed.add(id);
      this.ended.add(id);
      const kind = id === target && action === 'signal' ? 'end' : 'cancel';
      this.activities.push({ ...started, kind });
    }
  }

  /** A wait of this run, or one already open before it (its task row must be closed). */
  private isWait(executionId: string): boolean {
    return this.waiting.has(executionId) || this.waitingExternal.has(executionId) || this.waitingMessages.has(executionId) || this.calls.has(executionId)
      || this.open.has(executionId) || this.timerActivities.has(executionId);
  }

  /**
   * Cancels every element that started in this run or was open before it, did
   * not end, and is not among `running` (every execution the engine still runs).
   */
  reconcile(running: ReadonlySet<string>): void {
    const names = new Map(this.activities.filter((a) => a.kind === 'start').map((a) => [a.executionId, a] as const));
    for (const executionId of [...this.open, ...this.started]) {
      if (this.ended.has(executionId) || running.has(executionId)) continue;
      this.ended.add(executionId);
      const started = names.get(executionId);
      // An element open before this run is closed by execution id; its name is already on its row.
      const kind = started?.type === 'bpmn:EndEvent' ? 'end' : 'cancel'; // as in the cancel handler above
      this.activities.push({ kind, executionId, activityId: started?.activityId ?? '', name: started?.name ?? null, type: started?.type ?? '' });
      if (this.isWait(executionId)) this.closed.add(executionId);
    }
  }

  /** The element a timer belongs to, once the engine has registered it in this run. */
  timerActivity(timerExecutionId: string): string | undefined {
    return this.timerOwners.get(timerExecutionId);
  }
}

/**
 * A throw event's `camunda:inputOutput` input parameters, each a literal or
 * an expression over the process variables at the moment it threw.
 */
function inputParameters(api: any): Record<string, unknown> {
  const values: any[] = api.owner?.behaviour?.extensionElements?.values ?? [];
  const io = values.find((v) => v?.$type === 'camunda:InputOutput');
  const out: Record<string, unknown> = {};
  for (const p of io?.inputParameters ?? []) {
    if (!p?.name) continue;
    out[p.name] = typeof p.value === 'string' ? api.environment.resolveExpression(p.value, api) ?? null : p.value ?? null;
  }
  return out;
}

function event(kind: ActivityEvent['kind'], api: any, body = false): ActivityEvent {
  const name = api.name ?? api.owner?.name ?? null;
  // Camunda's history shows a multi-instance activity as its body (`review#multiInstanceBody`) around one row per instance.
  if (body) return { kind, executionId: api.executionId, activityId: `${api.id}#multiInstanceBody`, name, type: 'multiInstanceBody' };
  return { kind, executionId: api.executionId, activityId: api.id, name, type: api.type };
}

/** One instance of a multi-instance activity (multi-instance.ts gives each its own variables). */
function isIteration(api: any): boolean {
  return Boolean(api.content?.isMultiInstance && api.content.loopVariables);
}

/** The element's own lifecycle (not one iteration's) when it carries multi-instance loop characteristics. */
function isMultiInstanceBody(api: any): boolean {
  return !isIteration(api) && api.owner?.behaviour?.loopCharacteristics?.type === 'bpmn:MultiInstanceLoopCharacteristics';
}

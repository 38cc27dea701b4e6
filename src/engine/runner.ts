import { EventEmitter } from 'node:events';
import { isatty } from 'node:tty';
import { Engine } from 'bpmn-engine';
import createDebug from 'debug';
import { deserialize } from 'moddle-context-serializer';
import { makeExpressions } from './expressions.ts';
import { camundaExtension } from './camunda-extension.ts';
import { HostTimers } from './host-timers.ts';
import { sandboxReady } from './sandbox.ts';
import { RunBudget, SandboxScripts } from './scripts.ts';
import { hydrateState, processVariables, slimState, type EngineState } from './state.ts';
import { isExternalTask, typeResolver } from './serialize.ts';
import { setCaughtErrorVariables } from './error-events.ts';
import { describeExternalTask, describeWaitingTask, type WaitingTask } from './user-tasks.ts';

// The engine makes a `debug` logger for every element of every run, and each
// asks whether stderr is a terminal (a system call): a sixteenth of a timer
// firing. The answer cannot change while we run, so it is asked once here.
// DEBUG_COLORS, when set, still decides.
if (!('colors' in createDebug.inspectOpts)) createDebug.inspectOpts.colors = isatty(process.stderr.fd);

/** What one engine run did, for the service to persist in one transaction. */
export interface EngineRun {
  state: EngineState;
  completed: boolean;
  /** Process variables after the run, engine-facing values. */
  variables: Record<string, unknown>;
  /** User tasks that began waiting during this run. */
  openedTasks: WaitingTask[];
  /** External (worker) tasks that began waiting during this run. */
  openedExternalTasks: WaitingExternalTask[];
  /** Elements that began waiting for a message during this run (catch events, receive tasks, boundary events). */
  openedMessageWaits: MessageWait[];
  /** Timers armed during this run (intermediate and boundary timer events). */
  armedTimers: ArmedTimer[];
  /** Messages thrown by throw and end events, for the server to deliver after this run commits. */
  thrownMessages: ThrownMessage[];
  /** Execution ids of waits (user or external tasks) that ended or were cancelled during this run. */
  closedWaitExecutions: string[];
  /** Element lifecycle in the order it happened. */
  activities: ActivityEvent[];
}

export interface ActivityEvent {
  kind: 'start' | 'end' | 'cancel';
  executionId: string;
  activityId: string;
  name: string | null;
  type: string;
}

/** A failure inside the engine while running a model (no flow matched, bad expression...). */
export class EngineRunError extends Error {
  override name = 'EngineRunError';
  constructor(message: string, readonly activityId: string | null) {
    super(message);
  }
}

export interface CompiledRef {
  /** Definition id, used as the engine's name for logs. */
  id: string;
  compiled: string;
}

const expressions = makeExpressions();

/**
 * Starts a new instance and runs it until every path waits or ends. With
 * `messageId`, the message that a message start event is waiting for is
 * delivered right away (the compiled form then has only that start event).
 */
export async function startProcess(
  def: CompiledRef, variables: Record<string, unknown>, messageId?: string, now?: Date, zone?: string, execution?: ExecutionInfo,
): Promise<EngineRun> {
  await sandboxReady();
  const budget = new RunBudget();
  const scripts = new SandboxScripts(budget, execution && { processInstanceId: execution.processInstanceId, businessKey: execution.businessKey });
  const engine = makeEngine(def, variables, scripts, new Set(), now, zone, execution);
  const recorder = new Recorder(new Set(), budget, () => engine.stop());
  await guard(engine, budget, scripts, async () => {
    const execution = await engine.execute({ listener: recorder.listener });
    if (messageId) execution.signal({ id: messageId });
  });
  recorder.settleIterations(engine);
  return finish(engine, recorder);
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

export interface SignalInput {
  state: EngineState;
  variables: Record<string, unknown>;
  /** Execution ids of activities already open (waiting) before this run. */
  openExecutions: Set<string>;
  activityId: string;
  executionId: string;
  /** The server's "now" when it is not the process clock (an injected clock). */
  now?: Date | undefined;
  /** The server's time zone (TIMEZONE), in which a timer date without an offset is read. */
  zone?: string | undefined;
  /** The instance, as expressions see it (`${execution.processInstanceId}`). */
  execution?: ExecutionInfo | undefined;
  /** Complete the waiting activity (default), or throw a BPMN error from it for a boundary event to catch. */
  action?: { kind: 'signal' } | { kind: 'error'; code: string; message: string } | { kind: 'message'; messageId: string } | { kind: 'timer' } | undefined;
}

/** Recovers a saved instance, signals one waiting activity, and runs on until it waits again. */
export async function signalActivity(def: CompiledRef, input: SignalInput): Promise<EngineRun> {
  // A timer fires as the engine re-registers it on resume (see HostTimers).
  const fire = input.action?.kind === 'timer' ? new Set([input.executionId]) : new Set<string>();
  await sandboxReady();
  const budget = new RunBudget();
  const scripts = new SandboxScripts(budget, input.execution && { processInstanceId: input.execution.processInstanceId, businessKey: input.execution.businessKey });
  const engine = makeEngine(def, {}, scripts, fire, input.now, input.zone, input.execution);
  engine.recover(hydrateState(input.state, input.variables));
  const recorder = new Recorder(input.openExecutions, budget, () => engine.stop());
  await guard(engine, budget, scripts, async () => {
    const execution = await engine.resume({ listener: recorder.listener });
    // Whatever resuming set going (a timer firing into a script) finishes before the signal, as it did when scripts were synchronous.
    if (scripts.busy) await scripts.quiescent();
    if (budget.failure) return;
    const action = input.action ?? { kind: 'signal' };
    if (action.kind === 'signal') {
      execution.signal({ id: input.activityId, executionId: input.executionId });
    } else if (action.kind === 'message') {
      execution.signal({ id: action.messageId });
    } else if (action.kind === 'timer') {
      // Nothing to send: resuming re-registered the timer, and it fired.
    } else {
      const api = findPostponed(execution.getPostponed(), input.executionId);
      // SignalTask turns an 'error' API message into an error whose code a boundary error event matches.
      api?.sendApiMessage('error', { message: action.message, code: action.code });
    }
  });
  recorder.settleIterations(engine, input.action?.kind ?? 'signal', input.executionId);
  // A signal to something not waiting is silently ignored by the engine; say so instead
  // of saving a run in which the task was never completed. Asked after guard, which
  // returns only once the run is quiescent (its scripts done, their continuations too).
  reconcile(engine, recorder);
  const target = input.action?.kind === 'timer' ? recorder.timerActivity(input.executionId) : input.executionId;
  if (!target || !recorder.closed.has(target)) {
    engine.stop();
    throw new EngineRunError(`activity ${input.activityId} (${input.executionId}) is not waiting`, input.activityId);
  }
  return finish(engine, recorder);
}

/** The execution ids of everything still waiting: elements, sub-process children, multi-instance iterations. */
function postponedIds(apis: any[]): Set<string> {
  return new Set(walkPostponed(apis).map((api) => api.executionId));
}

/** A waiting element by execution id, looking inside sub-processes too. */
function findPostponed(apis: any[], executionId: string): any {
  return walkPostponed(apis).find((api) => api.executionId === executionId);
}

/**
 * Every element still running, inside sub-processes too. An element lists
 * itself among its own postponed (a sub-process then adds its children), so
 * each execution is visited once.
 */
function walkPostponed(apis: any[], seen = new Map<string, any>()): any[] {
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

/**
 * Camunda's `execution` in expressions, the part a diagram needs to name its
 * own instance (a raised incident pointing back at the procedure that raised it).
 */
export interface ExecutionInfo {
  processInstanceId: string;
  businessKey: string | null;
  processDefinitionId: string;
}

function makeEngine(
  def: CompiledRef, variables: Record<string, unknown>, scripts: SandboxScripts, fire: ReadonlySet<string> = new Set(), now?: Date, zone?: string, execution?: ExecutionInfo,
): Engine {
  return new Engine({
    name: def.id,
    // Read by the expressions (contextScope). The saved state carries a copy; every run passes it again, unchanged.
    settings: execution ? { execution } : {},
    // Parsed per run: the serialized form is small, and a fresh context
    // guarantees no engine instance shares mutable element state with another.
    sourceContext: deserialize(JSON.parse(def.compiled), typeResolver),
    variables,
    expressions,
    // camunda:inputOutput and script execution listeners, in Camunda's order (camunda-extension.ts).
    extensions: { camunda: camundaExtension(scripts) as never },
    // Every script of the diagram runs in the QuickJS sandbox; without this option the engine would use node:vm.
    scripts,
    // Host-owned timers: the engine's due times become rows; nothing is armed here.
    timers: new HostTimers(fire, now, zone) as never,
  });
}

/**
 * Runs `fn`, turning an engine 'error' event or throw into an EngineRunError.
 * A run that overran its budget or whose script failed is stopped and fails
 * with that, naming the element, whatever the engine made of it.
 *
 * Returns once the run is quiescent: its scripts run on a script thread, and
 * the engine goes on only when one answers, so the run spans event-loop turns
 * in which the server serves other requests. The services run the engine
 * before they open the transaction that saves it (see services/execution.ts
 * and services/instances.ts), so no transaction or connection is held while
 * a script runs; a run that fails here saves nothing.
 */
async function guard(engine: Engine, budget: RunBudget, scripts: SandboxScripts, fn: () => unknown): Promise<void> {
  let failure: unknown;
  const onError = (err: unknown) => (failure ??= err);
  engine.on('error', onError);
  try {
    await fn();
    // Settle: let the scripts, and any continuation the engine queued, run before we read state.
    await scripts.quiescent();
  } catch (err) {
    failure ??= err;
  } finally {
    engine.off('error', onError);
  }
  if (budget.failure) {
    engine.stop();
    throw new EngineRunError(budget.failure.message, budget.failure.activityId);
  }
  if (failure) {
    const err = failure instanceof EngineRunError ? failure : toRunError(failure, budget);
    // A script still running for this failed run (the engine threw mid-way) must not wake it.
    budget.fail(err.message, err.activityId ?? '');
    throw err;
  }
}

function toRunError(failure: unknown, budget: RunBudget): EngineRunError {
  const err = failure as Error & { source?: { content?: { id?: string } } };
  return new EngineRunError(err.message ?? String(err), err.source?.content?.id ?? budget.lastActivityId);
}

async function finish(engine: Engine, recorder: Recorder): Promise<EngineRun> {
  const state = (await engine.getState()) as EngineState;
  const completed = engine.state === 'idle';
  reconcile(engine, recorder);
  // A waiting engine is left to the garbage collector, not stopped: it holds
  // nothing outside this process's heap (its timers are rows, see HostTimers),
  // and stopping walks every element and queue again, an eighth of a timer firing.
  const variables = processVariables(state);
  return {
    state: slimState(state, Object.keys(variables)),
    completed,
    variables,
    openedTasks: [...recorder.waiting.values()].filter((t) => !recorder.closed.has(t.executionId)),
    openedExternalTasks: [...recorder.waitingExternal.values()].filter((t) => !recorder.closed.has(t.executionId)),
    openedMessageWaits: [...recorder.waitingMessages.values()].filter((t) => !recorder.closed.has(t.executionId)),
    armedTimers: [...recorder.timers.values()].filter((t) => !recorder.closed.has(t.activityExecutionId)),
    thrownMessages: recorder.thrown,
    closedWaitExecutions: [...recorder.closed],
    activities: recorder.activities,
  };
}

/**
 * What left its scope without an event of its own (the children of a
 * sub-process interrupted by a boundary event, or ended by a terminate end
 * event) is no longer running: the recorder closes it.
 */
function reconcile(engine: Engine, recorder: Recorder): void {
  // An ended instance is closed whole by the service (execution.ts, closeEverythingOf).
  if (engine.state === 'idle') return;
  recorder.reconcile(new Set(walkPostponed(engine.execution?.getPostponed() ?? []).map((api) => api.executionId)));
}

/** Listens to one run and keeps what the store needs. */
class Recorder {
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
  /** Multi-instance iterations waiting in this run, with their element for history. */
  private readonly iterations = new Map<string, ActivityEvent>();

  constructor(private readonly open: Set<string>, budget: RunBudget, stop: () => void) {
    this.listener.on('activity.start', (api) => {
      // Stopping the engine does not end a cycle that never waits (it runs on in this call
      // stack), so the run is also unwound by throwing; guard reports the budget's failure.
      if (!budget.step(api.id)) {
        stop();
        throw new EngineRunError(budget.failure!.message, budget.failure!.activityId);
      }
      this.started.add(api.executionId);
      this.activities.push(event('start', api, isMultiInstanceBody(api)));
    });
    this.listener.on('activity.end', (api) => {
      setCaughtErrorVariables(api);
      this.ended.add(api.executionId);
      this.activities.push(event('end', api, isMultiInstanceBody(api)));
      if (this.isWait(api.executionId)) this.closed.add(api.executionId);
    });
    const cancel = (api: any) => {
      if (this.ended.has(api.executionId)) return;
      if (!this.started.has(api.executionId) && !this.open.has(api.executionId)) return;
      this.ended.add(api.executionId);
      this.activities.push(event('cancel', api, isMultiInstanceBody(api)));
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
    this.listener.on('activity.message', (api) => {
      const message = api.content?.message;
      if (api.content?.state !== 'throw' || !message) return;
      this.thrown.push({ activityId: api.id, executionId: api.executionId, messageName: String(message.name ?? message.id), variables: inputParameters(api) });
    });
    this.listener.on('wait', (api) => {
      if (api.type === 'bpmn:ManualTask') return api.signal(); // Camunda passes through manual tasks.
      if (isIteration(api)) {
        // The engine announces no start or end for an iteration: its history row begins when it waits.
        // Resuming announces the waits again, so iterations open before this run are known here too.
        const started = event('start', api);
        this.iterations.set(api.executionId, started);
        if (!this.open.has(api.executionId)) this.activities.push(started);
      }
      if (this.open.has(api.executionId)) return;
      const message = api.content?.message ?? api.content?.signal;
      const kind = api.content?.message ? 'message' as const : 'signal' as const;
      if (api.type === 'bpmn:UserTask') this.waiting.set(api.executionId, describeWaitingTask(api));
      else if (isExternalTask(api.owner?.behaviour)) this.waitingExternal.set(api.executionId, describeExternalTask(api));
      else if (message?.id) {
        this.waitingMessages.set(api.executionId, { kind, activityId: api.id, executionId: api.executionId, messageId: message.id, messageName: message.name ?? message.id });
      }
    });
  }

  /**
   * Closes the multi-instance iterations that are no longer waiting: the
   * engine ends them without an event of their own, when their task is
   * completed (`target` with a signal), when a completion condition ends the
   * rest, or when the whole activity is interrupted.
   */
  settleIterations(engine: Engine, action = 'signal', target?: string): void {
    const waiting = postponedIds((engine as any).execution?.getPostponed?.() ?? []);
    for (const [id, started] of this.iterations) {
      if (waiting.has(id) || this.closed.has(id) || this.ended.has(id)) continue;
      this.closed.add(id);
      this.ended.add(id);
      const kind = id === target && action === 'signal' ? 'end' : 'cancel';
      this.activities.push({ ...started, kind });
    }
  }

  /** A wait of this run, or one already open before it (its task row must be closed). */
  private isWait(executionId: string): boolean {
    return this.waiting.has(executionId) || this.waitingExternal.has(executionId) || this.waitingMessages.has(executionId)
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
      this.activities.push({ kind: 'cancel', executionId, activityId: started?.activityId ?? '', name: started?.name ?? null, type: started?.type ?? '' });
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

import { isatty } from 'node:tty';
import { Engine } from 'bpmn-engine';
import createDebug from 'debug';
import { deserialize } from 'moddle-context-serializer';
import { makeExpressions } from './expressions.ts';
import { camundaExtension } from './camunda-extension.ts';
import { groupMembersExtension, type GroupMembers } from './group-members.ts';
import { HostTimers } from './host-timers.ts';
import { sandboxReady } from './sandbox.ts';
import { RunBudget, SandboxScripts } from './scripts.ts';
import { processListeners, type ProcessListeners } from './process-listeners.ts';
import { taskDeletes, type TaskDeletes } from './task-deletes.ts';
import { hydrateState, processVariables, slimState, type EngineState } from './state.ts';
import { typeResolver } from './serialize.ts';
import { ConditionTracker, type VariableChange } from './conditional.ts';
import { announceIterationsTo } from './multi-instance.ts';
import { findPostponed, postponedIds, walkPostponed, Recorder, type ActivityEvent, type ArmedTimer, type MessageWait, type ThrownMessage, type WaitingExternalTask } from './recorder.ts';
import { EngineRunError } from './run-error.ts';
import { applyOut, type CalledProcess, type PassedValue, type ThrownError } from './call-activity.ts';
import { EventSubProcessRun, eventStartsOf } from './event-subprocesses.ts';
import type { WaitingTask } from './user-tasks.ts';

export { EngineRunError };
export type { ActivityEvent, ArmedTimer, MessageWait, ThrownMessage, WaitingExternalTask };

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
  /** The wait this run was to complete had already ended when its turn came (a conditional boundary event the caller's variables fired interrupted it). */
  preempted?: boolean;
  /** Call activities that began during this run: each starts a child instance (services/call-activities.ts). */
  calledProcesses: CalledProcess[];
  /** Call activity executions that ended or were cancelled during this run (their children end with them unless they ended first). */
  closedCalls: string[];
  /** When the instance ended with a BPMN error nothing in it caught: for its caller's call activity. */
  uncaughtError: ThrownError | null;
  /** With the `call` action: what the call activity's `camunda:out` passed back. */
  passedOut: Record<string, PassedValue>;
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
  def: CompiledRef, variables: Record<string, unknown>, messageId?: string, now?: Date, zone?: string, execution?: ExecutionInfo, members?: GroupMembers,
): Promise<EngineRun> {
  await sandboxReady();
  const budget = new RunBudget();
  const scripts = new SandboxScripts(budget, execution && { processInstanceId: execution.processInstanceId, businessKey: execution.businessKey });
  const sourceContext = sourceOf(def);
  const listeners = processListeners(sourceContext, scripts, budget);
  // The process's start listeners run before its start event, over the start variables (process-listeners.ts).
  const startVariables = { ...variables };
  await listeners?.run('start', startVariables);
  const engine = makeEngine(def, sourceContext, startVariables, scripts, new Set(), now, zone, execution, members);
  const deletes = taskDeletes(sourceContext, scripts, budget);
  const recorder = new Recorder(new Set(), budget, () => engine.stop());
  const conditions = trackConditions(recorder);
  const eventSubProcesses = new EventSubProcessRun(eventStartsOf(def.compiled), recorder, now, zone);
  announceIterationsTo(engine as never, recorder.listener);
  await guard(engine, budget, scripts, async () => {
    const execution = await engine.execute({ listener: recorder.listener });
    eventSubProcesses.openProcess(engine);
    if (messageId) execution.signal({ id: messageId });
    await settleConditions(engine, budget, scripts, conditions);
  });
  settle(engine, recorder);
  return finish(engine, recorder, afterRun(listeners, deletes, recorder));
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
  /** Members of the groups the definition asks for (group-members.ts), read before the run. */
  members?: GroupMembers | undefined;
  /**
   * Complete the waiting activity (default), or throw a BPMN error from it for a boundary event to catch;
   * `conditions`: only evaluate the conditional events the caller's `changes` concern;
   * `call`: the child of a call activity ended with these variables.
   */
  action?: { kind: 'signal' } | { kind: 'error'; code: string; message: string } | { kind: 'message'; messageId: string } | { kind: 'timer' } | { kind: 'conditions' }
    | { kind: 'call'; variables: Record<string, unknown> } | undefined;
  /** The variables the caller set or deleted in this command, for the conditional events waiting (see conditional.ts). */
  changes?: VariableChange[] | undefined;
}

/** Recovers a saved instance, signals one waiting activity, and runs on until it waits again. */
export async function signalActivity(def: CompiledRef, input: SignalInput): Promise<EngineRun> {
  // A timer fires as the engine re-registers it on resume (see HostTimers).
  const fire = input.action?.kind === 'timer' ? new Set([input.executionId]) : new Set<string>();
  await sandboxReady();
  const budget = new RunBudget();
  const scripts = new SandboxScripts(budget, input.execution && { processInstanceId: input.execution.processInstanceId, businessKey: input.execution.businessKey });
  const sourceContext = sourceOf(def);
  const listeners = processListeners(sourceContext, scripts, budget);
  const deletes = taskDeletes(sourceContext, scripts, budget, { state: input.state, open: input.openExecutions });
  const engine = makeEngine(def, sourceContext, {}, scripts, fire, input.now, input.zone, input.execution, input.members);
  engine.recover(hydrateState(input.state, input.variables));
  const recorder = new Recorder(input.openExecutions, budget, () => engine.stop());
  const conditions = trackConditions(recorder);
  let preempted = false;
  let passedOut: Record<string, PassedValue> = {};
  const eventSubProcesses = new EventSubProcessRun(eventStartsOf(def.compiled), recorder, input.now, input.zone);
  announceIterationsTo(engine as never, recorder.listener);
  await guard(engine, budget, scripts, async () => {
    const execution = await engine.resume({ listener: recorder.listener });
    // Whatever resuming set going (a timer firing into a script) finishes before the signal, as it did when scripts were synchronous.
    if (scripts.busy) await scripts.quiescent();
    if (budget.failure) return;
    // The caller's variables are set first: the conditional events they concern are evaluated before the wait moves (Camunda's variable events).
    if (conditions.signalChanges(walkPostponed(execution.getPostponed()), input.changes ?? [])) await scripts.quiescent();
    if (budget.failure) return;
    preempted = recorder.closed.has(input.executionId);
    const action = input.action ?? { kind: 'signal' };
    if (action.kind === 'conditions' || preempted) {
      // Nothing more to deliver.
    } else if (EventSubProcessRun.isHostWait(input.executionId)) {
      // A message, signal or timer start of an event sub-process (event-subprocesses.ts).
      eventSubProcesses.trigger(engine, input.executionId, (id) => findPostponed(execution.getPostponed(), id));
    } else if (action.kind === 'signal') {
      // Signalled on its own broker, not delegated down from the definition: a delegated signal is still
      // being handled by every enclosing scope's api consumer, which then cannot receive what the run
      // throws up to it (an escalation the boundary or event sub-process of a scope must catch).
      const api = findPostponed(execution.getPostponed(), input.executionId);
      if (api) api.signal();
      else execution.signal({ id: input.activityId, executionId: input.executionId });
    } else if (action.kind === 'message') {
      // To the waiting element itself when it is found, for the reason given for signals above.
      const api = findPostponed(execution.getPostponed(), input.executionId);
      if (api) api.signal({ id: action.messageId });
      else execution.signal({ id: action.messageId });
    } else if (action.kind === 'timer') {
      // Nothing to send: resuming re-registered the timer, and it fired.
    } else if (action.kind === 'call') {
      // The child ended: its variables come back through camunda:out, then the call activity completes.
      const api = findPostponed(execution.getPostponed(), input.executionId);
      if (api) passedOut = applyOut(api, action.variables);
      execution.signal({ id: input.activityId, executionId: input.executionId });
    } else {
      const api = findPostponed(execution.getPostponed(), input.executionId);
      // SignalTask turns an 'error' API message into an error whose code a boundary error event matches.
      api?.sendApiMessage('error', { message: action.message, code: action.code });
    }
    await scripts.quiescent();
    await settleConditions(engine, budget, scripts, conditions);
  });
  settle(engine, recorder, input.action?.kind ?? 'signal', input.executionId);
  // A signal to something not waiting is silently ignored by the engine; say so instead
  // of saving a run in which the task was never completed. Asked after guard, which
  // returns only once the run is quiescent (its scripts done, their continuations too).
  const target = input.action?.kind === 'timer' ? recorder.timerActivity(input.executionId) : input.executionId;
  if (input.action?.kind !== 'conditions' && !eventSubProcesses.triggered && (!target || !recorder.closed.has(target))) {
    engine.stop();
    throw new EngineRunError(`activity ${input.activityId} (${input.executionId}) is not waiting`, input.activityId);
  }
  return { ...(await finish(engine, recorder, afterRun(listeners, deletes, recorder))), passedOut, ...(preempted ? { preempted } : {}) };
}

/** Follows the conditional events of one run: which wait, on which variables it was last evaluated. */
function trackConditions(recorder: Recorder): ConditionTracker {
  const conditions = new ConditionTracker();
  recorder.listener.on('wait', (api) => conditions.onWait(api));
  return conditions;
}

/** Rounds of conditional events firing one another (a path they open changing variables again) before the run is failed. */
const MAX_CONDITION_ROUNDS = 50;

/**
 * Once the run is quiet: every waiting conditional event whose variables
 * changed since it was last evaluated is evaluated again, until none is
 * (what one opens may change variables another listens to).
 */
async function settleConditions(engine: Engine, budget: RunBudget, scripts: SandboxScripts, conditions: ConditionTracker): Promise<void> {
  for (let round = 0; ; round++) {
    await scripts.quiescent();
    if (budget.failure || !engine.execution) return;
    if (!conditions.signalChanged(walkPostponed(engine.execution.getPostponed()))) return;
    if (round >= MAX_CONDITION_ROUNDS) {
      throw new EngineRunError(`条件事件反复触发 / conditional events kept firing one another after ${MAX_CONDITION_ROUNDS} rounds`, budget.lastActivityId ?? '');
    }
  }
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

/**
 * The engine's source context of a definition, parsed per run: the serialized
 * form is small, and a fresh context guarantees no engine instance shares
 * mutable element state with another.
 */
function sourceOf(def: CompiledRef): any {
  return deserialize(JSON.parse(def.compiled), typeResolver);
}

function makeEngine(
  def: CompiledRef, sourceContext: any, variables: Record<string, unknown>, scripts: SandboxScripts, fire: ReadonlySet<string> = new Set(), now?: Date, zone?: string,
  execution?: ExecutionInfo, members?: GroupMembers,
): Engine {
  return new Engine({
    name: def.id,
    // Read by the expressions (contextScope). The saved state carries a copy; every run passes it again, unchanged.
    settings: execution ? { execution } : {},
    sourceContext,
    variables,
    expressions,
    // camunda:inputOutput and script execution listeners, in Camunda's order (camunda-extension.ts).
    // A group's members as a variable where the diagram asks for them (group-members.ts).
    extensions: members ? { camunda: camundaExtension(scripts) as never, groupMembers: groupMembersExtension(members) as never } : { camunda: camundaExtension(scripts) as never },
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

/**
 * What runs once the engine is quiet, over the final process variables: the
 * `delete` listeners of the tasks the run cancelled (task-deletes.ts), then,
 * if the instance ended, the process's `end` listeners (process-listeners.ts).
 */
type AfterRun = (variables: Record<string, unknown>, completed: boolean) => Promise<void>;

function afterRun(listeners: ProcessListeners | undefined, deletes: TaskDeletes | undefined, recorder: Recorder): AfterRun | undefined {
  if (!listeners && !deletes) return undefined;
  return async (variables, completed) => {
    await deletes?.run(recorder.activities, variables);
    if (completed) await listeners?.run('end', variables);
  };
}

async function finish(engine: Engine, recorder: Recorder, after?: AfterRun): Promise<EngineRun> {
  const state = (await engine.getState()) as EngineState;
  const completed = engine.state === 'idle';
  // A waiting engine is left to the garbage collector, not stopped: it holds
  // nothing outside this process's heap (its timers are rows, see HostTimers),
  // and stopping walks every element and queue again, an eighth of a timer firing.
  const variables = processVariables(state);
  await after?.(variables, completed);
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
    calledProcesses: [...recorder.calls.values()].filter((c) => !recorder.closed.has(c.executionId)),
    closedCalls: [...recorder.callExecutions].filter((id) => recorder.closed.has(id)),
    uncaughtError: completed ? recorder.uncaughtErrors.at(-1) ?? null : null,
    passedOut: {},
  };
}

/**
 * Once the run is quiet, what left without an event of its own is closed, from
 * one walk of what still runs: multi-instance iterations ended or cancelled by
 * the engine, and the children of a sub-process interrupted by a boundary
 * event or ended by a terminate end event.
 */
function settle(engine: Engine, recorder: Recorder, action = 'signal', target?: string): void {
  const running = postponedIds(engine.execution?.getPostponed() ?? []);
  recorder.settleIterations(running, action, target);
  // An ended instance is closed whole by the service (execution.ts, closeEverythingOf).
  if (engine.state !== 'idle') recorder.reconcile(running);
}

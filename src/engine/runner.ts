import { isatty } from 'node:tty';
import { Engine } from 'bpmn-engine';
import createDebug from 'debug';
import { deserialize } from 'moddle-context-serializer';
import { makeExpressions } from './expressions.ts';
import { camundaExtension } from './camunda-extension.ts';
import { HostTimers } from './host-timers.ts';
import { sandboxReady } from './sandbox.ts';
import { RunBudget, SandboxScripts } from './scripts.ts';
import { announceIterationsTo } from './multi-instance.ts';
import { hydrateState, processVariables, slimState, type EngineState } from './state.ts';
import { typeResolver } from './serialize.ts';
import { findPostponed, postponedIds, postponedOf, Recorder, type ActivityEvent, type ArmedTimer, type MessageWait, type ThrownMessage, type WaitingExternalTask } from './recorder.ts';
import { EngineRunError } from './run-error.ts';
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
  announceIterationsTo(engine as never, recorder.listener);
  await guard(engine, budget, scripts, async () => {
    const execution = await engine.execute({ listener: recorder.listener });
    if (messageId) execution.signal({ id: messageId });
  });
  settle(engine, recorder);
  return finish(engine, recorder);
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
  announceIterationsTo(engine as never, recorder.listener);
  await guard(engine, budget, scripts, async () => {
    const execution = await engine.resume({ listener: recorder.listener });
    // Whatever resuming set going (a timer firing into a script) finishes before the signal, as it did when scripts were synchronous.
    if (scripts.busy) await scripts.quiescent();
    if (budget.failure) return;
    const action = input.action ?? { kind: 'signal' };
    if (action.kind === 'signal') {
      // A signal by id reaches every element of that id: when the same task waits in several
      // instances of a multi-instance sub-process, it goes straight to the one meant.
      const payload = { id: input.activityId, executionId: input.executionId };
      const same = postponedOf(execution.getPostponed(), input.activityId);
      const api = same.length > 1 ? same.find((a) => a.executionId === input.executionId) : undefined;
      if (api) api.signal(payload);
      else execution.signal(payload);
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
  settle(engine, recorder, input.action?.kind ?? 'signal', input.executionId);
  // A signal to something not waiting is silently ignored by the engine; say so instead
  // of saving a run in which the task was never completed. Asked after guard, which
  // returns only once the run is quiescent (its scripts done, their continuations too).
  const target = input.action?.kind === 'timer' ? recorder.timerActivity(input.executionId) : input.executionId;
  if (!target || !recorder.closed.has(target)) {
    engine.stop();
    throw new EngineRunError(`activity ${input.activityId} (${input.executionId}) is not waiting`, input.activityId);
  }
  return finish(engine, recorder);
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

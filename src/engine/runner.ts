import { isatty } from 'node:tty';
import type { Engine } from 'bpmn-engine';
import createDebug from 'debug';
import type { DecisionRef, Decisions, EvaluatedDecisionTask } from './business-rule-task.ts';
import type { CalledProcess, PassedValue, ThrownError } from './call-activity.ts';
import type { VariableChange } from './conditional.ts';
import { deliver, type Delivered, type SignalAction } from './deliver.ts';
import type { GroupMembers } from './group-members.ts';
import { postponedIds, walkPostponed, type ActivityEvent, type Recorder, type ArmedTimer, type MessageWait, type ThrownMessage, type WaitingExternalTask } from './recorder.ts';
import { EngineRunError } from './run-error.ts';
import { setUpRun, settleConditions, type CompiledRef, type ExecutionInfo, type RunParts } from './run-parts.ts';
import { sandboxReady } from './sandbox.ts';
import type { RunBudget } from './scripts.ts';
import { hydrateState, processVariables, slimState, type EngineState } from './state.ts';
import type { WaitingTask } from './user-tasks.ts';

export { EngineRunError };
export type { CompiledRef, ExecutionInfo, SignalAction };
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
  /** Decisions its business rule tasks evaluated, for their history rows. */
  evaluatedDecisions: EvaluatedDecisionTask[];
  /** With the `addInstance` action (加签): the execution id of the multi-instance instance added. */
  addedExecutionId?: string;
}

/**
 * A run that reached a business rule task whose decision was not read before
 * it (a key given by an expression): the service reads `refs` and runs again.
 */
export class DecisionsNotRead extends EngineRunError {
  override name = 'DecisionsNotRead';
  constructor(readonly refs: DecisionRef[], cause: EngineRunError) {
    super(cause.message, cause.activityId);
  }
}

/** What a new instance starts with, and what its run needs from the server. */
export interface StartInput {
  /** The variables the instance starts with, engine-facing values. */
  variables: Record<string, unknown>;
  /** The message a message start event waits for, delivered right away (the compiled form then has only that start event). */
  messageId?: string | undefined;
  /** The server's "now" when it is not the process clock (an injected clock). */
  now?: Date | undefined;
  /** The server's time zone (TIMEZONE), in which a timer date without an offset is read. */
  zone?: string | undefined;
  /** The instance, as expressions see it (`${execution.processInstanceId}`). */
  execution?: ExecutionInfo | undefined;
  /** Members of the groups the definition asks for (group-members.ts), read before the run. */
  members?: GroupMembers | undefined;
  /** The decisions its business rule tasks may evaluate, read before the run. */
  decisions?: Decisions | undefined;
}

/** Starts a new instance and runs it until every path waits or ends. */
export async function startProcess(def: CompiledRef, input: StartInput): Promise<EngineRun> {
  await sandboxReady();
  const { variables, messageId, now, zone, execution, members, decisions } = input;
  const run = await setUpRun(def, { variables, now, zone, execution, members, decisions });
  const { engine, recorder } = run;
  await guard(run, async () => {
    const execution = await engine.execute({ listener: recorder.listener });
    run.eventSubProcesses.openProcess(engine);
    if (messageId) execution.signal({ id: messageId });
    await settleConditions(run);
  });
  settle(engine, recorder);
  return finish(run);
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
  /** The decisions its business rule tasks may evaluate, read before the run. */
  decisions?: Decisions | undefined;
  /** What to deliver to the waiting activity (deliver.ts); a signal completing it by default. */
  action?: SignalAction | undefined;
  /** The variables the caller set or deleted in this command, for the conditional events waiting (see conditional.ts). */
  changes?: VariableChange[] | undefined;
}

/** Recovers a saved instance, signals one waiting activity, and runs on until it waits again. */
export async function signalActivity(def: CompiledRef, input: SignalInput): Promise<EngineRun> {
  await sandboxReady();
  const run = await setUpRun(def, {
    saved: { state: input.state, open: input.openExecutions },
    // A timer fires as the engine re-registers it on resume (see HostTimers).
    fire: input.action?.kind === 'timer' ? new Set([input.executionId]) : undefined,
    now: input.now, zone: input.zone, execution: input.execution, members: input.members, decisions: input.decisions,
  });
  const { engine, recorder, budget, scripts } = run;
  engine.recover(hydrateState(input.state, input.variables));
  let delivered: Delivered = { passedOut: {} };
  await guard(run, async () => {
    const execution = await engine.resume({ listener: recorder.listener });
    // Whatever resuming set going (a timer firing into a script) finishes before the signal, as it did when scripts were synchronous.
    if (scripts.busy) await scripts.quiescent();
    if (budget.failure) return;
    // The caller's variables are set first: the conditional events they concern are evaluated before the wait moves (Camunda's variable events).
    if (run.conditions.signalChanges(walkPostponed(execution.getPostponed()), input.changes ?? [])) await scripts.quiescent();
    if (budget.failure) return;
    delivered = deliver(run, execution, input);
    await scripts.quiescent();
    await settleConditions(run);
  });
  settle(engine, recorder, input.action?.kind ?? 'signal', input.executionId);
  // A signal to something not waiting is silently ignored by the engine; say so instead
  // of saving a run in which the task was never completed. Asked after guard, which
  // returns only once the run is quiescent (its scripts done, their continuations too).
  const target = input.action?.kind === 'timer' ? recorder.timerActivity(input.executionId) : input.executionId;
  // Adding a signer leaves the instance named (one of the others) waiting.
  const leavesTarget = input.action?.kind === 'conditions' || input.action?.kind === 'addInstance'
    // A non-interrupting catch of an escalation leaves the task waiting: the catch itself must have ended.
    || (input.action?.kind === 'escalation' && recorder.activities.some((a) => a.kind === 'end' && a.activityId === (input.action as { boundaryId: string }).boundaryId));
  if (!leavesTarget && !run.eventSubProcesses.triggered && (!target || !recorder.closed.has(target))) {
    engine.stop();
    throw new EngineRunError(`activity ${input.activityId} (${input.executionId}) is not waiting`, input.activityId);
  }
  return {
    ...(await finish(run)), passedOut: delivered.passedOut, ...(delivered.preempted ? { preempted: true } : {}),
    ...(delivered.addedExecutionId ? { addedExecutionId: delivered.addedExecutionId } : {}),
  };
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
export async function guard({ engine, budget, scripts, decisionHost }: RunParts, fn: () => unknown): Promise<void> {
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
    const err = new EngineRunError(budget.failure.message, budget.failure.activityId);
    throw decisionHost.missing.length ? new DecisionsNotRead(decisionHost.missing, err) : err;
  }
  if (failure) {
    const err = failure instanceof EngineRunError ? failure : toRunError(failure, budget);
    // A script still running for this failed run (the engine threw mid-way) must not wake it.
    budget.fail(err.message, err.activityId ?? '');
    throw decisionHost.missing.length ? new DecisionsNotRead(decisionHost.missing, err) : err;
  }
}

function toRunError(failure: unknown, budget: RunBudget): EngineRunError {
  const err = failure as Error & { source?: { content?: { id?: string } } };
  return new EngineRunError(err.message ?? String(err), err.source?.content?.id ?? budget.lastActivityId);
}

/** `cancelled`: a modification cancelled everything; the instance ends (as deleted) with this run. */
export async function finish({ engine, recorder, after, decisionHost }: RunParts, cancelled = false): Promise<EngineRun> {
  // A task that met a decision not read before the run did not evaluate it: never a run to save, whatever the engine made of it.
  if (decisionHost.missing.length) {
    engine.stop();
    const [first] = decisionHost.missing;
    throw new DecisionsNotRead(decisionHost.missing, new EngineRunError(`决策 ${first!.key} 未在运行前读取 / decision ${first!.key} was not read before the run`, ''));
  }
  const state = (await engine.getState()) as EngineState;
  const completed = cancelled || engine.state === 'idle';
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
    evaluatedDecisions: decisionHost.evaluated,
  };
}

/**
 * Once the run is quiet, what left without an event of its own is closed, from
 * one walk of what still runs: multi-instance iterations ended or cancelled by
 * the engine, and the children of a sub-process interrupted by a boundary
 * event or ended by a terminate end event.
 */
export function settle(engine: Engine, recorder: Recorder, action = 'signal', target?: string): void {
  const running = postponedIds(engine.execution?.getPostponed() ?? []);
  recorder.settleIterations(running, action, target);
  // An ended instance is closed whole by the service (execution.ts, closeEverythingOf).
  if (engine.state !== 'idle') recorder.reconcile(running);
}

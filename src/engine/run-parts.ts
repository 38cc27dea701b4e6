import { Engine } from 'bpmn-engine';
import { deserialize } from 'moddle-context-serializer';
import { DECISION_HOST, type DecisionHost, type Decisions } from './business-rule-task.ts';
import { makeExpressions, type JuelExpressions } from './expressions.ts';
import type { InstanceInfo } from './juel-context.ts';
import { camundaExtension } from './camunda-extension.ts';
import { ConditionTracker } from './conditional.ts';
import { EventSubProcessRun, eventStartsOf } from './event-subprocesses.ts';
import { groupMembersExtension, type GroupMembers } from './group-members.ts';
import { HostTimers } from './host-timers.ts';
import { announceIterationsTo } from './multi-instance-loop.ts';
import { processListeners, type ProcessListeners, type RunJuel } from './process-listeners.ts';
import { Recorder, walkPostponed } from './recorder.ts';
import { EngineRunError } from './run-error.ts';
import { RunBudget, SandboxScripts } from './scripts.ts';
import { typeResolver } from './serialize.ts';
import type { EngineState } from './state.ts';
import { taskDeletes, type TaskDeletes } from './task-deletes.ts';

/*
 * What one engine run is made of, set up the same way for a start and for a
 * signal (runner.ts): the engine over a fresh source context, its recorder,
 * and the helpers that give it Camunda 7's behaviour where the engine has
 * none of its own (conditional events, event sub-process starts, multi-instance
 * iterations, process and task-delete listeners).
 */

export interface CompiledRef {
  /** Definition id, used as the engine's name for logs. */
  id: string;
  compiled: string;
}

/**
 * Camunda's `execution` in expressions, the part a diagram needs to name its
 * own instance (a raised incident pointing back at the procedure that raised it).
 */
export interface ExecutionInfo {
  processInstanceId: string;
  businessKey: string | null;
  processDefinitionId: string;
  /**
   * The user whose command runs the engine, for `currentUser()`,
   * `currentUserGroups()` and `authenticatedUserId`; null or absent when the
   * server runs it (a timer), as Camunda's are null without an authenticated user.
   * Not part of the engine's settings: the saved state must not remember who ran it last.
   */
  user?: { id: string; groups: string[] } | null | undefined;
  /** The names of the process variables of type Date (JuelEnv.dates); not part of the settings either. */
  dates?: readonly string[] | undefined;
}

/**
 * What runs once the engine is quiet, over the final process variables: the
 * `delete` listeners of the tasks the run cancelled (task-deletes.ts), then,
 * if the instance ended, the process's `end` listeners (process-listeners.ts).
 */
export type AfterRun = (variables: Record<string, unknown>, completed: boolean) => Promise<void>;

export interface RunParts {
  budget: RunBudget;
  scripts: SandboxScripts;
  engine: Engine;
  recorder: Recorder;
  conditions: ConditionTracker;
  eventSubProcesses: EventSubProcessRun;
  after: AfterRun | undefined;
  /** The `delete` task listeners of the definition, run as tasks are cancelled (task-deletes.ts). */
  deletes: TaskDeletes | undefined;
  /** The decisions read for this run and what its business rule tasks evaluated (business-rule-task.ts). */
  decisionHost: DecisionHost;
}

export interface RunOptions {
  /** The variables a new instance starts with; a recovered run gets its own from its state. */
  variables?: Record<string, unknown>;
  /** A saved run to recover: its state and the executions that were waiting. */
  saved?: { state: EngineState; open: Set<string> };
  /** Timer executions to fire as the engine re-registers them (see HostTimers). */
  fire?: ReadonlySet<string>;
  now?: Date | undefined;
  zone?: string | undefined;
  execution?: ExecutionInfo | undefined;
  members?: GroupMembers | undefined;
  /** The decisions its business rule tasks may evaluate, read before the run (services/business-rule-tasks.ts). */
  decisions?: Decisions | undefined;
}

type EngineOptions = RunOptions & { budget: RunBudget };

/** Sets up one run; for a new instance, the process's `start` listeners run first, over the start variables. */
export async function setUpRun(def: CompiledRef, o: RunOptions): Promise<RunParts> {
  const budget = new RunBudget();
  const scripts = new SandboxScripts(budget, o.execution && { processInstanceId: o.execution.processInstanceId, businessKey: o.execution.businessKey });
  // Parsed per run: the serialized form is small, and a fresh context
  // guarantees no engine instance shares mutable element state with another.
  const sourceContext = deserialize(JSON.parse(def.compiled), typeResolver);
  const juel = runExpressions(o);
  const listeners = processListeners(sourceContext, scripts, budget, juel);
  const variables = { ...(o.variables ?? {}) };
  if (!o.saved) await listeners?.run('start', variables);
  const decisionHost: DecisionHost = { decisions: o.decisions ?? { get: () => undefined }, evaluated: [], missing: [], fail: (message, activityId) => budget.fail(message, activityId) };
  const engine = makeEngine(def, sourceContext, variables, scripts, { ...o, budget }, decisionHost, juel.expressions);
  const deletes = taskDeletes(sourceContext, scripts, budget, o.saved && { state: o.saved.state, open: o.saved.open }, juel);
  const recorder = new Recorder(o.saved?.open ?? new Set(), budget, () => engine.stop(), { now: o.now, zone: o.zone });
  const conditions = new ConditionTracker();
  recorder.listener.on('wait', (api) => conditions.onWait(api));
  const eventSubProcesses = new EventSubProcessRun(eventStartsOf(def.compiled), recorder, o.now, o.zone);
  announceIterationsTo(engine as never, recorder.listener);
  return { budget, scripts, engine, recorder, conditions, eventSubProcesses, after: afterRun(listeners, deletes, recorder), deletes, decisionHost };
}

/**
 * The run's expressions, with its clock and zone (as its timers'), and its user, for now(),
 * dateTime() and currentUser(); and the instance, for listeners evaluated outside the engine
 * (process listeners, delete task listeners).
 */
function runExpressions(o: RunOptions): RunJuel {
  const { user, dates, ...instance } = o.execution ?? { user: null };
  const now = o.now;
  const expressions = makeExpressions({ now: () => now ?? new Date(), zone: o.zone ?? 'Asia/Shanghai', user: user ?? null, dates: dates && new Set(dates) });
  return { expressions, execution: o.execution ? instance as InstanceInfo : undefined };
}

function makeEngine(
  def: CompiledRef, sourceContext: any, variables: Record<string, unknown>, scripts: SandboxScripts, o: EngineOptions, decisionHost: DecisionHost, expressions: JuelExpressions,
): Engine {
  const camunda = camundaExtension(scripts, o.budget) as never;
  const { user: _user, dates: _dates, ...instance } = o.execution ?? { user: null };
  return new Engine({
    name: def.id,
    // Read by the expressions (contextScope). The saved state carries a copy; every run passes it again, unchanged.
    settings: o.execution ? { execution: instance } : {},
    sourceContext,
    variables,
    expressions,
    // Services are not part of the saved state: the decisions are read again for every run.
    services: { [DECISION_HOST]: decisionHost as never },
    // camunda:inputOutput and script execution listeners, in Camunda's order (camunda-extension.ts);
    // a group's members as a variable where the diagram asks for them (group-members.ts).
    extensions: o.members ? { camunda, groupMembers: groupMembersExtension(o.members) as never } : { camunda },
    // Every script of the diagram runs in the QuickJS sandbox; without this option the engine would use node:vm.
    scripts,
    // Host-owned timers: the engine's due times become rows; nothing is armed here.
    timers: new HostTimers(o.fire ?? new Set(), o.now, o.zone) as never,
  });
}

function afterRun(listeners: ProcessListeners | undefined, deletes: TaskDeletes | undefined, recorder: Recorder): AfterRun | undefined {
  if (!listeners && !deletes) return undefined;
  return async (variables, completed) => {
    await deletes?.run(recorder.activities, variables);
    if (completed) await listeners?.run('end', variables);
  };
}

/** Rounds of conditional events firing one another (a path they open changing variables again) before the run is failed. */
const MAX_CONDITION_ROUNDS = 50;

/**
 * Once the run is quiet: every waiting conditional event whose variables
 * changed since it was last evaluated is evaluated again, until none is
 * (what one opens may change variables another listens to). The `delete`
 * listeners of the tasks cancelled so far run in between, over the process
 * variables, so what they set is a change as any other (Camunda fires them
 * as the task is deleted); those of tasks found cancelled only once the
 * run is settled, or of an instance that ended, run after (finish).
 */
export async function settleConditions({ engine, budget, scripts, conditions, deletes, recorder }: RunParts): Promise<void> {
  for (let round = 0; ; round++) {
    await scripts.quiescent();
    if (budget.failure || !engine.execution) return;
    if (!conditions.signalChanged(walkPostponed(engine.execution.getPostponed()))) {
      const variables = deletes && processEnvironmentVariables(engine);
      if (!variables || !(await deletes!.run(recorder.activities, variables))) return;
      continue;
    }
    if (round >= MAX_CONDITION_ROUNDS) {
      throw new EngineRunError(`条件事件反复触发 / conditional events kept firing one another after ${MAX_CONDITION_ROUNDS} rounds`, budget.lastActivityId ?? '');
    }
  }
}

/** The variables of the running process (what its elements read and write), or undefined once it ended. */
function processEnvironmentVariables(engine: Engine): Record<string, unknown> | undefined {
  for (const definition of (engine.execution as any)?.definitions ?? []) {
    for (const proc of definition.getRunningProcesses?.() ?? []) return proc.environment?.variables;
  }
  return undefined;
}

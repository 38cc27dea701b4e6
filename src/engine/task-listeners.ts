import { deserialize } from 'moddle-context-serializer';
import { scriptListeners, type ScriptListener } from './camunda-extension.ts';
import { makeExpressions } from './expressions.ts';
import type { TaskDraft, TaskInfo } from './juel-context.ts';
import type { JuelEnv } from './juel-methods.ts';
import { evaluateOutside } from './process-listeners.ts';
import { EngineRunError } from './run-error.ts';
import { sandboxReady } from './sandbox.ts';
import { RunBudget, SandboxScripts, type ScriptInstance } from './scripts.ts';
import { typeResolver } from './serialize.ts';
import type { CompiledRef } from './runner.ts';

/*
 * Task listeners that fire outside an engine run: `assignment` when a
 * person claims, unclaims, delegates or sets the assignee of a task over
 * REST, and `delete` when an instance is deleted. They run in the sandbox as
 * the engine's own do (one run budget, one script after another), over the
 * process variables and the task's execution's locals; the caller saves what
 * they changed in the transaction of the change that fired them.
 */

const byDefinition = new WeakMap<CompiledRef, Map<string, ScriptListener[]>>();

/** The inline javascript task listeners of user task `activityId` for `event` (definitions are immutable: kept per loaded definition). */
export function taskListenersOf(def: CompiledRef, activityId: string, event: string): ScriptListener[] {
  let listeners = byDefinition.get(def);
  if (!listeners) {
    listeners = new Map();
    byDefinition.set(def, listeners);
  }
  const key = `${activityId}\u0000${event}`;
  let found = listeners.get(key);
  if (!found) {
    const context = deserialize(JSON.parse(def.compiled), typeResolver);
    const activity = context.getActivityById(activityId);
    found = activity?.type === 'bpmn:UserTask' ? scriptListeners(activity.behaviour, event, 'camunda:TaskListener', true) : [];
    listeners.set(key, found);
  }
  return found;
}

export interface StandaloneTask {
  activityId: string;
  name: string | null;
  assignee: string | null;
  instance: ScriptInstance;
  /** For listeners in expression form: the definition, the task as its row is (juel-task.ts), its execution, and the clock, zone and user. */
  definitionId?: string;
  draft?: TaskDraft | undefined;
  executionId?: string | null;
  env?: JuelEnv | undefined;
}

/**
 * Runs `listeners` one after another over copies of `variables` (process)
 * and `locals` (the task's execution's); returns both as the scripts left
 * them. A failing script throws an EngineRunError naming the task.
 */
export async function runTaskListeners(
  task: StandaloneTask, listeners: ScriptListener[], variables: Record<string, unknown>, locals: Record<string, unknown>,
): Promise<{ variables: Record<string, unknown>; locals: Record<string, unknown> }> {
  await sandboxReady();
  const budget = new RunBudget();
  const scripts = new SandboxScripts(budget, task.instance);
  const processVariables = { ...variables };
  let current = { ...locals };
  for (const l of listeners) {
    if (l.expression !== undefined) {
      evaluateListener(task, l, processVariables, current);
      continue;
    }
    scripts.listener(
      { activityId: task.activityId, activityName: task.name, event: l.event, code: l.code, task: true, assignee: task.assignee, draft: task.draft },
      processVariables, current, (after) => { current = after; },
    );
    await scripts.quiescent();
    if (budget.failure) throw new EngineRunError(budget.failure.message, budget.failure.activityId);
  }
  return { variables: processVariables, locals: current };
}

/**
 * A task listener in expression form, evaluated as camunda-extension.ts
 * evaluates one inside a run: over the task's execution's locals and the
 * process variables (what `setVariable` sets changes `variables`), with
 * `task` as its row is. A failure names the task.
 */
function evaluateListener(task: StandaloneTask, l: ScriptListener, variables: Record<string, unknown>, locals: Record<string, unknown>): void {
  const execution = { processInstanceId: task.instance.processInstanceId, businessKey: task.instance.businessKey, processDefinitionId: task.definitionId ?? '' };
  try {
    makeExpressions(task.env).resolveExpression(l.expression!, {
      environment: { variables, settings: { execution } },
      content: { id: task.activityId, executionId: task.executionId ?? null, localVariables: locals },
      taskListener: { activityId: task.activityId, event: l.event, name: () => task.name, draft: task.draft } satisfies TaskInfo,
    });
  } catch (err) {
    throw new EngineRunError(`${task.activityId}: ${(err as Error).message}`, task.activityId);
  }
}

/** An open task of an instance being deleted, with its execution's locals. */
export interface DeletedTask {
  activityId: string;
  name: string | null;
  assignee: string | null;
  locals: Record<string, unknown>;
}

/**
 * The listeners of an instance's deletion, as Camunda 7 runs them (unless
 * the caller skips custom listeners): each open task's `delete` listeners,
 * then the process's `end` listeners, over the process variables. Returns the
 * variables as they left them, or null when there is no listener to run.
 */
export async function runDeletionListeners(
  def: CompiledRef & { id: string }, tasks: DeletedTask[], variables: Record<string, unknown>, instance: ScriptInstance, env?: JuelEnv,
): Promise<Record<string, unknown> | null> {
  const work = tasks.map((task) => ({ task, listeners: taskListenersOf(def, task.activityId, 'delete') })).filter((w) => w.listeners.length);
  const context = deserialize(JSON.parse(def.compiled), typeResolver);
  const process = context.getExecutableProcesses()[0];
  const ends = process ? scriptListeners(process.behaviour, 'end', undefined, true) : [];
  if (!work.length && !ends.length) return null;
  let current = { ...variables };
  for (const { task, listeners } of work) {
    current = (await runTaskListeners({ activityId: task.activityId, name: task.name, assignee: task.assignee, instance, definitionId: def.id, env }, listeners, current, task.locals)).variables;
  }
  if (ends.length) {
    await sandboxReady();
    const budget = new RunBudget();
    const scripts = new SandboxScripts(budget, instance);
    const juel = { expressions: makeExpressions(env), execution: { ...instance, processDefinitionId: def.id } };
    for (const l of ends) {
      if (l.expression !== undefined) {
        evaluateOutside(juel, String(process.id), l.expression, current);
        continue;
      }
      scripts.listener({ activityId: String(process.id), activityName: process.name ?? null, event: 'end', code: l.code }, current, {}, () => {});
      await scripts.quiescent();
      if (budget.failure) throw new EngineRunError(budget.failure.message, budget.failure.activityId);
    }
  }
  return current;
}

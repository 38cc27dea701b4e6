import { deserialize } from 'moddle-context-serializer';
import { scriptListeners, type ScriptListener } from './camunda-extension.ts';
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
    found = activity?.type === 'bpmn:UserTask' ? scriptListeners(activity.behaviour, event, 'camunda:TaskListener') : [];
    listeners.set(key, found);
  }
  return found;
}

export interface StandaloneTask {
  activityId: string;
  name: string | null;
  assignee: string | null;
  instance: ScriptInstance;
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
    scripts.listener(
      { activityId: task.activityId, activityName: task.name, event: l.event, code: l.code, task: true, assignee: task.assignee },
      processVariables, current, (after) => { current = after; },
    );
    await scripts.quiescent();
    if (budget.failure) throw new EngineRunError(budget.failure.message, budget.failure.activityId);
  }
  return { variables: processVariables, locals: current };
}

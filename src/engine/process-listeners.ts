import { scriptListeners, type ScriptListener } from './camunda-extension.ts';
import type { JuelExpressions } from './expressions.ts';
import type { InstanceInfo, TaskInfo } from './juel-context.ts';
import { EngineRunError } from './run-error.ts';
import type { RunBudget, SandboxScripts } from './scripts.ts';

/*
 * Execution listeners on the process itself (`<bpmn:process>` →
 * camunda:executionListener start/end, inline javascript or expression), as
 * Camunda 7 runs them: `start` when the instance starts, after the start
 * variables are set and before its start event; `end` when the instance has
 * ended (its last end event, or a terminate end event), over the final
 * variables. The engine loads a process's extensions but never activates
 * them, so the runner calls these around the engine run: before `execute`,
 * and once the run is quiet and the instance has ended. A listener that
 * fails fails the run, naming the process, and nothing is saved.
 */

/** The run's expressions and instance, for listeners evaluated outside the engine's elements (run-parts.ts). */
export interface RunJuel {
  expressions: JuelExpressions;
  execution: InstanceInfo | undefined;
}

/**
 * Evaluates a listener in expression form for element `id` over `variables`
 * (what `execution.setVariable` sets changes them) and `locals`, with `task`
 * for a task listener; a failure fails the run naming the element.
 */
export function evaluateOutside(juel: RunJuel, id: string, expression: string, variables: Record<string, unknown>, locals?: Record<string, unknown>, taskListener?: TaskInfo): void {
  try {
    juel.expressions.resolveExpression(expression, {
      environment: { variables, settings: juel.execution ? { execution: juel.execution } : {} },
      content: { id, ...(locals ? { localVariables: locals } : {}) },
      ...(taskListener ? { taskListener } : {}),
    });
  } catch (err) {
    throw new EngineRunError(`${id}: ${(err as Error).message}`, id);
  }
}

export interface ProcessListeners {
  /** Runs the `start` or `end` listeners over `variables` (changed in place). */
  run(event: 'start' | 'end', variables: Record<string, unknown>): Promise<void>;
}

/** The process's listeners from the engine's source context (its one executable process). */
export function processListeners(sourceContext: any, scripts: SandboxScripts, budget: RunBudget, juel: RunJuel): ProcessListeners | undefined {
  const process = sourceContext.getExecutableProcesses?.()[0] ?? sourceContext.getProcesses?.()[0];
  if (!process) return undefined;
  const byEvent = { start: scriptListeners(process.behaviour, 'start', undefined, true), end: scriptListeners(process.behaviour, 'end', undefined, true) };
  if (!byEvent.start.length && !byEvent.end.length) return undefined;
  const id = String(process.id);
  const name: string | null = process.name ?? null;
  return {
    async run(event, variables) {
      for (const l of byEvent[event]) {
        if (l.expression !== undefined) evaluateOutside(juel, id, l.expression, variables);
        else await runOne(scripts, budget, { id, name }, l, variables);
      }
    },
  };
}

async function runOne(scripts: SandboxScripts, budget: RunBudget, process: { id: string; name: string | null }, l: ScriptListener, variables: Record<string, unknown>): Promise<void> {
  scripts.listener({ activityId: process.id, activityName: process.name, event: l.event, code: l.code }, variables, {}, () => {});
  await scripts.quiescent();
  if (budget.failure) throw new EngineRunError(budget.failure.message, budget.failure.activityId);
}

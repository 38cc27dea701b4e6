import { scriptListeners, type ScriptListener } from './camunda-extension.ts';
import { EngineRunError } from './run-error.ts';
import type { RunBudget, SandboxScripts } from './scripts.ts';

/*
 * Execution listeners on the process itself (`<bpmn:process>` →
 * camunda:executionListener start/end, inline javascript), as Camunda 7 runs
 * them: `start` when the instance starts, after the start variables are set
 * and before its start event; `end` when the instance has ended (its last
 * end event, or a terminate end event), over the final variables. The engine
 * loads a process's extensions but never activates them, so the runner calls
 * these around the engine run: before `execute`, and once the run is quiet
 * and the instance has ended. A listener that fails fails the run, naming
 * the process, and nothing is saved.
 */

export interface ProcessListeners {
  /** Runs the `start` or `end` listeners over `variables` (changed in place). */
  run(event: 'start' | 'end', variables: Record<string, unknown>): Promise<void>;
}

/** The process's listeners from the engine's source context (its one executable process). */
export function processListeners(sourceContext: any, scripts: SandboxScripts, budget: RunBudget): ProcessListeners | undefined {
  const process = sourceContext.getExecutableProcesses?.()[0] ?? sourceContext.getProcesses?.()[0];
  if (!process) return undefined;
  const byEvent = { start: scriptListeners(process.behaviour, 'start'), end: scriptListeners(process.behaviour, 'end') };
  if (!byEvent.start.length && !byEvent.end.length) return undefined;
  const id = String(process.id);
  const name: string | null = process.name ?? null;
  return {
    async run(event, variables) {
      for (const l of byEvent[event]) await runOne(scripts, budget, { id, name }, l, variables);
    },
  };
}

async function runOne(scripts: SandboxScripts, budget: RunBudget, process: { id: string; name: string | null }, l: ScriptListener, variables: Record<string, unknown>): Promise<void> {
  scripts.listener({ activityId: process.id, activityName: process.name, event: l.event, code: l.code }, variables, {}, () => {});
  await scripts.quiescent();
  if (budget.failure) throw new EngineRunError(budget.failure.message, budget.failure.activityId);
}

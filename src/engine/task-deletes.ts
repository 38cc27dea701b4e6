import { scriptListeners, type ScriptListener } from './camunda-extension.ts';
import { readLocals } from './local-variables.ts';
import { evaluateOutside, type RunJuel } from './process-listeners.ts';
import type { ActivityEvent } from './recorder.ts';
import { EngineRunError } from './run-error.ts';
import type { RunBudget, SandboxScripts } from './scripts.ts';
import type { EngineState } from './state.ts';

/*
 * `delete` task listeners for user tasks an engine run cancelled: an
 * interrupting boundary event, a terminate end event, a multi-instance
 * completion condition, an error leaving their sub-process. Camunda 7 fires
 * them as the task is deleted; the engine here cancels without a hook that
 * could wait for a script, so they run once the run is quiet, in the order
 * the tasks were cancelled, over the process variables as the run left them
 * (before the process's own end listeners), each with its task's local
 * variables as they were when the run began. What they set is saved with
 * the run, and, while the instance still runs, the conditional events
 * waiting in it are evaluated again over it (run-parts.ts, settleConditions),
 * as Camunda's variable events would; a failing one fails the whole run, as any listener does.
 */

export interface TaskDeletes {
  /**
   * Runs the delete listeners of the user tasks cancelled in `activities`
   * over `variables` (changed in place), each task's once per run however
   * often it is asked; how many tasks' listeners ran now.
   */
  run(activities: ActivityEvent[], variables: Record<string, unknown>): Promise<number>;
}

/** The delete listeners of a definition, and the locals of the tasks open before this run; undefined when it has none. */
export function taskDeletes(sourceContext: any, scripts: SandboxScripts, budget: RunBudget, before: { state: EngineState; open: Iterable<string> } | undefined, juel: RunJuel): TaskDeletes | undefined {
  const byActivity = new Map<string, { name: string | null; listeners: ScriptListener[] }>();
  for (const a of (sourceContext.getActivities?.() ?? []) as any[]) {
    if (a.type !== 'bpmn:UserTask') continue;
    const listeners = scriptListeners(a.behaviour, 'delete', 'camunda:TaskListener', true);
    if (listeners.length) byActivity.set(a.id, { name: a.name ?? null, listeners });
  }
  if (!byActivity.size) return undefined;
  // Read before the engine recovers the state: the engine then owns (and changes) it.
  const locals = new Map<string, { activityId: string; locals: Record<string, unknown> }>();
  for (const executionId of before?.open ?? []) {
    const found = readLocals(before!.state, executionId);
    const activityId = activityOf(before!.state, executionId);
    if (found && activityId) locals.set(executionId, { activityId, locals: JSON.parse(JSON.stringify(found)) });
  }
  const ran = new Set<ActivityEvent>();
  return {
    async run(activities, variables) {
      let count = 0;
      for (const a of activities.filter((e) => e.kind === 'cancel' && !ran.has(e))) {
        ran.add(a);
        const activityId = a.activityId || locals.get(a.executionId)?.activityId || '';
        const task = byActivity.get(activityId);
        if (!task) continue;
        count += 1;
        for (const l of task.listeners) {
          const mine = locals.get(a.executionId)?.locals ?? {};
          if (l.expression !== undefined) {
            const name = a.name ?? task.name;
            evaluateOutside(juel, activityId, l.expression, variables, mine, { activityId, event: 'delete', name: () => name });
            continue;
          }
          scripts.listener({ activityId, activityName: a.name ?? task.name, event: 'delete', code: l.code, task: true }, variables, locals.get(a.executionId)?.locals ?? {}, () => {});
          await scripts.quiescent();
          if (budget.failure) throw new EngineRunError(budget.failure.message, budget.failure.activityId);
        }
      }
      return count;
    },
  };
}

/** The element id of a running execution in a saved state. */
function activityOf(state: EngineState, executionId: string): string | undefined {
  let found: string | undefined;
  const walk = (node: unknown): void => {
    if (found || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(walk);
    const n = node as Record<string, any>;
    if (n.fields && n.content?.executionId === executionId && typeof n.content.id === 'string') found = n.content.id;
    else for (const v of Object.values(n)) walk(v);
  };
  walk(state);
  return found;
}

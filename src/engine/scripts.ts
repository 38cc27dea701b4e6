import { runScript, ScriptFailure, type ScriptOutcome, type TaskChanges } from './sandbox.ts';
import type { TaskDraft } from './juel-context.ts';
import { engineLimits } from './limits.ts';
import { INSTANCE_LOCALS } from './sub-process-instances.ts';

/** The failure that ends an engine run: the runner throws it as an EngineRunError. */
export interface RunFailure {
  message: string;
  activityId: string;
}

/**
 * What one engine run may still spend: elements started (a cycle that never
 * waits) and wall-clock time. The first failure, of a budget or of a script,
 * is kept; the runner stops the engine and fails the run with it.
 */
export class RunBudget {
  failure: RunFailure | undefined;
  /** The element started last: named when the engine fails without saying where (a stack overflow). */
  lastActivityId: string | null = null;
  private steps = 0;
  private readonly deadline = performance.now() + engineLimits.runWallMs;

  /** Counts one element start; false when the run must stop. */
  step(activityId: string): boolean {
    if (this.failure) return false;
    this.steps += 1;
    this.lastActivityId = activityId;
    if (this.steps > engineLimits.runSteps) {
      this.fail(`流程一次运行超过 ${engineLimits.runSteps} 步，可能是不等待的循环 / one engine run started more than ${engineLimits.runSteps} elements (a cycle that never waits?), stopped at ${activityId}`, activityId);
    } else {
      this.checkDeadline(activityId);
    }
    return !this.failure;
  }

  /** Fails the run if its wall-clock time is spent; true if it was. */
  checkDeadline(activityId: string): boolean {
    if (!this.failure && performance.now() > this.deadline) {
      this.fail(`流程一次运行超过 ${engineLimits.runWallMs} ms / one engine run took longer than ${engineLimits.runWallMs} ms, stopped at ${activityId}`, activityId);
    }
    return this.failure !== undefined;
  }

  /** Time a script in this run may take: its own limit, or what is left of the run's. */
  scriptTimeoutMs(): number {
    return Math.max(1, Math.min(engineLimits.scriptTimeoutMs, Math.ceil(this.deadline - performance.now())));
  }

  fail(message: string, activityId: string): void {
    this.failure ??= { message, activityId };
  }
}

/** The instance as a script sees it through `execution`. */
export interface ScriptInstance {
  processInstanceId: string;
  businessKey: string | null;
}

/** bpmn-elements' Script: what register and getScript hand the engine. */
export interface EngineScript {
  execute(executionContext: any, callback: CallableFunction): void;
}

interface Registered {
  id: string;
  type: string;
  code: string;
  resultVariable: string | null;
  /** A condition answers with its result's truthiness; a script task with the value. */
  isCondition: boolean;
}

/** Script languages run in the sandbox; check-scripts refuses the others at deployment. */
export const JAVASCRIPT = /^(javascript|js|ecmascript)$/i;

/** Engine-internal keys of the environment's variables, not process variables. */
const INTERNAL = new Set(['fields', 'content', 'properties', INSTANCE_LOCALS]);

/**
 * The engine's `scripts` option: every script of a diagram (script tasks,
 * script conditions on flows and conditional events) runs in the QuickJS
 * sandbox, never in `node:vm`. One per engine run.
 *
 * A script runs on a script thread while the event loop serves other
 * requests; the engine goes on when its callback is called, later. Scripts
 * of one run run one after another, in the order the engine asked for them,
 * each on the variables as the ones before left them: a run behaves as if
 * its scripts ran synchronously, as in Camunda.
 */
export class SandboxScripts {
  private readonly scripts = new Map<string, Registered>();
  /** The last script of this run asked for; never rejects. */
  private tail: Promise<void> = Promise.resolve();
  /** Scripts asked for and not yet finished (their callbacks included). */
  private pending = 0;

  constructor(private readonly budget: RunBudget, private readonly instance: ScriptInstance | undefined) {}

  register({ id, type, behaviour }: { id: string; type: string; behaviour: any }): EngineScript | undefined {
    const isFlow = type === 'bpmn:SequenceFlow';
    const language: unknown = isFlow ? behaviour?.conditionExpression?.language : behaviour?.scriptFormat;
    const code: unknown = isFlow ? behaviour?.conditionExpression?.body : behaviour?.script;
    // A flow without a language has a JUEL expression, which the expressions option evaluates.
    if (isFlow && !language) return undefined;
    // Anything else is unsupported: the engine then fails the element (deployment refuses it first).
    if (typeof language !== 'string' || !JAVASCRIPT.test(language) || typeof code !== 'string') return undefined;
    const registered: Registered = {
      id, type, code,
      resultVariable: typeof behaviour?.resultVariable === 'string' && behaviour.resultVariable ? behaviour.resultVariable : null,
      isCondition: type !== 'bpmn:ScriptTask',
    };
    this.scripts.set(id, registered);
    return this.handle(registered);
  }

  getScript(_language: string, { id }: { id: string }): EngineScript {
    const registered = this.scripts.get(id);
    // The engine's own type says a script is always found; at run time it checks for undefined.
    return (registered && this.handle(registered)) as EngineScript;
  }

  /**
   * Resolves when the run is quiescent: no script running or waiting, and
   * nothing the engine queued after the last one (a script's continuation may
   * start the next script, so this repeats until a turn passes with none).
   */
  async quiescent(): Promise<void> {
    for (;;) {
      while (this.pending > 0) await this.tail;
      await new Promise((resolve) => setImmediate(resolve));
      if (this.pending === 0) return;
    }
  }

  /** Whether a script of this run is running or waiting for its turn. */
  get busy(): boolean {
    return this.pending > 0;
  }

  /**
   * Runs a listener script (camunda-extension.ts) in this run's queue, after
   * the scripts asked for before it. It sees the process variables with the
   * element's local variables in front; `setVariable` of a local name changes
   * the local, of any other name the process variable (Camunda sets a
   * variable where it is found, else on the process instance). `done` is
   * called with the locals as the script left them; never if it failed (the
   * whole run fails, naming the element).
   */
  listener(
    listener: {
      activityId: string; activityName: string | null; event: string; code: string; task?: boolean; assignee?: string | null | undefined; draft?: TaskDraft | undefined;
      /** The execution's current activity when it is not `activityId` (a take listener: the flow's source). */
      currentActivityId?: string | undefined;
    },
    processVariables: Record<string, unknown>, locals: Record<string, unknown>, done: (locals: Record<string, unknown>) => void,
  ): void {
    const mine = { ...locals };
    const scope = localScope(processVariables, mine);
    const registered: Registered = {
      id: listener.activityId, type: `listener/${listener.event}`, code: listener.code, resultVariable: null, isCondition: false,
    };
    const { draft } = listener;
    // The task's attributes where they are known (juel-task.ts offers the same); only a create listener may change them.
    const task = !listener.task ? undefined : {
      eventName: listener.event,
      ...(listener.event === 'assignment' ? { assignee: listener.assignee ?? null } : {}),
      ...(draft ? { attributes: draft, mutable: listener.event === 'create' } : {}),
    };
    const onTaskChange = draft && listener.event === 'create' ? (changes: TaskChanges) => Object.assign(draft, changes) : undefined;
    this.execute(registered, { scope, task, onTaskChange, content: { id: listener.currentActivityId ?? listener.activityId, name: listener.activityName } }, () => done(mine));
  }

  private handle(registered: Registered): EngineScript {
    return { execute: (context: any, callback: CallableFunction) => this.execute(registered, context, callback as (err: Error | null, result?: unknown) => void) };
  }

  private execute(registered: Registered, context: any, callback: (err: Error | null, result?: unknown) => void): void {
    if (this.budget.failure) return;
    this.pending += 1;
    this.tail = this.tail
      .then(() => this.run(registered, context, callback))
      .finally(() => { this.pending -= 1; });
  }

  /**
   * Runs the script with a JSON copy of the process variables and applies
   * what it set and removed. A failed script fails the whole run: the
   * callback is never called, so no boundary event can swallow a script that
   * ran out of time (Camunda, too, rolls the transaction back). Never rejects.
   */
  private async run(registered: Registered, context: any, callback: (err: Error | null, result?: unknown) => void): Promise<void> {
    // The run was stopped while this script waited for its turn.
    if (this.budget.failure) return;
    const scope: Scope = context.scope ?? taskScope(context);
    let outcome: ScriptOutcome;
    try {
      outcome = await runScript({
        code: registered.code,
        filename: `${registered.type}/${registered.id}`,
        input: {
          variables: jsonCopy(scope.variables),
          processInstanceId: this.instance?.processInstanceId ?? null,
          businessKey: this.instance?.businessKey ?? null,
          // In a condition, Camunda's current activity is the element the flow leaves.
          activityId: String(context.content?.id ?? context.id),
          activityName: context.content?.name ?? null,
          task: context.task,
        },
      }, () => this.budget.scriptTimeoutMs());
    } catch (err) {
      // A script cut short because the run's own time ran out is the run's failure.
      this.budget.checkDeadline(registered.id);
      const message = err instanceof ScriptFailure ? err.message : `脚本无法运行 / the script could not run: ${(err as Error).message}`;
      this.budget.fail(`${registered.id}: ${message}`, registered.id);
      return;
    }
    if (this.budget.failure) return;
    try {
      for (const [name, value] of Object.entries(outcome.set)) {
        if (!INTERNAL.has(name)) scope.set(name, value);
      }
      for (const name of outcome.removed) {
        if (!INTERNAL.has(name)) scope.remove(name);
      }
      if (registered.resultVariable) scope.set(registered.resultVariable, outcome.result);
      if (outcome.task) context.onTaskChange?.(outcome.task);
      // The engine goes on in this call: what it throws (the step budget unwinding a cycle,
      // an element failing) would otherwise be lost here, so the run fails with it.
      callback(null, registered.isCondition ? outcome.truthy : outcome.result);
    } catch (err) {
      const e = err as Error & { activityId?: string | null; source?: { content?: { id?: string } } };
      const where = e.activityId ?? e.source?.content?.id ?? this.budget.lastActivityId ?? registered.id;
      this.budget.fail(e.message ?? String(err), where);
    }
  }
}

/** The variables a script reads, and where what it sets and removes goes. */
interface Scope {
  variables: Record<string, unknown>;
  set(name: string, value: unknown): void;
  remove(name: string): void;
}

/**
 * A script task's or condition's scope: the process variables themselves;
 * for one instance of a multi-instance script task, its loop variables
 * (element variable, loopCounter, nrOf*) in front, as Camunda's local
 * variables of the instance's execution (multi-instance.ts).
 */
function taskScope(context: any): Scope {
  const variables: Record<string, unknown> = context.environment?.variables ?? {};
  const loop = context.content?.isMultiInstance ? context.content.loopVariables : undefined;
  if (loop && typeof loop === 'object') return localScope(variables, loop);
  return { variables, set: (name, value) => { variables[name] = value; }, remove: (name) => { delete variables[name]; } };
}

/** Locals in front of the process variables: `set` of a local name changes the local, of any other the process variable (Camunda sets a variable where it is found). */
function localScope(processVariables: Record<string, unknown>, locals: Record<string, unknown>): Scope {
  return {
    variables: { ...processVariables, ...locals },
    set: (name, value) => { if (Object.hasOwn(locals, name)) locals[name] = value; else processVariables[name] = value; },
    remove: (name) => { if (Object.hasOwn(locals, name)) delete locals[name]; else delete processVariables[name]; },
  };
}

/** The process variables as JSON data: what crosses into the sandbox. */
function jsonCopy(variables: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (!INTERNAL.has(name)) out[name] = value;
  }
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

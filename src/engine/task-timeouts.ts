import { deserialize } from 'moddle-context-serializer';
import type { CompiledRef } from './runner.ts';
import { typeResolver } from './serialize.ts';
import { JAVASCRIPT } from './scripts.ts';
import { firstOccurrence, nextOccurrence, type TimerSpec } from './schedule.ts';
import { timerValueProblem } from './check-timers.ts';
import { EngineRunError } from './run-error.ts';

/*
 * `timeout` task listeners (Camunda 7.12+): a user task's listener with a
 * timer (date, duration or cycle). Its timer is a row of the timers table
 * like any other (GET /job lists it), armed when the task is created and
 * deleted with the task; its execution id is the task's execution id with
 * `_timeout<n>#<firing>`, so removing the task's timers (which match
 * `<execution>_%`) removes it too, and a cycle's next firing is a new row.
 * Firing runs the listener without touching the task (services/task-timeouts.ts).
 */

export interface TimeoutListener {
  /** Its place among the task's timeout listeners (the row names it). */
  index: number;
  code: string;
  /** In expression form (`camunda:expression`): evaluated instead of `code`. */
  expression?: string;
  spec: TimerSpec;
}

const TYPES = ['timeDate', 'timeDuration', 'timeCycle'] as const;

/** The inline javascript and expression-form `timeout` listeners of a user task's behaviour, in document order. */
export function timeoutListenersOf(behaviour: any): TimeoutListener[] {
  const values: any[] = behaviour?.extensionElements?.values ?? [];
  return values
    .filter((v) => v?.$type === 'camunda:TaskListener' && v.event === 'timeout')
    .map((v, index) => ({ index, v }))
    .filter(({ v }) => (v.script && JAVASCRIPT.test(String(v.script.scriptFormat ?? ''))) || (!v.script && typeof v.expression === 'string'))
    .flatMap(({ index, v }) => {
      const spec = timerSpecOf(v.eventDefinitions?.[0]);
      if (!spec) return [];
      return v.script ? [{ index, code: String(v.script.value ?? ''), spec }] : [{ index, code: '', expression: String(v.expression), spec }];
    });
}

/** A timer event definition's one value, or null (refused at deployment: check-scripts.ts). */
export function timerSpecOf(definition: any): TimerSpec | null {
  if (!definition) return null;
  for (const timerType of TYPES) {
    const value = definition[timerType];
    const body = typeof value === 'string' ? value : value?.body;
    if (typeof body === 'string' && body.trim()) return { timerType, expression: body.trim() };
  }
  return null;
}

export interface TimeoutRef {
  taskExecutionId: string;
  index: number;
  firing: number;
}

export const timeoutExecutionId = (r: TimeoutRef) => `${r.taskExecutionId}_timeout${r.index}#${r.firing}`;

/** The timeout listener a timer row's execution id names, or null for every other timer. */
export function timeoutRefOf(executionId: string): TimeoutRef | null {
  const m = /^(.+)_timeout(\d+)#(\d+)$/.exec(executionId);
  return m ? { taskExecutionId: m[1]!, index: Number(m[2]), firing: Number(m[3]) } : null;
}

/** When firing number `firing` (from 1) of a listener armed at `armedAt` falls due after one due at `previous` (firing > 1). */
export function timeoutDue(spec: TimerSpec, firing: number, now: Date, zone: string, previous?: Date): Date | null {
  if (firing === 1 || !previous) return firstOccurrence(spec, now, zone)?.due ?? null;
  const repeats = /^R(\d+)\//.exec(spec.expression);
  const left = repeats ? Number(repeats[1]) - (firing - 1) : null;
  if (left != null && left <= 0) return null;
  return nextOccurrence(spec, { due: previous, repeatsLeft: left == null ? null : left }, now, zone)?.due ?? null;
}

/** Timeout listener `index` of user task `activityId` in a loaded definition, or null when it has none (a row of an older shape). */
export function timeoutListenerOf(def: CompiledRef, activityId: string, index: number): TimeoutListener | null {
  const context = deserialize(JSON.parse(def.compiled), typeResolver);
  const activity = context.getActivityById(activityId);
  if (activity?.type !== 'bpmn:UserTask') return null;
  return timeoutListenersOf(activity.behaviour).find((l) => l.index === index) ?? null;
}

/**
 * The task's timeout listeners with their timer values resolved, as Camunda
 * resolves a timeout listener's `${…}` when the task is created (recorder.ts):
 * the row then holds the value (a cycle repeats it, services/task-timeouts.ts).
 * A value that fails or is not a valid timer fails the run naming the task.
 */
export function resolveTimeouts(api: any, listeners: TimeoutListener[], clock: { now?: Date | undefined; zone?: string | undefined }): TimeoutListener[] {
  return listeners.map((l) => {
    if (!/[$#]\{/.test(l.spec.expression)) return l;
    let value: unknown;
    try {
      value = api.environment.resolveExpression(l.spec.expression, api);
    } catch (err) {
      throw new EngineRunError(`${api.id}: ${(err as Error).message}`, api.id);
    }
    const problem = timerValueProblem(l.spec.timerType, value, clock.now ?? new Date(), clock.zone ?? 'Asia/Shanghai');
    if (problem) throw new EngineRunError(`${api.id}: 任务 ${api.id} 的 timeout 监听器定时 / the timeout listener timer of task ${api.id} (${l.spec.expression}): ${problem}`, api.id);
    return { ...l, spec: { timerType: l.spec.timerType, expression: value instanceof Date ? value.toISOString() : String(value).trim() } };
  });
}

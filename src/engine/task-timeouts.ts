import { deserialize } from 'moddle-context-serializer';
import type { CompiledRef } from './runner.ts';
import { typeResolver } from './serialize.ts';
import { JAVASCRIPT } from './scripts.ts';
import { firstOccurrence, nextOccurrence, type TimerSpec } from './schedule.ts';

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
  spec: TimerSpec;
}

const TYPES = ['timeDate', 'timeDuration', 'timeCycle'] as const;

/** The inline javascript `timeout` listeners of a user task's behaviour, in document order. */
export function timeoutListenersOf(behaviour: any): TimeoutListener[] {
  const values: any[] = behaviour?.extensionElements?.values ?? [];
  return values
    .filter((v) => v?.$type === 'camunda:TaskListener' && v.event === 'timeout')
    .map((v, index) => ({ index, v }))
    .filter(({ v }) => v.script && JAVASCRIPT.test(String(v.script.scriptFormat ?? '')))
    .flatMap(({ index, v }) => {
      const spec = timerSpecOf(v.eventDefinitions?.[0]);
      return spec ? [{ index, code: String(v.script.value ?? ''), spec }] : [];
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

import type { ModdleElement } from 'bpmn-moddle';
import { Duration } from 'luxon';
import { timeoutTimerOf } from './check-scripts.ts';
import { findSyntaxError } from './expressions.ts';
import { firstOccurrence, parseTimeDate, ScheduleError } from './schedule.ts';

/*
 * Timer values are checked by the server, never first by the engine's ISO
 * 8601 interval parser (@0dep/piso): that parser loops without end on a
 * zero-length cycle (`R/PT0S`) and steps one period at a time through long
 * gaps. So every literal timer of a diagram is checked at deployment, and
 * every value the engine is about to time (a resolved `${...}` too) is
 * checked again by HostTimerEventDefinition (serialize.ts) before it is used.
 */

/** The earliest and latest instants a timer may name: years 1 to 9999 (Camunda's date range). */
const EARLIEST = new Date(0).setUTCFullYear(1, 0, 1); // not Date.UTC, which reads year 1 as 1901
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59, 999);
/** A cycle repeats no faster than this: a shorter one starts work without bound. */
const MIN_CYCLE_MS = 1000;
/** Longer text is no timer anyone writes; it is refused before any parser sees it. */
const MAX_TIMER_TEXT = 200;

const inRange = (ms: number) => Number.isFinite(ms) && ms >= EARLIEST && ms <= LATEST;

/**
 * What is wrong with a timer value the engine is about to time, or null when
 * it is good: a date within years 1..9999, a duration of zero or more that
 * ends by then, a cycle whose period is at least a second and whose first
 * occurrence is in range. `cron` allows a cron cycle (timer start events,
 * which the scheduler times itself). Dates without an offset are local time
 * in `zone`.
 */
export function timerValueProblem(timerType: string, value: unknown, now: Date, zone: string, cron = false): string | null {
  if (value instanceof Date) {
    if (timerType !== 'timeDate') return `${timerType} 不能是日期 / a ${timerType} cannot be a date`;
    return inRange(value.getTime()) ? null : `日期超出 1 至 9999 年 / date outside the years 1 to 9999`;
  }
  if (typeof value !== 'string') return `定时值必须是文本 / a timer value must be text, got ${value === null ? 'null' : typeof value}`;
  const text = value.trim();
  if (!text) return `定时值为空 / the timer value is empty`;
  if (text.length > MAX_TIMER_TEXT) return `定时值过长 / the timer value is longer than ${MAX_TIMER_TEXT} characters`;
  const shown = JSON.stringify(text);
  switch (timerType) {
    case 'timeDate': {
      const d = parseTimeDate(text, zone);
      if (!d) return `无效的日期 / invalid date ${shown}: use ISO 8601, e.g. 2026-12-01T09:00:00+08:00`;
      return inRange(d.getTime()) ? null : `日期超出 1 至 9999 年 / date ${shown} is outside the years 1 to 9999`;
    }
    case 'timeDuration': {
      const d = Duration.fromISO(text);
      if (!d.isValid) return `无效的时长 / invalid duration ${shown}: use ISO 8601, e.g. PT2H or P3D`;
      if (Object.values(d.toObject()).some((v) => v < 0)) return `时长不能为负 / duration ${shown} is negative`;
      return dueProblem({ timerType: 'timeDuration', expression: text }, now, zone, shown);
    }
    case 'timeCycle': {
      const isIso = /^R\d*\//.test(text);
      if (!isIso && !cron) return `无效的周期 / invalid cycle ${shown}: use an ISO 8601 repeating interval such as R/PT1H (cron works on timer start events only)`;
      if (isIso) {
        const period = text.split('/').slice(1).find((p) => p.startsWith('P'));
        const d = period ? Duration.fromISO(period) : null;
        if (!d?.isValid) return `无效的周期 / invalid cycle ${shown}: use R[n]/[start/]period, e.g. R/PT1H`;
        if (Object.values(d.toObject()).some((v) => v < 0) || d.as('milliseconds') < MIN_CYCLE_MS) {
          return `周期至少一秒 / the period of cycle ${shown} must be at least one second`;
        }
      }
      return dueProblem({ timerType: 'timeCycle', expression: text }, now, zone, shown);
    }
    default:
      return `未知的定时类型 / unknown timer type ${timerType}`;
  }
}

/** The first firing must be computable and fall within the years 1..9999. */
function dueProblem(spec: { timerType: 'timeDuration' | 'timeCycle'; expression: string }, now: Date, zone: string, shown: string): string | null {
  let due: Date | null;
  try {
    due = firstOccurrence(spec, now, zone)?.due ?? null;
  } catch (err) {
    if (err instanceof ScheduleError) return err.message;
    throw err;
  }
  if (due && !inRange(due.getTime())) return `定时超出 9999 年 / timer ${shown} falls due after the year 9999`;
  return null;
}

/** A problem with one timer element, for compile.ts to report in the ENGINE-09005 shape. */
export interface TimerProblem {
  elementId: string;
  message: string;
}

const TIMER_TYPES = ['timeDate', 'timeDuration', 'timeCycle'] as const;

/**
 * Checks every timer of the executable processes (start, intermediate,
 * boundary, event sub-process starts, at any depth) at deployment: a literal
 * value by timerValueProblem, a `${...}` value for its syntax (its value is
 * checked when the engine resolves it). A process's timer start events may
 * use cron and no expressions: no instance exists yet to resolve one.
 */
export function checkTimers(processes: ModdleElement[], now: Date, zone: string): TimerProblem[] {
  const problems: TimerProblem[] = [];
  const visit = (container: ModdleElement, topLevel: boolean) => {
    for (const e of (container.flowElements ?? []) as ModdleElement[]) {
      const processStart = topLevel && e.$type === 'bpmn:StartEvent';
      for (const d of (e.eventDefinitions ?? []) as ModdleElement[]) {
        if (d.$type !== 'bpmn:TimerEventDefinition') continue;
        const message = definitionProblem(d, now, zone, processStart);
        if (message) problems.push({ elementId: String(e.id), message: `定时事件 ${e.id} / timer ${e.id}: ${message}` });
      }
      problems.push(...timeoutListenerProblems(e, now, zone));
      if (e.flowElements) visit(e, false);
    }
  };
  for (const p of processes) visit(p, true);
  return problems;
}

/** The literal values of a user task's timeout listener timers (check-scripts.ts refuses a missing one or a broken expression). */
function timeoutListenerProblems(e: ModdleElement, now: Date, zone: string): TimerProblem[] {
  if (e.$type !== 'bpmn:UserTask') return [];
  const values = (e.extensionElements?.values ?? []) as ModdleElement[];
  return values.filter((v) => v.$type === 'camunda:TaskListener' && v.event === 'timeout').flatMap((v) => {
    const spec = timeoutTimerOf(v);
    // An expression is judged when the task is created (task-timeouts.ts resolveTimeouts).
    const problem = spec && !/[$#]\{/.test(spec.expression) && timerValueProblem(spec.timerType, spec.expression, now, zone);
    return problem ? [{ elementId: String(e.id), message: `任务 ${e.id} 的 timeout 监听器定时 / the timeout listener timer of task ${e.id}: ${problem}` }] : [];
  });
}

function definitionProblem(definition: ModdleElement, now: Date, zone: string, processStart: boolean): string | null {
  const present = TIMER_TYPES.filter((k) => definition[k]);
  if (!present.length) return `缺少时间定义 / no timeDate, timeDuration or timeCycle`;
  for (const timerType of present) {
    const text = String(definition[timerType].body ?? '').trim();
    if (/[$#]\{/.test(text)) {
      if (processStart) return `定时启动事件不能使用表达式 / a timer start event cannot use an expression: no instance exists yet to resolve it`;
      const error = findSyntaxError(text);
      if (error) return `表达式错误 / invalid expression in ${timerType}: ${error.message}`;
      continue;
    }
    // The scheduler times a process's start timers itself, and knows cron.
    const problem = timerValueProblem(timerType, text, now, zone, processStart);
    if (problem) return problem;
  }
  return null;
}

/** Thrown in an engine run for a timer value that must not be timed; the run fails with the element named. */
export class TimerValueError extends ScheduleError {}

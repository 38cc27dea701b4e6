import { Cron } from 'croner';
import { DateTime, Duration } from 'luxon';

/** A timer start event's definition. */
export interface TimerSpec {
  timerType: 'timeDate' | 'timeDuration' | 'timeCycle';
  expression: string;
}

export interface Occurrence {
  due: Date;
  /** Firings left after this one (an `R5/…` cycle), or null when unbounded. */
  repeatsLeft: number | null;
  /**
   * What a start-less ISO cycle (`R/P1M`) counts its occurrences from: the
   * moment it was armed. Its n-th occurrence is anchor + n × period, so a
   * monthly cycle armed on the 31st keeps returning to the month's end.
   */
  anchor?: Date | null;
}

export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

interface Cycle {
  repeats: number | null;
  start: DateTime | null;
  period: Duration;
  end: DateTime | null;
}

/**
 * Parses `R[n]/[start/]period[/end]` (ISO 8601 repeating interval) with
 * calendar arithmetic in `zone`: a start date without an offset is local
 * time there, `P1M` from 31 January lands on the last day of February, and
 * `P1D` stays at the same local hour.
 */
function parseCycle(expression: string, zone: string): Cycle | null {
  const m = /^R(\d*)\/(.+)$/.exec(expression.trim());
  if (!m) return null;
  const parts = m[2].split('/');
  const repeats = m[1] === '' ? null : Number(m[1]);
  const date = (s: string) => {
    const d = DateTime.fromISO(s, { zone });
    if (!d.isValid) throw new ScheduleError(`无效的日期 / invalid date "${s}" in "${expression}"`);
    return d;
  };
  const duration = (s: string) => {
    const d = Duration.fromISO(s);
    if (!d.isValid || d.toMillis() <= 0) throw new ScheduleError(`无效的周期 / invalid period "${s}" in "${expression}"`);
    return d;
  };
  if (parts.length === 1) return { repeats, start: null, period: duration(parts[0]), end: null };
  if (parts[0].startsWith('P')) return { repeats, start: null, period: duration(parts[0]), end: date(parts[1]) };
  return { repeats, start: date(parts[0]), period: duration(parts[1]), end: null };
}

/** The n-th occurrence of a cycle: anchor + n × period, in calendar terms (never n additions, which drift at month ends). */
function nth(anchor: DateTime, period: Duration, n: number): DateTime {
  return n === 0 ? anchor : anchor.plus(period.mapUnits((v) => v * n));
}

/**
 * The first occurrence anchor + n × period (n ≥ `from`) at or after `t`
 * (`strict`: after it). Computed, not stepped: n is estimated from the
 * period's average length and then corrected by the few steps calendar
 * units are off, so a one-second cycle that began years ago costs no more
 * than a weekly one.
 */
function occurrenceAfter(anchor: DateTime, period: Duration, t: DateTime, from: number, strict: boolean): DateTime {
  const average = period.as('milliseconds');
  const reached = (d: DateTime) => (strict ? d > t : d >= t);
  let n = Math.max(from, Math.floor((t.toMillis() - anchor.toMillis()) / average));
  // Months and years are not of average length: re-estimate from where the guess landed.
  for (let i = 0; i < 3; i++) {
    const off = Math.trunc((t.toMillis() - nth(anchor, period, n).toMillis()) / average);
    if (off === 0) break;
    n = Math.max(from, n + off);
  }
  while (n > from && reached(nth(anchor, period, n - 1))) n--;
  while (!reached(nth(anchor, period, n))) n++;
  return nth(anchor, period, n);
}

function isCron(expression: string): boolean {
  return !/^[RP]/.test(expression.trim()) && expression.trim().split(/\s+/).length >= 5;
}

/**
 * Camunda 7 reads a cron cycle as Quartz does: six or seven fields (seconds
 * to an optional year), `?` for "no specific value", day-of-week numbered
 * 1 = SUN … 7 = SAT, increments from a number (`0/5`, `1/1`), `L`, `W`,
 * `LW`, `#` and month and day names. croner runs all of that in its Quartz
 * options; what it cannot honour exactly (such as `L-3`) is refused. Five
 * fields are not Quartz: they are read as classic cron (minute first,
 * 0 = SUN), as this server always has.
 */
function cronOf(expression: string, zone: string): Cron {
  const text = expression.trim();
  const fields = text.split(/\s+/);
  if (fields.length > 7) throw new ScheduleError(`无效的 cron 表达式 / invalid cron expression "${expression}": at most 7 fields (seconds to year)`);
  if (fields.length < 6) return new Cron(text, { timezone: zone, paused: true });
  const specific = (f: string) => f !== '?' && f !== '*';
  // Quartz: "Support for specifying both a day-of-week AND a day-of-month parameter is not implemented".
  if (specific(fields[3]) && specific(fields[5])) {
    throw new ScheduleError(`无效的 cron 表达式 / invalid cron expression "${expression}": day-of-month and day-of-week cannot both be given; put ? in one of them`);
  }
  return new Cron(text, { timezone: zone, paused: true, mode: '6-or-7-parts', alternativeWeekdays: true, sloppyRanges: true });
}

function cronNext(expression: string, after: Date, zone: string): Date | null {
  let cron: Cron;
  try {
    cron = cronOf(expression, zone);
  } catch (err) {
    if (err instanceof ScheduleError) throw err;
    throw new ScheduleError(`无效的 cron 表达式 / invalid cron expression "${expression}": ${(err as Error).message}`);
  }
  return cron.nextRun(after);
}

/**
 * An ISO 8601 date-time as an instant: with an offset (`+08:00`, `Z`) as
 * written, without one as local time in `zone` (the server's TIMEZONE, not
 * the host's). Null when it is not a date.
 */
export function parseTimeDate(expression: string, zone: string): Date | null {
  const d = DateTime.fromISO(expression.trim(), { zone });
  return d.isValid ? d.toJSDate() : null;
}

/** The first firing of a start timer armed at `now`, or null if it never fires. */
export function firstOccurrence(spec: TimerSpec, now: Date, zone: string): Occurrence | null {
  const at = DateTime.fromJSDate(now, { zone });
  switch (spec.timerType) {
    case 'timeDate': {
      const d = parseTimeDate(spec.expression, zone);
      if (!d) throw new ScheduleError(`无效的日期 / invalid date "${spec.expression}"`);
      return { due: d, repeatsLeft: 0 };
    }
    case 'timeDuration': {
      const d = Duration.fromISO(spec.expression.trim());
      if (!d.isValid) throw new ScheduleError(`无效的时长 / invalid duration "${spec.expression}"`);
      return { due: at.plus(d).toJSDate(), repeatsLeft: 0 };
    }
    case 'timeCycle': {
      if (isCron(spec.expression)) {
        const next = cronNext(spec.expression, now, zone);
        return next ? { due: next, repeatsLeft: null } : null;
      }
      const cycle = parseCycle(spec.expression, zone);
      if (!cycle) throw new ScheduleError(`无效的周期 / invalid cycle "${spec.expression}": use R[n]/[start/]period or a cron expression`);
      if (cycle.repeats === 0) return null;
      const left = cycle.repeats == null ? null : cycle.repeats - 1;
      // Without a start date the cycle counts from now; with one that is past, its first occurrence from now on.
      if (!cycle.start) return within(cycle, { due: nth(at, cycle.period, 1).toJSDate(), repeatsLeft: left, anchor: now });
      return within(cycle, { due: occurrenceAfter(cycle.start, cycle.period, at, 0, false).toJSDate(), repeatsLeft: left });
    }
  }
}

/**
 * The next firing after one that was due at `previous`, fired at `now`.
 * After downtime a cycle is not replayed: the next firing is the first one
 * after `now`, so an overdue cycle fires once and then keeps its schedule.
 */
export function nextOccurrence(spec: TimerSpec, previous: Occurrence, now: Date, zone: string): Occurrence | null {
  if (spec.timerType !== 'timeCycle' || previous.repeatsLeft === 0) return null;
  const left = previous.repeatsLeft == null ? null : previous.repeatsLeft - 1;
  const after = new Date(Math.max(now.getTime(), previous.due.getTime()));
  if (isCron(spec.expression)) {
    const next = cronNext(spec.expression, after, zone);
    return next ? { due: next, repeatsLeft: left } : null;
  }
  const cycle = parseCycle(spec.expression, zone)!;
  // A row armed before anchors were kept counts on from its last due time.
  const anchor = cycle.start ?? DateTime.fromJSDate(previous.anchor ?? previous.due, { zone });
  const due = occurrenceAfter(anchor, cycle.period, DateTime.fromJSDate(after, { zone }), cycle.start ? 0 : 1, true);
  return within(cycle, { due: due.toJSDate(), repeatsLeft: left, anchor: cycle.start ? null : anchor.toJSDate() });
}

/**
 * Where a start timer that was set aside (a newer version owned its key)
 * stands when it gets the key back at `now`: a one-shot (date, duration)
 * whose time passed meanwhile is not fired late, and a cycle resumes at
 * its first occurrence from now on, with the firings it had left. Null
 * when it has nothing left to fire.
 */
export function resumedOccurrence(spec: TimerSpec, stored: Occurrence, now: Date, zone: string): Occurrence | null {
  if (stored.due > now) return stored;
  if (spec.timerType !== 'timeCycle') return null;
  const next = nextOccurrence(spec, { ...stored, repeatsLeft: null }, now, zone);
  return next && { ...next, repeatsLeft: stored.repeatsLeft };
}

function within(cycle: Cycle, occurrence: Occurrence): Occurrence | null {
  return cycle.end && DateTime.fromJSDate(occurrence.due) > cycle.end ? null : occurrence;
}

/**
 * When an instance timer (boundary, intermediate) armed at `now` falls due,
 * when the server can say so better than the engine: a date without an
 * offset is local time in `zone`; a duration counts in calendar terms in
 * `zone` (`P3M` from 30 November is 28 February, `P1D` keeps the local
 * hour), as does a start-less cycle (`R3/PT1H`); a cycle with a start date
 * falls due at its first occurrence after now, counted from the start.
 * Null for anything else, for which the engine's own span is used.
 */
export function instanceTimerDue(timerType: string, expression: unknown, now: Date, zone: string): Date | null {
  // An expression may resolve to a Date variable: that is an instant already, the engine's own reading stands.
  if (typeof expression !== 'string' || !expression.trim()) return null;
  const text = expression.trim();
  if (timerType === 'timeDate') return parseTimeDate(text, zone);
  let duration = text;
  if (timerType === 'timeCycle') {
    const m = /^R\d*\/(P[^/]+)$/.exec(text);
    if (!m) {
      let cycle: Cycle | null;
      try {
        cycle = parseCycle(text, zone);
      } catch {
        return null;
      }
      if (!cycle?.start) return null;
      return occurrenceAfter(cycle.start, cycle.period, DateTime.fromJSDate(now, { zone }), 0, true).toJSDate();
    }
    duration = m[1];
  } else if (timerType !== 'timeDuration') {
    return null;
  }
  const d = Duration.fromISO(duration);
  if (!d.isValid) return null;
  return DateTime.fromJSDate(now, { zone }).plus(d).toJSDate();
}

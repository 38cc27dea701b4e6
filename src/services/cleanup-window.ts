import { DateTime } from 'luxon';

/** A cleanup window as configured: `HH:mm` start and end in the server's time zone; an end before the start is the next day's. */
export interface WindowSpec {
  start: string;
  end: string;
}

export interface Window {
  start: Date;
  end: Date;
}

/** The window that opens on `day` (a date in `zone`). */
function windowOn(day: DateTime, spec: WindowSpec): Window {
  const at = (hhmm: string, d: DateTime) => {
    const [hour, minute] = hhmm.split(':').map(Number);
    return d.set({ hour, minute, second: 0, millisecond: 0 });
  };
  const start = at(spec.start, day);
  let end = at(spec.end, day);
  if (end <= start) end = at(spec.end, day.plus({ days: 1 }));
  return { start: start.toJSDate(), end: end.toJSDate() };
}

/**
 * The window `now` is in, or else the next one (Camunda's current-or-next
 * batch window, which GET /history/cleanup/configuration shows). Days are
 * counted in `zone`, so a window keeps its wall-clock times across a change
 * of daylight saving time.
 */
export function currentOrNextWindow(now: Date, spec: WindowSpec, zone: string): Window {
  const today = DateTime.fromJSDate(now, { zone }).startOf('day');
  for (const offset of [-1, 0, 1]) {
    const w = windowOn(today.plus({ days: offset }), spec);
    if (w.end.getTime() > now.getTime()) return w;
  }
  return windowOn(today.plus({ days: 2 }), spec);
}

/** Whether `at` falls in a window (start included, end not). */
export function inWindow(at: Date, spec: WindowSpec, zone: string): boolean {
  const w = currentOrNextWindow(at, spec, zone);
  return w.start.getTime() <= at.getTime();
}

/** The start of the first window opening after `now` (the job's next due time when a run ends). */
export function nextWindowStart(now: Date, spec: WindowSpec, zone: string): Date {
  const w = currentOrNextWindow(now, spec, zone);
  if (w.start.getTime() > now.getTime()) return w.start;
  return currentOrNextWindow(new Date(w.end.getTime()), spec, zone).start;
}

import { DateTime } from 'luxon';

/*
 * Camunda 7's `dateTime()` returns a Joda-Time `DateTime` in the server's
 * default zone; this is the part of it diagrams chain
 * (`${dateTime().plusWeeks(1).toDate()}`), over luxon. The zone is the
 * server's TIMEZONE setting, the one timer dates without an offset are read in
 * (services/execution.ts dueAt), and "now" is the server's clock (a test's
 * injected one), so an expression and a timer agree on both.
 */

/** A Joda-Time `DateTime`: immutable; every plus/minus returns a new one. */
export class JodaDateTime {
  constructor(readonly dt: DateTime) {}
  toString(): string {
    // Joda's ISODateTimeFormat.dateTime(): milliseconds always, `Z` for UTC.
    return this.dt.toISO({ suppressMilliseconds: false }) ?? '';
  }
}

/** `now()` and `dateTime()` read the run's clock in the run's zone. */
export interface Clockwork {
  now: () => Date;
  zone: string;
}

export function dateTimeOf(clock: Clockwork): JodaDateTime {
  return new JodaDateTime(DateTime.fromJSDate(clock.now(), { zone: clock.zone }));
}

type Unit = 'milliseconds' | 'seconds' | 'minutes' | 'hours' | 'days' | 'weeks' | 'months' | 'years';
const UNITS = new Map<string, Unit>([
  ['Millis', 'milliseconds'], ['Seconds', 'seconds'], ['Minutes', 'minutes'], ['Hours', 'hours'],
  ['Days', 'days'], ['Weeks', 'weeks'], ['Months', 'months'], ['Years', 'years'],
]);

/** One method of the allow-list: its argument counts and what it does. */
export interface Method {
  arity: readonly number[];
  run: (self: any, args: unknown[], fail: (why: string) => never) => unknown;
}

const int = (v: unknown, fail: (why: string) => never): number => {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : v == null ? 0 : NaN;
  if (!Number.isFinite(n)) fail(`${JSON.stringify(v)} is not a number`);
  return Math.trunc(n);
};

const instantOf = (v: unknown, fail: (why: string) => never): number => {
  if (v instanceof JodaDateTime) return v.dt.toMillis();
  if (v instanceof Date) return v.getTime();
  return fail('expects a date or a DateTime');
};

// Joda pattern letters this server formats as Joda does, mapped to luxon's; any other letter is refused.
const PATTERN_LETTERS = new Map(Object.entries({ y: 'y', M: 'M', d: 'd', H: 'H', h: 'h', m: 'm', s: 's', S: 'S', a: 'a', E: 'E' }));

/** Translates a Joda-Time (java.text-like) pattern to luxon's, or says why it cannot. */
export function jodaPattern(pattern: string): { format: string } | { error: string } {
  let out = '';
  for (let i = 0; i < pattern.length; ) {
    const c = pattern[i]!;
    if (c === "'") {
      const close = pattern.indexOf("'", i + 1);
      if (close < 0) return { error: `unterminated quote in date pattern "${pattern}"` };
      out += close === i + 1 ? "''" : `'${pattern.slice(i + 1, close)}'`;
      i = close + 1;
      continue;
    }
    let j = i;
    while (pattern[j] === c) j++;
    const run = j - i;
    if (/[A-Za-z]/.test(c)) {
      if (c === 'Z') out += run === 1 ? 'ZZZ' : 'ZZ'; // Joda: Z is +0100, ZZ is +01:00
      else if (c === 'E') out += run >= 4 ? 'EEEE' : 'EEE';
      else if (c === 'M' && run >= 3) out += run >= 4 ? 'MMMM' : 'MMM';
      else if (c === 'y' && run === 2) out += 'yy';
      else if (c === 'y') out += 'yyyy'.slice(0, Math.max(run, 4));
      else if (c === 'a') out += 'a';
      else if (PATTERN_LETTERS.has(c)) out += c.repeat(run);
      else return { error: `date pattern letter '${c}' is not supported (use y M d H h m s S a E Z)` };
    } else {
      out += /[\s\-:/.,]/.test(c) ? c.repeat(run) : `'${c.repeat(run)}'`;
    }
    i = j;
  }
  return { format: out };
}

const plusMinus = (sign: 1 | -1, unit: Unit): Method => ({
  arity: [1],
  run: (self: JodaDateTime, [n], fail) => new JodaDateTime(self.dt.plus({ [unit]: sign * int(n, fail) })),
});

/** The Joda-Time DateTime methods of the allow-list (docs/expressions.md). */
export const DATE_TIME_METHODS = new Map<string, Method>([
  ...[...UNITS].flatMap(([name, unit]): [string, Method][] => [[`plus${name}`, plusMinus(1, unit)], [`minus${name}`, plusMinus(-1, unit)]]),
  ['withTimeAtStartOfDay', { arity: [0], run: (self: JodaDateTime) => new JodaDateTime(self.dt.startOf('day')) }],
  ['toDate', { arity: [0], run: (self: JodaDateTime) => self.dt.toJSDate() }],
  ['getMillis', { arity: [0], run: (self: JodaDateTime) => self.dt.toMillis() }],
  ['getYear', { arity: [0], run: (self: JodaDateTime) => self.dt.year }],
  ['getMonthOfYear', { arity: [0], run: (self: JodaDateTime) => self.dt.month }],
  ['getDayOfMonth', { arity: [0], run: (self: JodaDateTime) => self.dt.day }],
  ['getDayOfWeek', { arity: [0], run: (self: JodaDateTime) => self.dt.weekday }],
  ['getHourOfDay', { arity: [0], run: (self: JodaDateTime) => self.dt.hour }],
  ['getMinuteOfHour', { arity: [0], run: (self: JodaDateTime) => self.dt.minute }],
  ['isBefore', { arity: [1], run: (self: JodaDateTime, [o], fail) => self.dt.toMillis() < instantOf(o, fail) }],
  ['isAfter', { arity: [1], run: (self: JodaDateTime, [o], fail) => self.dt.toMillis() > instantOf(o, fail) }],
  ['isEqual', { arity: [1], run: (self: JodaDateTime, [o], fail) => self.dt.toMillis() === instantOf(o, fail) }],
  ['toString', {
    arity: [0, 1],
    run: (self: JodaDateTime, args, fail) => {
      if (!args.length) return self.toString();
      const p = jodaPattern(String(args[0] ?? ''));
      if ('error' in p) return fail(p.error);
      return self.dt.setLocale('en').toFormat(p.format);
    },
  }],
]);

/** java.util.Date methods (Date variables, `now()`, `toDate()`). */
export const DATE_METHODS = new Map<string, Method>([
  ['before', { arity: [1], run: (self: Date, [o], fail) => self.getTime() < instantOf(o instanceof Date ? o : fail('expects a Date'), fail) }],
  ['after', { arity: [1], run: (self: Date, [o], fail) => self.getTime() > instantOf(o instanceof Date ? o : fail('expects a Date'), fail) }],
  ['getTime', { arity: [0], run: (self: Date) => self.getTime() }],
  ['compareTo', { arity: [1], run: (self: Date, [o], fail) => Math.sign(self.getTime() - instantOf(o instanceof Date ? o : fail('expects a Date'), fail)) }],
  ['equals', { arity: [1], run: (self: Date, [o]) => o instanceof Date && o.getTime() === self.getTime() }],
]);

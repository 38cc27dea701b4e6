import test from 'ava';
import { firstOccurrence, instanceTimerDue, nextOccurrence, parseTimeDate, type Occurrence, type TimerSpec } from '../../src/engine/schedule.ts';

/*
 * When timers fall due, as pure functions of the definition, the previous
 * firing and "now": no database, no clock to move.
 */
const ZONE = 'Asia/Shanghai';
const cycle = (expression: string): TimerSpec => ({ timerType: 'timeCycle', expression });

/** The first `n` firings of a start timer armed at `armed`, each fired exactly when due. */
function firings(spec: TimerSpec, armed: Date, n: number): string[] {
  let occurrence: Occurrence | null = firstOccurrence(spec, armed, ZONE);
  const out: string[] = [];
  while (occurrence && out.length < n) {
    out.push(occurrence.due.toISOString());
    occurrence = nextOccurrence(spec, occurrence, occurrence.due, ZONE);
  }
  return out;
}

test('a monthly cycle from 31 January returns to the end of each month, counted from its start', (t) => {
  // 09:00 in Shanghai is 01:00Z.
  t.deepEqual(firings(cycle('R/2027-01-31T09:00:00+08:00/P1M'), new Date('2027-01-01T00:00:00Z'), 4), [
    '2027-01-31T01:00:00.000Z', '2027-02-28T01:00:00.000Z', '2027-03-31T01:00:00.000Z', '2027-04-30T01:00:00.000Z',
  ]);
});

test('a monthly cycle without a start date counts from when it was armed, so it does not drift either', (t) => {
  t.deepEqual(firings(cycle('R/P1M'), new Date('2027-01-31T01:00:00Z'), 3), [
    '2027-02-28T01:00:00.000Z', '2027-03-31T01:00:00.000Z', '2027-04-30T01:00:00.000Z',
  ]);
});

test('a monthly cycle fired late after downtime resumes on its own days', (t) => {
  const spec = cycle('R/2027-01-31T09:00:00+08:00/P1M');
  const first = firstOccurrence(spec, new Date('2027-01-01T00:00:00Z'), ZONE)!;
  // Down from 30 January to 15 March: fired once then, and next on 31 March.
  const next = nextOccurrence(spec, first, new Date('2027-03-15T00:00:00Z'), ZONE)!;
  t.is(next.due.toISOString(), '2027-03-31T01:00:00.000Z');
});

test('a one-second cycle that began in 2020 finds its next occurrence by arithmetic, not by stepping', (t) => {
  const spec = cycle('R/2020-01-01T00:00:00Z/PT1S');
  const began = performance.now();
  const first = firstOccurrence(spec, new Date('2026-12-01T00:00:00.400Z'), ZONE)!;
  t.is(first.due.toISOString(), '2026-12-01T00:00:01.000Z', 'the next whole second, not a date in 2020');
  // Three days down: one firing, and the next is the second after it.
  const next = nextOccurrence(spec, first, new Date('2026-12-04T07:30:00.250Z'), ZONE)!;
  t.is(next.due.toISOString(), '2026-12-04T07:30:01.000Z');
  // Stepping 220 million seconds took about a minute; computing it takes microseconds. Loose bound for a loaded machine.
  t.true(performance.now() - began < 1000);
});

test('calendar periods far from their start are found exactly', (t) => {
  // 683 months from the start: the estimate from an average month is off, and is corrected.
  const monthly = firstOccurrence(cycle('R/1970-01-31T08:00:00+08:00/P1M'), new Date('2026-12-15T00:00:00Z'), ZONE)!;
  t.is(monthly.due.toISOString(), '2026-12-31T00:00:00.000Z');
  const yearly = firstOccurrence(cycle('R/2024-02-29T00:00:00Z/P1Y'), new Date('2027-03-01T00:00:00Z'), ZONE)!;
  t.is(yearly.due.toISOString(), '2028-02-29T00:00:00.000Z', 'the leap day again, not the 28th');
});

test('a bounded cycle counts its firings from when it was armed, and an end date stops it', (t) => {
  t.deepEqual(firings(cycle('R3/PT1H'), new Date('2026-12-01T00:00:00Z'), 10), [
    '2026-12-01T01:00:00.000Z', '2026-12-01T02:00:00.000Z', '2026-12-01T03:00:00.000Z',
  ]);
  t.deepEqual(firings(cycle('R/P1D/2026-12-03T12:00:00Z'), new Date('2026-12-01T00:00:00Z'), 10), [
    '2026-12-02T00:00:00.000Z', '2026-12-03T00:00:00.000Z',
  ]);
});

test('a date without an offset is local time in the server\'s zone; one with an offset means what it says', (t) => {
  t.is(parseTimeDate('2026-12-04T09:00:00', 'Asia/Shanghai')?.toISOString(), '2026-12-04T01:00:00.000Z');
  t.is(parseTimeDate('2026-12-04T09:00:00', 'America/Los_Angeles')?.toISOString(), '2026-12-04T17:00:00.000Z');
  t.is(parseTimeDate('2026-12-04T09:00:00+08:00', 'America/Los_Angeles')?.toISOString(), '2026-12-04T01:00:00.000Z');
  t.is(parseTimeDate('next Tuesday', ZONE), null);
  // Start timers read their dates the same way.
  t.is(firstOccurrence({ timerType: 'timeDate', expression: '2026-12-04T09:00:00' }, new Date('2026-12-01T00:00:00Z'), 'America/Los_Angeles')!.due.toISOString(), '2026-12-04T17:00:00.000Z');
});

test('a boundary or intermediate timer\'s cycle with a start date is due at its next occurrence counted from the start', (t) => {
  // Re-armed as it fires on 28 February: next is 31 March, not 28 March; the local start is Shanghai time.
  t.is(instanceTimerDue('timeCycle', 'R/2027-01-31T09:00:00/P1M', new Date('2027-02-28T01:00:00Z'), ZONE)?.toISOString(), '2027-03-31T01:00:00.000Z');
  // Armed before its start: the start itself.
  t.is(instanceTimerDue('timeCycle', 'R3/2027-01-31T09:00:00+08:00/P1W', new Date('2027-01-01T00:00:00Z'), ZONE)?.toISOString(), '2027-01-31T01:00:00.000Z');
  t.is(instanceTimerDue('timeCycle', 'R3/PT1H', new Date('2027-01-01T00:00:00Z'), ZONE)?.toISOString(), '2027-01-01T01:00:00.000Z');
  t.is(instanceTimerDue('timeDuration', 'P3M', new Date('2026-11-30T02:00:00Z'), ZONE)?.toISOString(), '2027-02-28T02:00:00.000Z');
  t.is(instanceTimerDue('timeDate', new Date('2027-01-01T00:00:00Z'), new Date(), ZONE), null, 'a Date variable: the engine\'s own reading stands');
});

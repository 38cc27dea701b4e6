import test from 'ava';
import { firstOccurrence, nextOccurrence, ScheduleError, type TimerSpec } from '../../src/engine/schedule.ts';

const ZONE = 'Asia/Shanghai';
// Tuesday 10 March 2026, 09:02:03 in Shanghai.
const NOW = new Date('2026-03-10T01:02:03Z');

/** The next `n` firings of a start timer armed at NOW, as ISO instants. */
function firings(expression: string, n = 3): string[] {
  const spec: TimerSpec = { timerType: 'timeCycle', expression };
  const out: string[] = [];
  let at = firstOccurrence(spec, NOW, ZONE);
  while (at && out.length < n) {
    out.push(at.due.toISOString());
    at = nextOccurrence(spec, at, at.due, ZONE);
  }
  return out;
}

const cases: [string, string, string[]][] = [
  ['seven fields with increments (the Signavio form)', '0/5 0/1 * 1/1 * ? *', ['2026-03-10T01:02:05.000Z', '2026-03-10T01:02:10.000Z', '2026-03-10T01:02:15.000Z']],
  ['six fields with increments', '0/5 0/1 * 1/1 * ?', ['2026-03-10T01:02:05.000Z', '2026-03-10T01:02:10.000Z', '2026-03-10T01:02:15.000Z']],
  ['a year field', '0 0 12 1 1 ? 2030', ['2030-01-01T04:00:00.000Z']],
  ['a year increment', '0 0 12 1 1 ? 2030/2', ['2030-01-01T04:00:00.000Z', '2032-01-01T04:00:00.000Z', '2034-01-01T04:00:00.000Z']],
  ['a year range', '0 30 8 1 JAN ? 2027-2028', ['2027-01-01T00:30:00.000Z', '2028-01-01T00:30:00.000Z']],
  ['L: the last day of the month', '0 0 12 L * ?', ['2026-03-31T04:00:00.000Z', '2026-04-30T04:00:00.000Z', '2026-05-31T04:00:00.000Z']],
  ['W: the weekday nearest the 15th (15 March 2026 is a Sunday)', '0 0 12 15W * ?', ['2026-03-16T04:00:00.000Z', '2026-04-15T04:00:00.000Z', '2026-05-15T04:00:00.000Z']],
  ['LW: the last weekday of the month', '0 0 12 LW * ?', ['2026-03-31T04:00:00.000Z', '2026-04-30T04:00:00.000Z', '2026-05-29T04:00:00.000Z']],
  ['6L: the last Friday (Quartz numbers Sunday 1)', '0 0 12 ? * 6L', ['2026-03-27T04:00:00.000Z', '2026-04-24T04:00:00.000Z', '2026-05-29T04:00:00.000Z']],
  ['#: the third Friday', '0 15 10 ? * 6#3', ['2026-03-20T02:15:00.000Z', '2026-04-17T02:15:00.000Z', '2026-05-15T02:15:00.000Z']],
  ['#: the first Monday (2 March has passed)', '0 0 12 ? * 2#1', ['2026-04-06T04:00:00.000Z', '2026-05-04T04:00:00.000Z', '2026-06-01T04:00:00.000Z']],
  ['month and day names', '0 0 12 ? JAN-MAR MON-FRI', ['2026-03-10T04:00:00.000Z', '2026-03-11T04:00:00.000Z', '2026-03-12T04:00:00.000Z']],
  ['numeric day-of-week is Quartz\'s: 1 is Sunday', '0 0 12 ? * 1', ['2026-03-15T04:00:00.000Z', '2026-03-22T04:00:00.000Z', '2026-03-29T04:00:00.000Z']],
  ['a list of months', '0 0 9 1 1,4,7,10 ?', ['2026-04-01T01:00:00.000Z', '2026-07-01T01:00:00.000Z', '2026-10-01T01:00:00.000Z']],
  ['five fields stay classic cron (minute first, 0 is Sunday)', '0 12 * * 0', ['2026-03-15T04:00:00.000Z', '2026-03-22T04:00:00.000Z', '2026-03-29T04:00:00.000Z']],
];

for (const [what, expression, expected] of cases) {
  test(`Quartz cron, ${what}: ${expression}`, (t) => {
    t.deepEqual(firings(expression, expected.length + (expected.length < 3 ? 1 : 0)), expected);
  });
}

test('a year that has passed never fires', (t) => {
  t.is(firstOccurrence({ timerType: 'timeCycle', expression: '0 0 12 1 1 ? 2020' }, NOW, ZONE), null);
});

test('what Quartz refuses, or croner cannot honour exactly, is refused with a reason', (t) => {
  for (const expression of ['0 0 12 15 * MON', '0 0 12 L-3 * ?', '0 0 12 1 1 ? 2030 5', '0 0 25 * * ?']) {
    const err = t.throws(() => firstOccurrence({ timerType: 'timeCycle', expression }, NOW, ZONE), { instanceOf: ScheduleError }, expression);
    t.regex(err!.message, /cron/, expression);
  }
});

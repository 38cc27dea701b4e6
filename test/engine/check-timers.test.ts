import test from 'ava';
import { compileResource } from '../../src/engine/compile.ts';
import { EngineRunError, startProcess } from '../../src/engine/runner.ts';
import { ParseError } from '../../src/errors.ts';
import { timerDiagram } from '../helpers/timer-diagrams.ts';

const elementOf = { intermediate: 'wait', boundary: 'late', start: 'tick' } as const;

const refused: [string, string][] = [
  ['timeCycle', 'R/PT0S'],
  ['timeCycle', 'R/PT0.001S'],
  ['timeCycle', 'R5/PT0.5S'],
  ['timeCycle', 'R/2026-01-01T00:00:00Z/PT0S'],
  ['timeCycle', 'banana'],
  ['timeDuration', 'banana'],
  ['timeDuration', 'P999999999Y'],
  ['timeDuration', 'PT-5S'],
  ['timeCycle', 'R/P999999999Y'],
  ['timeDate', '+099999-01-01T00:00:00Z'],
  ['timeDate', '2026-02-30T09:00:00'],
];

for (const kind of ['intermediate', 'boundary', 'start'] as const) {
  test(`${kind} timers: zero or sub-second cycles, nonsense, far-future values and bad dates are refused at deployment with the element named`, async (t) => {
    for (const [type, value] of refused) {
      const err = await t.throwsAsync(compileResource('timed.bpmn', timerDiagram(kind, type, value)), { instanceOf: ParseError }, `${type} ${value}`);
      t.regex(err.message, /ENGINE-09005/);
      const [problem] = (err.details as Record<string, { errors: { mainElementId: string; message: string }[] }>)['timed.bpmn'].errors;
      t.is(problem.mainElementId, elementOf[kind], `${type} ${value}`);
      t.true(problem.message.includes(elementOf[kind]), `${type} ${value}: ${problem.message}`);
    }
  });
}

test('sensible timers deploy: a one-second cycle, a zero duration (fire at once), a far but valid date, an expression', async (t) => {
  for (const [kind, type, value] of [
    ['intermediate', 'timeCycle', 'R/PT1S'], ['boundary', 'timeCycle', 'R3/PT1H'], ['start', 'timeCycle', 'R/PT1S'],
    ['intermediate', 'timeDuration', 'PT0S'], ['boundary', 'timeDuration', 'P3M'], ['intermediate', 'timeDate', '9999-06-01T00:00:00Z'],
    ['intermediate', 'timeCycle', '${cycle}'], ['boundary', 'timeDuration', '${window}'], ['start', 'timeCycle', '0 0 2 * * ?'],
  ] as const) {
    await t.notThrowsAsync(compileResource('timed.bpmn', timerDiagram(kind, type, value)), `${kind} ${type} ${value}`);
  }
});

test('a timer expression that cannot be parsed is refused at deployment; a timer with no value is too', async (t) => {
  const bad = await t.throwsAsync(compileResource('timed.bpmn', timerDiagram('boundary', 'timeDuration', '${window +}')), { instanceOf: ParseError });
  t.regex(bad.message, /element late/);
  t.regex(bad.message, /invalid expression/);
  const empty = await t.throwsAsync(compileResource('timed.bpmn', timerDiagram('intermediate', 'timeDuration', '')), { instanceOf: ParseError });
  t.regex(empty.message, /element wait/);
});

test('a cron cycle belongs to timer start events: on an intermediate timer it is refused', async (t) => {
  const err = await t.throwsAsync(compileResource('timed.bpmn', timerDiagram('intermediate', 'timeCycle', '0 0 9 * * ?')), { instanceOf: ParseError });
  t.regex(err.message, /cron/);
  t.regex(err.message, /element wait/);
});

test('an instance reaching a timer whose expression resolves to R/PT0S (or to nonsense) fails cleanly, naming the element, instead of hanging', async (t) => {
  const [cycle] = await compileResource('timed.bpmn', timerDiagram('intermediate', 'timeCycle', '${cycle}'));
  const def = { id: 'timed:1', compiled: cycle.compiled };
  for (const value of ['R/PT0S', 'R/PT0.001S', 'banana', 'R/P999999999Y']) {
    const err = await t.throwsAsync(startProcess(def, { variables: { cycle: value } }), { instanceOf: EngineRunError }, value);
    t.is(err.activityId, 'wait', value);
    t.true(err.message.includes('wait'), err.message);
  }
  const [date] = await compileResource('timed.bpmn', timerDiagram('boundary', 'timeDate', '${when}'));
  const far = await t.throwsAsync(startProcess({ id: 'timed:2', compiled: date.compiled }, { variables: { when: '+099999-01-01T00:00:00Z' } }), { instanceOf: EngineRunError });
  t.is(far.activityId, 'late');
  t.regex(far.message, /9999/);
  // A good value arms the timer as before.
  const run = await startProcess(def, { variables: { cycle: 'R3/PT1H' } });
  t.is(run.armedTimers.length, 1);
  t.like(run.armedTimers[0], { activityId: 'wait', timerType: 'timeCycle', expression: 'R3/PT1H' });
  const span = run.armedTimers[0].expireAt.getTime() - run.armedTimers[0].armedAt.getTime();
  t.true(Math.abs(span - 3_600_000) < 1000, `armed for an hour, not ${span} ms`);
});

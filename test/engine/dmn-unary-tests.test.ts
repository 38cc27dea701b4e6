import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { evaluateIn, rule, tableDmn } from './dmn-helpers.ts';

/** Whether a one-rule table with input entry `entry` over `x` (of `typeRef`) matches `value`. */
async function matches(entry: string, value: unknown, typeRef = 'integer', extra: Record<string, unknown> = {}, inputAttrs = ''): Promise<boolean> {
  const xml = tableDmn(`<decisionTable id="t">
    <input id="in"${inputAttrs}><inputExpression id="ie" typeRef="${typeRef}"><text>x</text></inputExpression></input>
    <output id="out" name="hit" typeRef="boolean" />
    ${rule('r1', [entry], ['true'])}
  </decisionTable>`);
  const { resultList } = evaluateIn(await compileDmn('u.dmn', xml), 'd', { x: value, ...extra });
  return resultList.length === 1;
}

for (const [entry, value, expected, typeRef] of [
  ['[1..10]', 1, true], ['[1..10]', 10, true], ['[1..10]', 11, false],
  ['(1..10]', 1, false], ['(1..10]', 2, true], ['[1..10)', 10, false], [']1..10[', 5, true], [']1..10[', 10, false],
  ['&lt; 10', 9, true], ['&lt; 10', 10, false], ['&lt;= 10', 10, true], ['&gt; 10', 11, true], ['&gt;= 10', 9, false],
  ['7', 7, true], ['7', 8, false], ['1, 3, 5', 3, true], ['1, 3, 5', 4, false], ['&lt; 0, &gt; 100', 101, true],
  ['not(7)', 8, true], ['not(7)', 7, false], ['not([1..5])', 6, true],
  ['"a","b"', 'b', true, 'string'], ['"a","b"', 'c', false, 'string'], ['not("a","b")', 'c', true, 'string'], ['not("a","b")', 'a', false, 'string'],
  ['-', 'anything', true, 'string'], ['-', null, true, 'string'], ['', 42, true], ['null', null, true, 'string'], ['"a"', null, false, 'string'],
  ['true', true, true, 'boolean'], ['false', true, false, 'boolean'],
  ['cellInput &gt; 3', 4, true], ['? &gt; 3', 2, false], ['starts with(?, "INC-")', 'INC-7', true, 'string'],
  ['[date and time("2026-01-01T00:00:00")..date and time("2026-12-31T23:59:59")]', '2026-06-01T12:00:00', true, 'date'],
  ['&lt; date and time("2026-01-01T00:00:00")', '2026-06-01T12:00:00', false, 'date'],
] as const) {
  test(`input entry ${entry.replace(/&lt;/g, '<').replace(/&gt;/g, '>') || '(empty)'} ${expected ? 'matches' : 'does not match'} ${JSON.stringify(value)}`, async (t) => {
    t.is(await matches(entry, value, typeRef ?? 'integer'), expected);
  });
}

test('an input entry may compare with other variables', async (t) => {
  t.true(await matches('&lt;= limit', 5, 'integer', { limit: 5 }));
  t.false(await matches('&lt;= limit', 6, 'integer', { limit: 5 }));
});

test('camunda:inputVariable names the input value in the entries', async (t) => {
  t.true(await matches('amount &gt; 3', 4, 'integer', {}, ' camunda:inputVariable="amount"'));
  t.false(await matches('amount &gt; 3', 2, 'integer', {}, ' camunda:inputVariable="amount"'));
});

test('an unset variable is null: comparisons do not match, the null test does', async (t) => {
  const xml = tableDmn(`<decisionTable id="t" hitPolicy="COLLECT">
    <input id="in"><inputExpression id="ie" typeRef="integer"><text>missing</text></inputExpression></input>
    <output id="out" name="rule" typeRef="string" />
    ${rule('r1', ['&lt; 10'], ['"lt"'])}${rule('r2', ['null'], ['"null"'])}${rule('r3', ['-'], ['"any"'])}
  </decisionTable>`);
  t.deepEqual(evaluateIn(await compileDmn('u.dmn', xml), 'd', {}).resultList, [{ rule: 'null' }, { rule: 'any' }]);
});

test('a Date input is compared in the server zone\'s wall-clock time, as FEEL Scala sees a java.util.Date', async (t) => {
  const at3 = new Date(2026, 0, 1, 3, 0, 0);
  t.false(await matches('&lt; date and time("2026-01-01T02:00:00")', at3, 'date'));
  t.true(await matches('[date and time("2026-01-01T03:00:00")..date and time("2026-01-01T03:00:00")]', at3, 'date'));
  t.true(await matches('&gt; deadline', at3, 'date', { deadline: new Date(2026, 0, 1, 2, 59, 59) }));
});

test('a variable whose name is no plain FEEL name cannot change how a checked expression reads', async (t) => {
  t.true(await matches('&lt; a + 1', 1, 'integer', { a: 1, 'a +': 5, 'a b': 7 }));
});

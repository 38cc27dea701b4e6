import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { evaluateIn, rule, tableDmn } from './dmn-helpers.ts';

/** A table whose input `x` (of `typeRef`) is passed through: the record holds the converted input value. */
async function inputValue(typeRef: string, x: unknown): Promise<unknown> {
  const xml = tableDmn(`<decisionTable id="t">
    <input id="in"><inputExpression id="ie" typeRef="${typeRef}"><text>x</text></inputExpression></input>
    <output id="out" name="o" />${rule('r1', ['-'], ['1'])}
  </decisionTable>`);
  return evaluateIn(await compileDmn('t.dmn', xml), 'd', { x }).records[0]!.inputs[0]!.value;
}

/** A table with one rule whose output entry is `text`, of `typeRef`. */
async function outputValue(typeRef: string, text: string): Promise<unknown> {
  const xml = tableDmn(`<decisionTable id="t">
    <output id="out" name="o" typeRef="${typeRef}" />${rule('r1', [], [text])}
  </decisionTable>`);
  return evaluateIn(await compileDmn('t.dmn', xml), 'd', {}).resultList[0]!['o'];
}

for (const [typeRef, given, expected] of [
  ['string', 'text', 'text'], ['string', 5, '5'], ['string', true, 'true'],
  ['integer', 5, 5], ['integer', '42', 42], ['long', '9007199254740991', 9007199254740991],
  ['double', 2.5, 2.5], ['double', '2.5', 2.5], ['double', 3, 3],
  ['boolean', true, true], ['boolean', 'TRUE', true], ['boolean', 'false', false],
  ['Integer', '7', 7], ['number', '7', '7'], ['string', null, null], ['integer', null, null],
] as const) {
  test(`typeRef ${typeRef} turns ${JSON.stringify(given)} into ${JSON.stringify(expected)}`, async (t) => {
    t.deepEqual(await inputValue(typeRef, given), expected);
  });
}

test('typeRef date takes a Date or yyyy-MM-ddTHH:mm:ss text in the server zone', async (t) => {
  const date = new Date(2026, 0, 2, 10, 30, 0);
  t.deepEqual(await inputValue('date', date), date);
  t.deepEqual(await inputValue('date', '2026-01-02T10:30:00'), date);
});

for (const [typeRef, given] of [
  ['integer', 5.5], ['integer', 'five'], ['integer', 2 ** 31], ['long', 1.5], ['double', 'abc'], ['boolean', 'yes'], ['boolean', 1],
  ['date', '2026-01-02'], ['date', 'tomorrow'], ['date', 5],
] as const) {
  test(`typeRef ${typeRef} refuses ${JSON.stringify(given)} with DMN-01005, naming the decision and the input`, async (t) => {
    const err = await t.throwsAsync(inputValue(typeRef, given), { instanceOf: DecisionEvaluationError });
    t.regex(err.message, /DMN-01005/);
    t.regex(err.message, /decision|决策 d/);
    t.regex(err.message, /input in\b/);
  });
}

test('output entries are converted to the output typeRef', async (t) => {
  t.is(await outputValue('integer', '"7"'), 7);
  t.is(await outputValue('double', '1 / 4'), 0.25);
  t.is(await outputValue('string', '12'), '12');
  t.deepEqual(await outputValue('date', 'date and time("2026-03-04T05:06:07")'), new Date(2026, 2, 4, 5, 6, 7));
  t.deepEqual(await outputValue('date', 'date and time("2026-03-04T05:06:07Z")'), new Date(Date.UTC(2026, 2, 4, 5, 6, 7)));
});

test('an output without typeRef keeps the FEEL value: numbers, text, lists, a date and time as a Date', async (t) => {
  t.is(await outputValue('', '2 * 21'), 42);
  t.deepEqual(await outputValue('', '[1, 2]'), [1, 2]);
  t.deepEqual(await outputValue('', 'date and time("2026-03-04T05:06:07")'), new Date(2026, 2, 4, 5, 6, 7));
});

test('an output entry that does not fit its typeRef fails naming the rule and the output', async (t) => {
  const err = await t.throwsAsync(outputValue('integer', '"seven"'), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /rule r1, output out/);
});

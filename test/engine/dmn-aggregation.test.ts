import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { evaluateIn, rule, tableDmn } from './dmn-helpers.ts';

/** COLLECT over `points` for each finding flag; 1, 2 and 4 points, or 0.5 for a note. */
const scores = (aggregation: string, typeRef = 'integer', outputs = ['1', '2', '4']) => tableDmn(`
  <decisionTable id="t" hitPolicy="COLLECT" aggregation="${aggregation}">
    <input id="in" label="Findings"><inputExpression id="ie" typeRef="integer"><text>findings</text></inputExpression></input>
    <output id="out" label="Points" name="points"${typeRef ? ` typeRef="${typeRef}"` : ''} />
    ${rule('r1', ['&gt;= 1'], [outputs[0]!])}
    ${rule('r2', ['&gt;= 2'], [outputs[1]!])}
    ${rule('r3', ['&gt;= 3'], [outputs[2]!])}
  </decisionTable>`);

const run = async (xml: string, variables: Record<string, unknown>) => evaluateIn(await compileDmn('agg.dmn', xml), 'd', variables);

for (const [aggregation, findings, expected] of [
  ['SUM', 3, 7], ['SUM', 2, 3], ['MIN', 3, 1], ['MAX', 3, 4], ['MAX', 1, 1], ['COUNT', 3, 3], ['COUNT', 2, 2],
] as const) {
  test(`COLLECT ${aggregation} of ${findings} findings is ${expected}, recorded with every matched rule's output`, async (t) => {
    const { resultList, records } = await run(scores(aggregation), { findings });
    t.deepEqual(resultList, [{ points: expected }]);
    t.is(records[0]!.aggregation, aggregation);
    t.is(records[0]!.collectResultValue, expected);
    t.is(records[0]!.outputs.length, findings);
  });
}

test('COLLECT SUM of doubles', async (t) => {
  t.deepEqual((await run(scores('SUM', 'double', ['0.5', '1.25', '2']), { findings: 3 })).resultList, [{ points: 3.75 }]);
});

test('COLLECT SUM with no matching rule is an empty result (Camunda returns no entry for a null aggregate)', async (t) => {
  const { resultList, records } = await run(scores('SUM'), { findings: 0 });
  t.deepEqual(resultList, []);
  t.is(records[0]!.collectResultValue, null);
});

test('COLLECT COUNT with no matching rule counts 0', async (t) => {
  const { resultList, records } = await run(scores('COUNT'), { findings: 0 });
  t.deepEqual(resultList, [{ points: 0 }]);
  t.is(records[0]!.collectResultValue, 0);
});

test('COLLECT SUM of untyped numeric text reads it as a number, as Camunda does', async (t) => {
  t.deepEqual((await run(scores('SUM', '', ['"1"', '"2"', '"4"']), { findings: 2 })).resultList, [{ points: 3 }]);
});

test('COLLECT SUM over string outputs fails naming the decision', async (t) => {
  const dmn = await compileDmn('agg.dmn', scores('SUM', 'string', ['"a"', '"b"', '"c"']));
  const err = t.throws(() => evaluateIn(dmn, 'd', { findings: 2 }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /DMN-03004/);
  t.regex(err.message, /\bd\b/);
});

test('COLLECT SUM over a compound output fails naming the rule', async (t) => {
  const xml = tableDmn(`<decisionTable id="t" hitPolicy="COLLECT" aggregation="SUM">
    <input id="in"><inputExpression id="ie" typeRef="integer"><text>x</text></inputExpression></input>
    <output id="o1" name="a" typeRef="integer" /><output id="o2" name="b" typeRef="integer" />
    ${rule('r1', ['-'], ['1', ''])}${rule('r2', ['-'], ['1', '2'])}
  </decisionTable>`);
  const dmn = await compileDmn('agg.dmn', xml);
  const err = t.throws(() => evaluateIn(dmn, 'd', { x: 1 }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /DMN-03003/);
  t.deepEqual(err.ruleIds, ['r2']);
});

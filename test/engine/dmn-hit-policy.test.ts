import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { evaluateIn, rule, tableDmn } from './dmn-helpers.ts';

/** A table over `age` with output `label` (string) whose rules overlap: 18 matches r1..r3, 70 matches r3 and r4. */
const overlapping = (hitPolicy: string, outputValues = '') => tableDmn(`
  <decisionTable id="t" hitPolicy="${hitPolicy}">
    <input id="in" label="Age"><inputExpression id="ie" typeRef="integer"><text>age</text></inputExpression></input>
    <output id="out" label="Label" name="label" typeRef="string">${outputValues ? `<outputValues id="ov"><text>${outputValues}</text></outputValues>` : ''}</output>
    ${rule('r1', ['[18..25]'], ['"young"'])}
    ${rule('r2', ['&lt; 30'], ['"adult"'])}
    ${rule('r3', ['-'], ['"person"'])}
    ${rule('r4', ['&gt;= 65'], ['"senior"'])}
  </decisionTable>`);

const run = async (xml: string, variables: Record<string, unknown>) => evaluateIn(await compileDmn('t.dmn', xml), 'd', variables);
const labels = (list: Record<string, unknown>[]) => list.map((r) => r['label']);

test('UNIQUE: one matching rule is the result', async (t) => {
  const xml = tableDmn(`<decisionTable id="t">
    <input id="in"><inputExpression id="ie" typeRef="string"><text>kind</text></inputExpression></input>
    <output id="out" name="label" typeRef="string" />
    ${rule('r1', ['"a"'], ['"first"'])}${rule('r2', ['"b"'], ['"second"'])}
  </decisionTable>`);
  const { resultList, records } = await run(xml, { kind: 'b' });
  t.deepEqual(resultList, [{ label: 'second' }]);
  t.is(records[0]!.hitPolicy, 'UNIQUE');
  t.deepEqual(records[0]!.outputs.map((o) => o.ruleId), ['r2']);
});

test('UNIQUE: more than one matching rule throws, naming the decision and the rules', async (t) => {
  const dmn = await compileDmn('unique.dmn', overlapping('UNIQUE'));
  const err = t.throws(() => evaluateIn(dmn, 'd', { age: 18 }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /UNIQUE/);
  t.regex(err.message, /r1, r2, r3/);
  t.deepEqual(err.ruleIds, ['r1', 'r2', 'r3']);
  t.is(err.decisionKey, 'd');
});

test('FIRST: the first matching rule in rule order', async (t) => {
  t.deepEqual(labels((await run(overlapping('FIRST'), { age: 70 })).resultList), ['person']);
  const { resultList, records } = await run(overlapping('FIRST'), { age: 18 });
  t.deepEqual(labels(resultList), ['young']);
  t.deepEqual(records[0]!.outputs.map((o) => [o.ruleId, o.ruleOrder]), [['r1', 1]]);
});

test('RULE ORDER: every matching rule, in rule order', async (t) => {
  const { resultList, records } = await run(overlapping('RULE ORDER'), { age: 18 });
  t.deepEqual(labels(resultList), ['young', 'adult', 'person']);
  t.deepEqual(records[0]!.outputs.map((o) => [o.ruleId, o.ruleOrder]), [['r1', 1], ['r2', 2], ['r3', 3]]);
});

test('COLLECT: every matching rule; no match is an empty list', async (t) => {
  t.deepEqual(labels((await run(overlapping('COLLECT'), { age: 70 })).resultList), ['person', 'senior']);
  const none = tableDmn(`<decisionTable id="t" hitPolicy="COLLECT">
    <input id="in"><inputExpression id="ie" typeRef="integer"><text>age</text></inputExpression></input>
    <output id="out" name="label" typeRef="string" />${rule('r1', ['&lt; 0'], ['"never"'])}</decisionTable>`);
  t.deepEqual((await run(none, { age: 3 })).resultList, []);
});

test('ANY: rules with equal outputs give one result', async (t) => {
  const xml = tableDmn(`<decisionTable id="t" hitPolicy="ANY">
    <input id="in"><inputExpression id="ie" typeRef="integer"><text>vacationDays</text></inputExpression></input>
    <input id="in2"><inputExpression id="ie2" typeRef="boolean"><text>probation</text></inputExpression></input>
    <output id="out" name="result" typeRef="string" />
    ${rule('r1', ['0', '-'], ['"refused"'])}${rule('r2', ['-', 'true'], ['"refused"'])}${rule('r3', ['&gt; 0', 'false'], ['"applied"'])}
  </decisionTable>`);
  const { resultList, records } = await run(xml, { vacationDays: 0, probation: true });
  t.deepEqual(resultList, [{ result: 'refused' }]);
  t.deepEqual(records[0]!.outputs.map((o) => o.ruleId), ['r1']);
  t.deepEqual((await run(xml, { vacationDays: 5, probation: false })).resultList, [{ result: 'applied' }]);
});

test('ANY: matching rules with different outputs throw, naming the rules', async (t) => {
  const dmn = await compileDmn('any.dmn', overlapping('ANY'));
  const err = t.throws(() => evaluateIn(dmn, 'd', { age: 20 }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /ANY/);
  t.regex(err.message, /r1, r2, r3/);
});

test('PRIORITY: the matching rule whose output comes first in the output values', async (t) => {
  const xml = overlapping('PRIORITY', '"senior","young","adult","person"');
  t.deepEqual(labels((await run(xml, { age: 18 })).resultList), ['young']);
  t.deepEqual(labels((await run(xml, { age: 70 })).resultList), ['senior']);
  t.deepEqual(labels((await run(xml, { age: 40 })).resultList), ['person']);
});

test('OUTPUT ORDER: every matching rule, ordered by the output values', async (t) => {
  const xml = overlapping('OUTPUT ORDER', '"person","adult","young","senior"');
  const { resultList, records } = await run(xml, { age: 18 });
  t.deepEqual(labels(resultList), ['person', 'adult', 'young']);
  t.deepEqual(records[0]!.outputs.map((o) => [o.ruleId, o.ruleOrder]), [['r3', 1], ['r2', 2], ['r1', 3]]);
});

test('a compound output: each result entry has one key per output, empty cells left out', async (t) => {
  const xml = tableDmn(`<decisionTable id="t" hitPolicy="RULE ORDER">
    <input id="in"><inputExpression id="ie" typeRef="string"><text>category</text></inputExpression></input>
    <output id="o1" label="Severity" name="severity" typeRef="integer" />
    <output id="o2" label="Body" name="body" typeRef="string" />
    ${rule('r1', ['"leak"'], ['3', '"office"'])}${rule('r2', ['-'], ['1', ''])}
  </decisionTable>`);
  const { resultList, records } = await run(xml, { category: 'leak' });
  t.deepEqual(resultList, [{ severity: 3, body: 'office' }, { severity: 1 }]);
  t.deepEqual(records[0]!.outputs.map((o) => [o.clauseId, o.clauseName, o.variableName, o.ruleId, o.value]), [
    ['o1', 'Severity', 'severity', 'r1', 3], ['o2', 'Body', 'body', 'r1', 'office'], ['o1', 'Severity', 'severity', 'r2', 1],
  ]);
});

test('output values other than literals are ignored where no hit policy orders by them, as in Camunda', async (t) => {
  const xml = tableDmn(`<decisionTable id="t">
    <input id="in"><inputExpression id="ie" typeRef="integer"><text>x</text></inputExpression></input>
    <output id="out" name="o" typeRef="integer"><outputValues id="ov"><text>[1..5]</text></outputValues></output>
    ${rule('r1', ['-'], ['3'])}
  </decisionTable>`);
  t.deepEqual((await run(xml, { x: 1 })).resultList, [{ o: 3 }]);
});

import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { compileFixture, evaluateIn, rule, tableDmn } from './dmn-helpers.ts';

// expressionLanguage="juel" on input expressions, input entries and output entries, with and without ${…}, as Camunda 7 allows.
test('JUEL: input expressions read properties, entries test the camunda:inputVariable and cellInput', async (t) => {
  const dmn = await compileFixture('juel.dmn');
  const manager = evaluateIn(dmn, 'approval', { order: { amount: 4000 }, role: 'manager', limit: 5000 });
  t.deepEqual(manager.resultList, [{ approver: 'manager', limit: 5000 }]);
  t.deepEqual(manager.records[0]!.inputs.map((i) => i.value), [4000, 'manager']);
});

test('JUEL: a ${…} literal output, a FEEL output beside it, and FIRST over a FEEL fallback rule', async (t) => {
  const dmn = await compileFixture('juel.dmn');
  t.deepEqual(evaluateIn(dmn, 'approval', { order: { amount: 20 }, role: 'clerk', limit: 0 }).resultList, [{ approver: 'auto', limit: 1000 }]);
  t.deepEqual(evaluateIn(dmn, 'approval', { order: { amount: 9000 }, role: 'manager', limit: 5000 }).resultList, [{ approver: 'board' }]);
});

test('JUEL: a definitions-wide expressionLanguage makes every expression JUEL', async (t) => {
  const xml = tableDmn(`<decisionTable id="t">
    <input id="in"><inputExpression id="ie" typeRef="integer"><text>a + b</text></inputExpression></input>
    <output id="out" name="o" typeRef="string" />
    ${rule('r1', ['cellInput &gt; 3'], ["'big'"])}${rule('r2', ['cellInput &lt;= 3'], ["'small'"])}
  </decisionTable>`).replace('namespace=', 'expressionLanguage="juel" namespace=');
  const dmn = await compileDmn('juel-all.dmn', xml);
  t.deepEqual(evaluateIn(dmn, 'd', { a: 2, b: 3 }).resultList, [{ o: 'big' }]);
  t.deepEqual(evaluateIn(dmn, 'd', { a: 1, b: 1 }).resultList, [{ o: 'small' }]);
});

test('JUEL: an input entry that is not exactly true does not match (Camunda compares with Boolean.TRUE)', async (t) => {
  const xml = tableDmn(`<decisionTable id="t">
    <input id="in"><inputExpression id="ie" typeRef="string"><text>x</text></inputExpression></input>
    <output id="out" name="o" />
    <rule id="r1"><inputEntry id="e1" expressionLanguage="juel"><text>cellInput</text></inputEntry><outputEntry id="o1"><text>1</text></outputEntry></rule>
  </decisionTable>`);
  const dmn = await compileDmn('juel-true.dmn', xml);
  t.deepEqual(evaluateIn(dmn, 'd', { x: 'yes' }).resultList, []);
});

test('JUEL: an unknown variable fails the evaluation naming the expression, as Camunda\'s DMN-01002', async (t) => {
  const dmn = await compileFixture('juel.dmn');
  const err = t.throws(() => evaluateIn(dmn, 'approval', { order: { amount: 20 } }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /DMN-01002/);
  t.regex(err.message, /Cannot resolve identifier 'role'/);
});

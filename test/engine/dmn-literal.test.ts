import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { compileFixture, evaluateIn, tableDmn } from './dmn-helpers.ts';

/*
 * Decision literal expressions as Camunda 7 evaluates them: the expression
 * (FEEL by default, JUEL with expressionLanguage="juel") converted by the
 * variable's typeRef is the one result entry, named by the variable; history
 * records no input and that one output, with no clause and no rule.
 */

test('a FEEL literal expression: one result entry named by the variable, converted by its typeRef', async (t) => {
  const dmn = await compileFixture('literal.dmn');
  const { resultList, records } = evaluateIn(dmn, 'portions', { guests: 4 });
  t.deepEqual(resultList, [{ portions: 8 }]);
  t.deepEqual(records, [{
    key: 'portions', name: 'Portions', hitPolicy: null, aggregation: null, collectResultValue: null, inputs: [],
    outputs: [{ clauseId: null, clauseName: null, ruleId: null, ruleOrder: null, variableName: 'portions', value: 8 }],
  }]);
  t.deepEqual(evaluateIn(dmn, 'greeting', { name: 'li' }).resultList, [{ greeting: 'Hello, LI' }]);
  t.deepEqual(evaluateIn(dmn, 'ratio', { guests: 6 }).resultList, [{ ratio: 1.5 }]);
});

test('a JUEL literal expression, ternary and word operators as Camunda 7 allows', async (t) => {
  const dmn = await compileFixture('literal.dmn');
  t.deepEqual(evaluateIn(dmn, 'season', { month: 7 }).resultList, [{ season: 'Summer' }]);
  t.deepEqual(evaluateIn(dmn, 'season', { month: 12 }).resultList, [{ season: 'Winter' }]);
  // As in a table's JUEL, a name that is no variable fails (DMN-01002) where FEEL gives null.
  const err = t.throws(() => evaluateIn(dmn, 'season', {}), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /DMN-01002.*month/);
});

test('a literal expression whose value is null still gives its one entry, as Camunda\'s singletonList result', async (t) => {
  const dmn = await compileFixture('literal.dmn');
  t.deepEqual(evaluateIn(dmn, 'portions', {}).resultList, [{ portions: null }]);
});

test('a value the variable\'s typeRef cannot take fails naming the decision (DMN-01005)', async (t) => {
  const dmn = await compileFixture('literal.dmn');
  const err = t.throws(() => evaluateIn(dmn, 'portions', { guests: 1.25 }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /portions/);
  t.regex(err.message, /DMN-01005/);
});

test('requirements graph: a table requires a literal expression, a literal expression requires both; each evaluated once, required first', async (t) => {
  const dmn = await compileFixture('literal.dmn');
  t.deepEqual(dmn.decisions.find((d) => d.key === 'menu')!.requiredDecisionKeys, ['dish', 'portions']);
  const { resultList, records } = evaluateIn(dmn, 'menu', { month: 7, guests: 3 });
  t.deepEqual(resultList, [{ menu: '6 x Salad' }]);
  t.deepEqual(records.map((r) => r.key), ['season', 'dish', 'portions', 'menu']);
  t.deepEqual(records[1]!.inputs.map((i) => i.value), ['Summer'], 'the literal expression\'s variable is the table\'s input');
});

test('a definitions-wide expressionLanguage="juel" makes a literal expression JUEL, with or without ${…}', async (t) => {
  const xml = tableDmn('').replace('<decision id="d" name="D">', '<decision id="d" name="D"><variable id="v" name="total" typeRef="long" /><literalExpression id="le"><text>a + b</text></literalExpression>')
    .replace('namespace=', 'expressionLanguage="juel" namespace=');
  t.deepEqual(evaluateIn(await compileDmn('juel-literal.dmn', xml), 'd', { a: 2, b: 3 }).resultList, [{ total: 5 }]);
});

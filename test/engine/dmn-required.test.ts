import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { evaluateDecision } from '../../src/engine/dmn/evaluate.ts';
import { compileFixture, evaluateIn } from './dmn-helpers.ts';

// Camunda 7's dinner DRD: beverages (COLLECT) requires dish; dish's single result is a variable of beverages.
test('a required decision is evaluated first and its single result is a variable of the requiring decision', async (t) => {
  const dmn = await compileFixture('dinner.dmn');
  t.deepEqual(dmn.decisions.map((d) => [d.key, d.requiredDecisionKeys]), [['beverages', ['dish']], ['dish', []]]);
  const { resultList, records } = evaluateIn(dmn, 'beverages', { season: 'Spring', guestCount: 10, guestsWithChildren: true });
  t.deepEqual(resultList, [{ beverages: 'Guiness' }, { beverages: 'Apple Juice' }, { beverages: 'Water' }]);
  t.deepEqual(records.map((r) => r.key), ['dish', 'beverages']);
  t.deepEqual(records[0]!.outputs.map((o) => o.value), ['Stew']);
  t.deepEqual(records[1]!.inputs.map((i) => i.value), ['Stew', true]);
});

test('the required decision alone can be evaluated too', async (t) => {
  const dmn = await compileFixture('dinner.dmn');
  t.deepEqual(evaluateIn(dmn, 'dish', { season: 'Fall', guestCount: 2 }).resultList, [{ desiredDish: 'Spareribs' }]);
});

test('a required decision without a result leaves the variable unset (null)', async (t) => {
  const dmn = await compileFixture('dinner.dmn');
  const { resultList, records } = evaluateIn(dmn, 'beverages', { season: 'Monsoon', guestCount: 2, guestsWithChildren: false });
  t.deepEqual(resultList, [{ beverages: 'Water' }]);
  t.is(records[1]!.inputs[0]!.value, null);
});

/** Two levels: `top` requires `mid` (RULE ORDER, two results) and `base`; `mid` requires `base`. */
const chain = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" id="chain" name="Chain" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="top" name="Top">
    <informationRequirement id="ir1"><requiredDecision href="#mid" /></informationRequirement>
    <informationRequirement id="ir2"><requiredDecision href="#base" /></informationRequirement>
    <decisionTable id="t_top">
      <input id="i_top"><inputExpression id="e_top"><text>count(tags) + level</text></inputExpression></input>
      <output id="o_top" name="total" typeRef="integer" />
      <rule id="r_top"><inputEntry id="ie_top"><text>-</text></inputEntry><outputEntry id="oe_top"><text>count(tags) + level</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="mid" name="Mid">
    <informationRequirement id="ir3"><requiredDecision href="#base" /></informationRequirement>
    <decisionTable id="t_mid" hitPolicy="RULE ORDER">
      <input id="i_mid"><inputExpression id="e_mid" typeRef="integer"><text>level</text></inputExpression></input>
      <output id="o_mid" name="tags" typeRef="string" />
      <rule id="r_mid1"><inputEntry id="ie_mid1"><text>&gt; 1</text></inputEntry><outputEntry id="oe_mid1"><text>"a"</text></outputEntry></rule>
      <rule id="r_mid2"><inputEntry id="ie_mid2"><text>&gt; 2</text></inputEntry><outputEntry id="oe_mid2"><text>"b"</text></outputEntry></rule>
    </decisionTable>
  </decision>
  <decision id="base" name="Base">
    <decisionTable id="t_base">
      <output id="o_base" name="level" typeRef="integer" />
      <rule id="r_base"><outputEntry id="oe_base"><text>start * 2</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>`;

test('required decisions are evaluated once each, depth first; a multi-result decision gives a list per output', async (t) => {
  const dmn = await compileDmn('chain.dmn', chain);
  const { resultList, records } = evaluateIn(dmn, 'top', { start: 2 });
  t.deepEqual(records.map((r) => r.key), ['base', 'mid', 'top']);
  t.deepEqual(resultList, [{ total: 6 }]);
});

test('a RULE ORDER decision with one result still gives a list', async (t) => {
  const dmn = await compileDmn('chain.dmn', chain);
  t.deepEqual(evaluateIn(dmn, 'top', { start: 1 }).resultList, [{ total: 3 }]);
});

test('a required decision the lookup cannot find fails naming it and its requirer', async (t) => {
  const dmn = await compileFixture('dinner.dmn');
  const lookup = (k: string) => (k === 'beverages' ? dmn.decisions[0]!.compiled : undefined);
  const err = t.throws(() => evaluateDecision('beverages', lookup, {}), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /dish/);
  t.regex(err.message, /beverages/);
});

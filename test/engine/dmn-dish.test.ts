import test from 'ava';
import { DecisionEvaluationError } from '../../src/engine/dmn/errors.ts';
import { compileFixture, evaluateIn } from './dmn-helpers.ts';

// Camunda 7's getting-started table: season and guest count choose the dish (hit policy UNIQUE).
for (const [season, guestCount, dish] of [
  ['Fall', 8, 'Spareribs'],
  ['Winter', 3, 'Roastbeef'],
  ['Spring', 4, 'Dry Aged Gourmet Steak'],
  ['Spring', 5, 'Steak'],
  ['Spring', 9, 'Stew'],
  ['Winter', 12, 'Stew'],
  ['Summer', 40, 'Light Salad and a nice Steak'],
] as const) {
  test(`dish: ${season} with ${guestCount} guests is ${dish}`, async (t) => {
    const dmn = await compileFixture('dish.dmn');
    const { resultList, records } = evaluateIn(dmn, 'dish', { season, guestCount });
    t.deepEqual(resultList, [{ desiredDish: dish }]);
    t.is(records.length, 1);
    t.deepEqual(records[0]!.inputs.map((i) => i.value), [season, guestCount]);
    t.is(records[0]!.outputs[0]!.variableName, 'desiredDish');
    t.is(records[0]!.outputs[0]!.ruleOrder, 1);
  });
}

test('dish: the definitions are the requirements, the decision carries its version tag and history time to live', async (t) => {
  const dmn = await compileFixture('dish.dmn');
  t.deepEqual(dmn.requirements, { key: 'dinnerDecisions', name: 'Dinner Decisions', category: 'http://camunda.org/schema/1.0/dmn' });
  t.like(dmn.decisions[0], { key: 'dish', name: 'Dish', versionTag: 'autumn', historyTtl: 180, requiredDecisionKeys: [] });
});

test('dish: no rule matches an unknown season, so the result is empty', async (t) => {
  const dmn = await compileFixture('dish.dmn');
  t.deepEqual(evaluateIn(dmn, 'dish', { season: 'Monsoon', guestCount: 2 }).resultList, []);
});

test('dish: a guest count given as text is converted to the integer typeRef, as Camunda does', async (t) => {
  const dmn = await compileFixture('dish.dmn');
  const { resultList, records } = evaluateIn(dmn, 'dish', { season: 'Fall', guestCount: '3' });
  t.deepEqual(resultList, [{ desiredDish: 'Spareribs' }]);
  t.is(records[0]!.inputs[1]!.value, 3);
});

test('dish: a guest count that is not an integer fails naming the decision and the input', async (t) => {
  const dmn = await compileFixture('dish.dmn');
  const err = t.throws(() => evaluateIn(dmn, 'dish', { season: 'Fall', guestCount: 'many' }), { instanceOf: DecisionEvaluationError });
  t.regex(err.message, /dish/);
  t.regex(err.message, /Input_guests/);
  t.regex(err.message, /DMN-01005/);
});

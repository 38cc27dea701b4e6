import test from 'ava';
import { compileDmn } from '../../src/engine/dmn/compile.ts';
import { ParseError, type ParseDetails } from '../../src/errors.ts';
import { compileFixture, evaluateIn } from './dmn-helpers.ts';

// Camunda Modeler 1.x to 3.x wrote DMN 1.1 (and briefly 1.2); such files are lifted to DMN 1.3 before parsing.
test('a DMN 1.1 table, as older Camunda Modelers wrote it, deploys and evaluates', async (t) => {
  const dmn = await compileFixture('dish-dmn11.dmn');
  t.like(dmn.decisions[0], { key: 'dish11', versionTag: '2018' });
  t.deepEqual(evaluateIn(dmn, 'dish11', { season: 'Fall', guestCount: 3 }).resultList, [{ desiredDish: 'Spareribs' }]);
  t.deepEqual(evaluateIn(dmn, 'dish11', { season: 'Summer', guestCount: 30 }).resultList, [{ desiredDish: 'Light Salad and a nice Steak' }]);
});

test('a DMN 1.2 table deploys too', async (t) => {
  const xml = `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/DMN/20180521/MODEL/" id="d12" name="D12" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="simple" name="Simple">
    <decisionTable id="t">
      <input id="i"><inputExpression id="ie" typeRef="integer"><text>n</text></inputExpression></input>
      <output id="o" name="size" typeRef="string" />
      <rule id="r"><inputEntry id="e"><text>&gt; 5</text></inputEntry><outputEntry id="oe"><text>"big"</text></outputEntry></rule>
    </decisionTable>
  </decision>
</definitions>`;
  t.deepEqual(evaluateIn(await compileDmn('d12.dmn', xml), 'simple', { n: 6 }).resultList, [{ size: 'big' }]);
});

test('a problem in a DMN 1.1 file is reported at the line of the original file', async (t) => {
  const { readFileSync } = await import('node:fs');
  const xml = readFileSync(new URL('../fixtures/dmn/dish-dmn11.dmn', import.meta.url), 'utf8').replace('&lt;= 8', '&lt;= (8');
  const err = await t.throwsAsync(compileDmn('old.dmn', xml), { instanceOf: ParseError });
  const [problem] = (err.details as ParseDetails)['old.dmn']!.errors;
  t.is(problem!.mainElementId, 'UnaryTests_2');
  t.is(problem!.line, 23);
});

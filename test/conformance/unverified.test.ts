import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, cancelled, complete, openKeys, passed, start, stateOf, taskEnds, conformanceSuite } from './events-kit.ts';

/*
 * Constructs that were accepted without a test (issue 14: nothing accepted
 * and then wrong). What runs as Camunda 7 runs it is driven here over REST,
 * each command a fresh engine recovered from the database; what does not is
 * refused at deployment (src/engine/check-unverified.ts), naming the element.
 */

/** Each refused fixture, with the element the refusal must name and what it must say. */
const REFUSED: [fixture: string, element: string, says: RegExp][] = [
  ['esp-message-noninterrupting', 'eventStart', /non-interrupting message, signal, escalation or cycle start whose sub-process waits is not run here/],
  ['esp-signal-noninterrupting', 'eventStart', /non-interrupting message, signal, escalation or cycle start whose sub-process waits is not run here/],
  ['standard-loop', 'again', /standard loops \(standardLoopCharacteristics\) are not run/],
  ['transaction-cancel', 'cancelEnd', /transaction tx runs paths side by side \(other\)/],
];

conformanceSuite(['escalation-throw.bpmn', 'transaction.bpmn'], 'unver', (c, t) => {

  test.serial(t('an escalation thrown in a sub-process is caught by its non-interrupting boundary; one caught by nobody passes on'), async (t) => {
    const id = await start(c, 'escalation-throw');
    t.deepEqual(await openKeys(c, id), ['inner']);
    await complete(c, id, 'inner');
    t.deepEqual(await openKeys(c, id), ['finish', 'informed'], 'the boundary\'s path opens and the sub-process goes on');
    await complete(c, id, 'informed');
    t.is(await stateOf(c, id), 'ACTIVE');
    t.deepEqual(await openKeys(c, id), ['finish'], 'the sub-process is still there after the boundary\'s path ended');
    await complete(c, id, 'finish');
    t.deepEqual(await openKeys(c, id), ['normal'], 'the uncaught escalation at process level passes on (Camunda 7 continues)');
    await complete(c, id, 'normal');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await cancelled(c, id), []);
    const through = await passed(c, id);
    for (const e of ['raise', 'notify', 'sub', 'uncaught', 'end', 'end2']) t.true(through.includes(e), `${e} passed`);
    t.deepEqual(await taskEnds(c, id), ['finish:completed', 'informed:completed', 'inner:completed', 'normal:completed']);
  });

  test.serial(t('a transaction sub-process without cancel events runs as an embedded sub-process'), async (t) => {
    const id = await start(c, 'transaction');
    t.deepEqual(await openKeys(c, id), ['book']);
    await complete(c, id, 'book');
    t.deepEqual(await openKeys(c, id), ['after']);
    await complete(c, id, 'after');
    await assertNothingOpen(t, c, id);
    t.true((await passed(c, id)).includes('tx'));
    t.deepEqual(await cancelled(c, id), []);
  });

  for (const [fixture, element, says] of REFUSED) {
    test.serial(t(`${fixture} is refused at deployment naming ${element}, and nothing is stored`), async (t) => {
      await assertRefusedFixture(t, c.server, c.admin, fixture, [[element, says]]);
    });
  }
});

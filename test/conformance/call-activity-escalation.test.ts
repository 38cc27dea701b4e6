import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, complete, conformanceSuite, openKeys, passed, stateOf } from './events-kit.ts';

/*
 * Escalations and call activities (Camunda 7 manual, "Escalation Events":
 * an escalation a called process does not catch is propagated to the call
 * activity, where an escalation boundary event, interrupting or not, may
 * catch it). That propagation is not run here: an escalation stays in the
 * instance that throws it. So every catcher it would reach is refused at
 * deployment, whatever its code (the called process is only resolved when
 * the call activity starts, so whether it throws a code cannot be known
 * then); what remains accepted is exact: a called process's escalation
 * that nothing in it catches passes on as Camunda passes an escalation no
 * catcher takes, and the caller is not touched by it.
 */

const REFUSED: [fixture: string, element: string][] = [
  ['esc-refused-call-boundary', 'escalated'], // interrupting, the code the child throws
  ['ca-esc-refused-noninterrupting', 'notified'], // cancelActivity="false", the code the child throws
  ['ca-esc-refused-othercode', 'other'], // a code the child never throws
];
const SAYS = /an escalation a called process throws is not carried up to its call activity here, so a call activity cannot have an escalation boundary event/;
const SAYS_SUB = /an escalation a called process throws is not carried up to its call activity here, so a sub-process holding a call activity cannot have an escalation boundary event/;

conformanceSuite(['ca-esc-child.bpmn', 'ca-esc-parent.bpmn'], 'caesc', (c, t) => {

  test.serial(t('a called process\'s escalations nothing catches (throw event, then end event) leave the caller waiting, then resume it as a plain end'), async (t) => {
    const r = await c.office.post('/engine-rest/process-definition/key/ca-esc-parent/start', {});
    t.is(r.status, 200, JSON.stringify(r.body));
    const parent = r.body.id;
    const children = (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${parent}`)).body;
    t.is(children.length, 1);
    const child = children[0].id;
    t.true((await passed(c, child)).includes('raise'), 'the uncaught intermediate throw passed on');
    t.deepEqual(await openKeys(c, child), ['work'], 'the child goes on after its uncaught throw');
    t.deepEqual(await openKeys(c, parent), [], 'the caller still waits in its call activity, untouched');
    t.is(await stateOf(c, parent), 'ACTIVE');
    await complete(c, child, 'work');
    t.is(await stateOf(c, child), 'COMPLETED', 'the uncaught escalation end ended the child as a none end');
    t.deepEqual(await openKeys(c, parent), ['after'], 'the caller left the call activity by its normal flow');
    await complete(c, parent, 'after');
    await assertNothingOpen(t, c, parent);
  });

  for (const [fixture, element] of REFUSED) {
    test.serial(t(`${fixture}: an escalation boundary event on a call activity is refused at deployment naming ${element}, nothing stored`), async (t) => {
      await assertRefusedFixture(t, c.server, c.admin, fixture, [[element, SAYS]]);
    });
  }

  test.serial(t('an escalation boundary event on a sub-process holding a call activity (Camunda hands the child\'s escalation on to it) is refused naming it'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'ca-esc-refused-sub', [['aroundCall', SAYS_SUB]]);
  });
});

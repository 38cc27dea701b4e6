import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, cancelled, complete, conformanceSuite, openKeys, passed, start, stateOf, taskEnds } from './events-kit.ts';

/*
 * A cancel end event in a transaction sub-process, as Camunda 7 runs it
 * (CancelEndEventActivityBehavior): the transaction's completed activities are
 * compensated first, newest first, the end event waiting for their handlers
 * (user tasks here, each completed by its own REST command on a recovered
 * engine); then the transaction is cancelled and left by its cancel boundary
 * event. A transaction that ends normally compensates nothing.
 */

conformanceSuite(['transaction-compensate.bpmn'], 'txc', (c, t) => {

  test.serial(t('a cancel end event compensates the transaction newest first, waits for the handlers, then leaves by the cancel boundary'), async (t) => {
    const id = await start(c, 'transaction-compensate', { fail: true, ship: false });
    await complete(c, id, 'book');
    await complete(c, id, 'pay');
    t.deepEqual(await openKeys(c, id), ['refund', 'unbook'], 'both completed activities are compensated; the shipment never ran');
    const order = await c.server.db('activity_instances').where({ process_instance_id: id }).whereIn('activity_id', ['refund', 'unbook']).orderBy('seq').pluck('activity_id');
    t.deepEqual(order, ['refund', 'unbook'], 'the newest completion is compensated first');
    await complete(c, id, 'refund');
    t.deepEqual(await openKeys(c, id), ['unbook'], 'the transaction waits for every handler');
    t.is(await stateOf(c, id), 'ACTIVE');
    await complete(c, id, 'unbook');
    t.deepEqual(await openKeys(c, id), ['handle'], 'compensated: the cancel boundary\'s path opens');
    await complete(c, id, 'handle');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await cancelled(c, id), ['cancelEnd', 'tx'], 'the transaction was cancelled');
    const through = await passed(c, id);
    for (const e of ['book', 'pay', 'bookComp', 'payComp', 'unbook', 'refund', 'cancelled', 'handle']) t.true(through.includes(e), `${e} passed`);
    t.false(through.includes('shipComp'));
    t.deepEqual(await taskEnds(c, id), ['book:completed', 'handle:completed', 'pay:completed', 'refund:completed', 'unbook:completed']);
  });

  test.serial(t('a transaction that ends normally compensates nothing and takes its normal path'), async (t) => {
    const id = await start(c, 'transaction-compensate', { fail: false, ship: true });
    await complete(c, id, 'book');
    await complete(c, id, 'pay');
    await complete(c, id, 'ship');
    t.deepEqual(await openKeys(c, id), ['after']);
    await complete(c, id, 'after');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await taskEnds(c, id), ['after:completed', 'book:completed', 'pay:completed', 'ship:completed']);
    t.deepEqual(await cancelled(c, id), ['cancelled'], 'only the cancel boundary event, which this server lists while armed, as every boundary event');
  });

  const REFUSED: [element: string, says: RegExp][] = [
    ['notTx', /a cancel end event can only be used directly inside a transaction sub-process/],
    ['boundaryNotTx', /a cancel boundary event can only be attached to a transaction sub-process/],
    ['noBoundary', /transaction tx has no cancel boundary event/],
  ];
  test.serial(t('cancel events Camunda 7 would refuse are refused at deployment, naming each element'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'cancel-refused', REFUSED);
  });
});

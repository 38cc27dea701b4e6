import test from 'ava';
import { assertRefusedFixture, deployFixture } from './helpers.ts';
import { assertNothingOpen, complete, conformanceSuite, openKeys, passed, start, stateOf, taskEnds, variablesOf, type Conformance } from './events-kit.ts';

/*
 * Compensation as Camunda 7 runs it: a compensation boundary event's handler
 * runs only for an activity that completed, once, newest completion first;
 * the throw (intermediate or end event) waits until every handler it started
 * has ended, so a user-task handler holds the instance at the throw; with
 * activityRef only that activity is compensated; a throw in a sub-process
 * compensates that sub-process's activities only. Every step is its own REST
 * command, the engine recovered from the database each time, so each wait
 * below is a saved state resumed.
 */

/** Open tasks of an instance as `key:name`, sorted. */
async function openNamed(c: Conformance, id: string): Promise<string[]> {
  const r = await c.admin.get(`/engine-rest/task?processInstanceId=${id}`);
  return r.body.map((x: { taskDefinitionKey: string; name: string }) => `${x.taskDefinitionKey}:${x.name}`).sort();
}

/** History rows of `activityId`, as `started/ended` flags. */
async function historyOf(c: Conformance, id: string, activityId: string): Promise<{ ended: boolean; canceled: boolean }[]> {
  const r = await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=${activityId}`);
  return r.body.map((a: { endTime: string | null; canceled: boolean }) => ({ ended: a.endTime !== null, canceled: a.canceled }));
}

conformanceSuite(['compensation-throw.bpmn', 'compensation-end-ref.bpmn', 'compensation-subprocess.bpmn', 'compensation-unused.bpmn'], 'comp', (c, t) => {

  // Regression: the engine discarded each unused boundary's association too, a message nobody took, and the instance never ended.
  test.serial(t('compensation never thrown: the instance ends as usual, no handler runs and the boundary events leave no history'), async (t) => {
    const id = await start(c, 'compensation-unused');
    await complete(c, id, 'first');
    await complete(c, id, 'second');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await taskEnds(c, id), ['first:completed', 'second:completed']);
    t.deepEqual(await historyOf(c, id, 'firstComp'), []);
    t.deepEqual(await historyOf(c, id, 'secondComp'), []);
  });

  test.serial(t('a compensation throw runs the handlers of the completed activities only, and waits for them'), async (t) => {
    const id = await start(c, 'compensation-throw');
    t.deepEqual(await openKeys(c, id), ['bookCar', 'bookHotel']);
    await complete(c, id, 'bookHotel');
    await complete(c, id, 'bookFlight');
    t.deepEqual(await openNamed(c, id), ['bookCar:预订车辆 Book car', 'cancelFlight:取消机票 Cancel flight', 'cancelHotel:取消酒店 Cancel hotel'],
      'both completed bookings are compensated; the car, still being booked, is not');
    t.deepEqual(await historyOf(c, id, 'undo'), [{ ended: false, canceled: false }], 'the throw event is still running');
    const order = await c.server.db('activity_instances').where({ process_instance_id: id }).whereIn('activity_id', ['cancelFlight', 'cancelHotel']).orderBy('seq').pluck('activity_id');
    t.deepEqual(order, ['cancelFlight', 'cancelHotel'], 'the newest completion is compensated first');
    t.deepEqual(await historyOf(c, id, 'hotelComp'), [{ ended: true, canceled: false }], 'the boundary event shows once compensation triggered it');
    t.deepEqual(await historyOf(c, id, 'carComp'), [], 'the car\'s boundary event never ran');
    await complete(c, id, 'cancelHotel');
    t.deepEqual(await openKeys(c, id), ['bookCar', 'cancelFlight'], 'the throw waits for every handler');
    await complete(c, id, 'cancelFlight');
    t.deepEqual(await openKeys(c, id), ['bookCar', 'report'], 'the last handler ended: the throw completes and the path goes on');
    t.deepEqual(await historyOf(c, id, 'undo'), [{ ended: true, canceled: false }]);
    await complete(c, id, 'report');
    await complete(c, id, 'bookCar');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await taskEnds(c, id), ['bookCar:completed', 'bookFlight:completed', 'bookHotel:completed', 'cancelFlight:completed', 'cancelHotel:completed', 'report:completed'],
      'the car was completed after the throw: it is never compensated');
    t.deepEqual(await historyOf(c, id, 'carComp'), []);
  });

  test.serial(t('handlers run newest completion first, see the variables as they are when compensating, and waitForCompletion="false" still waits (with a warning)'), async (t) => {
    const deployed = await deployFixture(c.server, 'compensation-order');
    t.is(deployed.status, 200);
    const warnings = deployed.body.deploymentWarnings?.['compensation-order.bpmn'] ?? [];
    t.true(warnings.some((w: { mainElementId: string; message: string }) => w.mainElementId === 'undo' && /waitForCompletion="false" is not supported/.test(w.message)));
    const id = await start(c, 'compensation-order');
    t.deepEqual(await openKeys(c, id), ['check']);
    await complete(c, id, 'check', { seen: 'yes' });
    t.deepEqual(await openKeys(c, id), ['done']);
    t.is((await variablesOf(c, id)).log, 's1,s2,s3,u3:yes,u2,u1');
    await complete(c, id, 'done');
    await assertNothingOpen(t, c, id);
    t.deepEqual((await passed(c, id)).filter((a) => /^[cu]\d$/.test(a)), ['c1', 'c2', 'c3', 'u1', 'u2', 'u3']);
  });

  test.serial(t('a compensation end event with activityRef compensates only that activity and ends after its handler'), async (t) => {
    const id = await start(c, 'compensation-end-ref');
    await complete(c, id, 'charge');
    await complete(c, id, 'ship');
    t.deepEqual(await openNamed(c, id), ['refund:退款 Refund'], 'only the charge is compensated; the shipment is not');
    t.is(await stateOf(c, id), 'ACTIVE', 'the end event waits for the handler');
    await complete(c, id, 'refund');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await taskEnds(c, id), ['charge:completed', 'refund:completed', 'ship:completed']);
    t.true((await passed(c, id)).includes('undoCharge'));
  });

  test.serial(t('a throw inside a sub-process compensates that sub-process\'s activities, not those outside it'), async (t) => {
    const id = await start(c, 'compensation-subprocess');
    await complete(c, id, 'outer');
    await complete(c, id, 'inner');
    t.deepEqual(await openNamed(c, id), ['undoInner:撤销内部 Undo inner']);
    await complete(c, id, 'undoInner');
    t.deepEqual(await openKeys(c, id), ['after'], 'the sub-process went on after the throw and ended');
    await complete(c, id, 'after');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await taskEnds(c, id), ['after:completed', 'inner:completed', 'outer:completed', 'undoInner:completed'], 'the outer activity is never compensated');
  });

  const REFUSED: [element: string, says: RegExp][] = [
    ['loopComp', /activity work lies on a cycle/],
    ['refOutside', /activityRef="work": no activity with that id in the scope/],
    ['subComp', /compensation boundary event is only run on a task here; on a SubProcess/],
    ['propagate', /compensation would propagate into the completed sub-process sub/],
    ['badHandler', /compensation handler cannot have incoming or outgoing sequence flows/],
    ['handlerTimer', /a boundary event on a compensation handler is not run here/],
  ];
  test.serial(t('what compensation does not run as Camunda 7 is refused at deployment, naming each element, and nothing is stored'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'compensation-refused', REFUSED);
  });
});

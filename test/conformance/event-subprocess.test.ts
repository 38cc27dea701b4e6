import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, cancelled, complete, finishWith, openKeys, passed, start, stateOf, taskEnds, variablesOf, conformanceSuite, type Conformance } from './events-kit.ts';

/*
 * Event sub-processes (triggeredByEvent) and escalations as Camunda 7 runs
 * them, over REST on both databases: error and escalation starts caught from
 * the engine, message and signal starts through POST /message and /signal,
 * interrupting (the rest of the scope is cancelled, its tasks deleted) and
 * not. Timer starts: event-subprocess-timer.test.ts.
 */

/** What stays refused, with the element named and what the refusal says. */
const REFUSED: [fixture: string, element: string, says: RegExp][] = [
  ['esp-refused-conditional', 'condStart', /conditional starts are not run yet/],
  ['esc-refused-call-boundary', 'escalated', /an escalation a called process throws is not carried up to its call activity here, so a call activity cannot have an escalation boundary event/],
  ['esp-refused-catchall', 'anyError', /error start without errorRef \(catch-all\) is not run here yet/],
  ['esp-refused-catchall', 'anyEscalation', /escalation boundary event without escalationRef \(catch-all\) is not run here yet/],
  ['esp-refused-external', 'errStart', /a BPMN error a worker throws from an external task, or a called process throws up to its call activity, in this scope would not reach this event sub-process/],
  ['esp-refused-call', 'errStart', /or a called process throws up to its call activity, in this scope would not reach this event sub-process/],
  ['esp-refused-call', 'escStart', /an escalation event sub-process cannot have a call activity in its scope/],
  ['esp-refused-mi', 'esp', /inside a multi-instance sub-process is not run yet: its start would be armed once for all instances/],
  ['esp-refused-inner-conditional', 'wait', /conditional events inside an event sub-process are not run yet/],
  ['esp-refused-nested', 'escEnd', /this escalation could be caught at more than one level \(innerCatch, outerCatch\)/],
  ['esp-refused-boundary', 'fail', /this error could be caught at more than one level \(caught, errorStart\)/],
];

const subscriptions = (c: Conformance, id: string) => c.server.db('message_subscriptions').where({ process_instance_id: id }).orderBy('activity_id').pluck('activity_id');
const message = (c: Conformance, messageName: string, processInstanceId?: string) => c.worker.post('/engine-rest/message', { messageName, ...(processInstanceId ? { processInstanceId } : {}) });

conformanceSuite(['esp-error.bpmn', 'esp-error-sub.bpmn', 'esp-escalation.bpmn', 'escalation-end.bpmn', 'esp-message-interrupting.bpmn', 'esp-signal-interrupting.bpmn', 'esp-message-sub.bpmn', 'esp-nested.bpmn', 'escalation-after-message.bpmn', 'esp-interrupt-closes.bpmn'], 'esp', (c, t) => {

  test.serial(t('an error end event is caught by the process\'s error event sub-process, which cancels the other branch'), async (t) => {
    const id = await start(c, 'esp-error');
    t.deepEqual(await openKeys(c, id), ['other', 'work']);
    await complete(c, id, 'work', { approved: false });
    t.deepEqual(await openKeys(c, id), ['handle'], 'the parallel branch was interrupted');
    await finishWith(t, c, id, 'handle', { cancelled: ['other'] });
    const through = await passed(c, id);
    for (const e of ['fail', 'eventSub', 'eventStart', 'handle', 'eventEnd']) t.true(through.includes(e), `${e} passed`);
    t.false(through.includes('end2'));
    t.deepEqual(await taskEnds(c, id), ['handle:completed', 'other:deleted', 'work:completed']);
  });

  test.serial(t('without the error the error event sub-process never runs'), async (t) => {
    const id = await start(c, 'esp-error');
    await complete(c, id, 'work', { approved: true });
    await finishWith(t, c, id, 'other');
    t.false((await passed(c, id)).includes('eventSub'));
  });

  test.serial(t('an error event sub-process inside a sub-process catches before the boundary of the sub-process; the sub-process then ends normally'), async (t) => {
    const id = await start(c, 'esp-error-sub');
    t.deepEqual(await openKeys(c, id), ['a', 'b']);
    await complete(c, id, 'a', { approved: false });
    t.deepEqual(await openKeys(c, id), ['handle'], 'b was interrupted, the boundary was not taken');
    t.is((await variablesOf(c, id)).code, 'REJECTED', 'camunda:errorCodeVariable');
    await complete(c, id, 'handle');
    t.deepEqual(await openKeys(c, id), ['after'], 'the sub-process completed and left by its normal flow');
    await finishWith(t, c, id, 'after', { cancelled: ['b', 'outerCatch'] });
    t.true((await passed(c, id)).includes('sub'));
    t.deepEqual(await taskEnds(c, id), ['a:completed', 'after:completed', 'b:deleted', 'handle:completed']);
  });

  test.serial(t('escalations: a non-interrupting escalation event sub-process of the process runs alongside; an escalation end event is caught by the interrupting one of its sub-process'), async (t) => {
    const id = await start(c, 'esp-escalation');
    t.deepEqual(await openKeys(c, id), ['side', 'work']);
    t.is((await variablesOf(c, id)).lateCode, 'LATE', 'the non-interrupting one ran at once and set camunda:escalationCodeVariable');
    t.true((await passed(c, id)).includes('lateSub'));
    await complete(c, id, 'work');
    t.deepEqual(await openKeys(c, id), ['handleUp'], 'the escalation end interrupted the sub-process\'s other branch');
    t.is((await variablesOf(c, id)).upCode, 'UP');
    await complete(c, id, 'handleUp');
    t.deepEqual(await openKeys(c, id), ['after']);
    await finishWith(t, c, id, 'after', { cancelled: ['side'] });
    for (const e of ['escEnd', 'upSub', 'upStart', 'sub', 'raise']) t.true((await passed(c, id)).includes(e), `${e} passed`);
    t.deepEqual(await taskEnds(c, id), ['after:completed', 'handleUp:completed', 'side:deleted', 'work:completed']);
  });

  test.serial(t('an escalation end event is caught by an interrupting escalation boundary event, after a non-interrupting one took its own'), async (t) => {
    const id = await start(c, 'escalation-end');
    t.deepEqual(await openKeys(c, id), ['informed', 'inner']);
    await complete(c, id, 'inner', { escalate: true });
    t.deepEqual(await openKeys(c, id), ['informed', 'manager'], 'the sub-process was left by the boundary, not its normal flow');
    t.is((await variablesOf(c, id)).escCode, 'UP', 'camunda:escalationCodeVariable of the boundary event');
    await complete(c, id, 'manager');
    await finishWith(t, c, id, 'informed', { cancelled: ['sub'] });
    const through = await passed(c, id);
    for (const e of ['escEnd', 'taken', 'notify']) t.true(through.includes(e), `${e} passed`);
    t.false(through.includes('normal'));
  });

  test.serial(t('without the escalation end the interrupting escalation boundary is never taken'), async (t) => {
    const id = await start(c, 'escalation-end');
    await complete(c, id, 'inner', { escalate: false });
    t.deepEqual(await openKeys(c, id), ['informed', 'normal']);
    t.false('escCode' in (await variablesOf(c, id)));
    await complete(c, id, 'normal');
    await finishWith(t, c, id, 'informed');
    t.true((await cancelled(c, id)).includes('taken'));
  });

  test.serial(t('an escalation end reached right after a message catch, in the same command as the POST /message, is caught by the interrupting boundary'), async (t) => {
    const id = await start(c, 'escalation-after-message');
    t.is((await message(c, 'escalation-after-message-go', id)).status, 204);
    t.deepEqual(await openKeys(c, id), ['manager']);
    await finishWith(t, c, id, 'manager', { cancelled: ['sub'] });
    t.true((await passed(c, id)).includes('escEnd'));
  });

  test.serial(t('a message start of an interrupting event sub-process subscribes while the process runs; POST /message runs it and deletes the other task'), async (t) => {
    const id = await start(c, 'esp-message-interrupting');
    t.deepEqual(await subscriptions(c, id), ['eventStart']);
    const r = await message(c, 'esp-message-interrupting-message');
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await openKeys(c, id), ['handle']);
    t.deepEqual(await subscriptions(c, id), [], 'an interrupting start fires once');
    t.is((await message(c, 'esp-message-interrupting-message')).status, 400, 'nothing waits for it any more');
    await finishWith(t, c, id, 'handle', { taskEnds: ['handle:completed', 'work:deleted'], cancelled: ['work'] });
  });

  test.serial(t('the message start\'s subscription ends with the process'), async (t) => {
    const id = await start(c, 'esp-message-interrupting');
    await finishWith(t, c, id, 'work');
    t.is((await message(c, 'esp-message-interrupting-message')).status, 400);
  });

  test.serial(t('a signal start of an interrupting event sub-process is reached by POST /signal'), async (t) => {
    const id = await start(c, 'esp-signal-interrupting');
    t.is((await c.worker.post('/engine-rest/signal', { name: 'esp-signal-interrupting-signal' })).status, 204);
    t.deepEqual(await openKeys(c, id), ['handle']);
    await finishWith(t, c, id, 'handle', { taskEnds: ['handle:completed', 'work:deleted'] });
  });

  test.serial(t('inside a sub-process: a non-interrupting message start fires each time, the sub-process runs on; its subscription ends with the sub-process'), async (t) => {
    const id = await start(c, 'esp-message-sub');
    t.deepEqual(await subscriptions(c, id), ['pingStart', 'stopStart']);
    t.is((await message(c, 'esp-sub-ping', id)).status, 204);
    t.is((await message(c, 'esp-sub-ping', id)).status, 204);
    t.deepEqual(await openKeys(c, id), ['work']);
    t.is((await passed(c, id)).filter((a) => a === 'pingSub').length, 2, 'ran twice');
    t.deepEqual(await subscriptions(c, id), ['pingStart', 'stopStart'], 'a non-interrupting start keeps waiting');
    await complete(c, id, 'work');
    t.deepEqual(await openKeys(c, id), ['after']);
    t.deepEqual(await subscriptions(c, id), [], 'the sub-process ended, and its event starts with it');
    t.is((await message(c, 'esp-sub-ping', id)).status, 400);
    await finishWith(t, c, id, 'after', { cancelled: [] });
  });

  test.serial(t('inside a sub-process: an interrupting signal start cancels the sub-process\'s task and its other event starts; the sub-process then ends normally'), async (t) => {
    const id = await start(c, 'esp-message-sub');
    t.is((await c.worker.post('/engine-rest/signal', { name: 'esp-sub-stop' })).status, 204);
    t.deepEqual(await openKeys(c, id), ['handleStop']);
    t.deepEqual(await subscriptions(c, id), [], 'the message start went with the interruption');
    t.is((await message(c, 'esp-sub-ping', id)).status, 400);
    await complete(c, id, 'handleStop');
    t.deepEqual(await openKeys(c, id), ['after']);
    await finishWith(t, c, id, 'after', { cancelled: ['work'] });
    t.true((await passed(c, id)).includes('sub'));
    t.deepEqual(await taskEnds(c, id), ['after:completed', 'handleStop:completed', 'work:deleted']);
  });

  test.serial(t('an interrupting start closes, in the same command, the scope\'s external task, its boundary timer and its message wait'), async (t) => {
    const id = await start(c, 'esp-interrupt-closes');
    t.deepEqual(await openKeys(c, id), ['work']);
    t.is((await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body.length, 1);
    t.is((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body.length, 1, 'the boundary timer of the external task');
    t.deepEqual(await subscriptions(c, id), ['stopStart', 'waitReply']);
    t.is((await message(c, 'esp-closes-stop', id)).status, 204);
    t.deepEqual(await openKeys(c, id), ['handle']);
    t.deepEqual((await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body, []);
    t.deepEqual((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, []);
    t.deepEqual(await subscriptions(c, id), []);
    t.is((await message(c, 'esp-closes-reply', id)).status, 400, 'the message catch is gone');
    await finishWith(t, c, id, 'handle', { cancelled: ['scan', 'scanLate', 'waitReply', 'work'], taskEnds: ['handle:completed', 'work:deleted'] });
  });

  test.serial(t('two instances: a message for one instance reaches only its event sub-process'), async (t) => {
    const a = await start(c, 'esp-message-interrupting');
    const b = await start(c, 'esp-message-interrupting');
    t.is((await c.worker.post('/engine-rest/message', { messageName: 'esp-message-interrupting-message' })).status, 400, 'two waiting: ambiguous, as in Camunda');
    t.is((await message(c, 'esp-message-interrupting-message', a)).status, 204);
    t.deepEqual(await openKeys(c, a), ['handle']);
    t.deepEqual(await openKeys(c, b), ['work']);
    await complete(c, a, 'handle');
    await complete(c, b, 'work');
    await assertNothingOpen(t, c, a);
    await assertNothingOpen(t, c, b);
    t.is(await stateOf(c, b), 'COMPLETED');
  });

  for (const [outcome, task, esp] of [['error', 'repair', 'errorSub'], ['escalate', 'decide', 'upSub']] as const) {
    test.serial(t(`an ${outcome === 'error' ? 'error' : 'escalation'} end event inside a sub-process is caught by the process's interrupting event sub-process: the sub-process and the other branch are cancelled`), async (t) => {
      const id = await start(c, 'esp-nested', { outcome });
      t.deepEqual(await openKeys(c, id), ['other', 'work']);
      await complete(c, id, 'work');
      t.deepEqual(await openKeys(c, id), [task]);
      await finishWith(t, c, id, task, { cancelled: ['other', 'sub'] });
      t.true((await passed(c, id)).includes(esp));
      t.deepEqual(await taskEnds(c, id), [`${task}:completed`, 'other:deleted', 'work:completed'].sort());
    });
  }

  for (const [fixture, element, says] of REFUSED) {
    test.serial(t(`${fixture} is refused at deployment naming ${element}, and nothing is stored`), async (t) => {
      await assertRefusedFixture(t, c.server, c.admin, fixture, [[element, says]]);
    });
  }
});

import { assertNothingOpen, cancelled, complete, conformanceSuite, openKeys, passed, start, taskEnds, type Conformance } from './events-kit.ts';
import test from 'ava';

/*
 * Conditional events below the process level, as Camunda 7 runs them
 * (issue 14): inside an embedded sub-process (an intermediate catch event, and
 * boundary events on a task there), as boundary events on the sub-process
 * itself, and after an event-based gateway. Each is evaluated again at every
 * variable change of its instance, exactly as the process-level ones
 * (conditional.test.ts): whichever API changed the variable, in the
 * transaction that changed it.
 */

const put = (c: Conformance, id: string, name: string, value: unknown) => c.admin.put(`/engine-rest/process-instance/${id}/variables/${name}`, { value });

async function set(t: any, c: Conformance, id: string, name: string, value: unknown): Promise<void> {
  const r = await put(c, id, name, value);
  t.is(r.status, 204, JSON.stringify(r.body));
}

conformanceSuite(['conditional-subprocess', 'conditional-gateway', 'conditional-delete'], 'condn', (c, t) => {
  test.serial(t('an intermediate conditional event inside a sub-process waits and moves at the variable change that makes it true'), async (tt) => {
    const id = await start(c, 'conditional-subprocess', { inner: false, stop: false, ping: false, note: false, abort: false });
    tt.deepEqual(await openKeys(c, id), ['work']);
    await set(tt, c, id, 'inner', false);
    tt.deepEqual(await openKeys(c, id), ['work'], 'still false: still waiting');
    // Set through the task inside the sub-process: a change of the instance's variable as any.
    const [work] = (await c.office.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=work`)).body;
    tt.is((await c.office.put(`/engine-rest/task/${work.id}/variables/inner`, { value: true })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['innerAfter', 'work']);
    tt.true((await passed(c, id)).includes('waitInner'));
    await complete(c, id, 'innerAfter');
    await complete(c, id, 'work');
    tt.deepEqual(await openKeys(c, id), ['done'], 'the sub-process ended when its last path did');
    await complete(c, id, 'done');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('an intermediate conditional event inside a sub-process whose condition holds on arrival passes at once'), async (tt) => {
    const id = await start(c, 'conditional-subprocess', { inner: true, stop: false, ping: false, note: false, abort: false });
    tt.deepEqual(await openKeys(c, id), ['innerAfter', 'work']);
    await complete(c, id, 'work', { inner: false });
    await complete(c, id, 'innerAfter');
    await complete(c, id, 'done');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('boundary conditional events on a task inside a sub-process: non-interrupting at each matching change, interrupting once'), async (tt) => {
    const id = await start(c, 'conditional-subprocess', { inner: false, stop: false, ping: false, note: false, abort: false });
    await set(tt, c, id, 'ping', true);
    tt.deepEqual(await openKeys(c, id), ['pinged', 'work']);
    await set(tt, c, id, 'other', 1);
    tt.deepEqual(await openKeys(c, id), ['pinged', 'work'], 'onPing listens to ping only');
    await complete(c, id, 'pinged');
    await set(tt, c, id, 'ping', true);
    tt.deepEqual(await openKeys(c, id), ['pinged', 'work'], 'fired again: it stays armed');
    await set(tt, c, id, 'stop', true);
    tt.deepEqual(await openKeys(c, id), ['pinged', 'stopped'], 'the task was interrupted, its other boundary event with it');
    tt.true((await cancelled(c, id)).includes('work'));
    await complete(c, id, 'pinged');
    await set(tt, c, id, 'ping', true);
    tt.deepEqual(await openKeys(c, id), ['stopped'], 'onPing went with its task');
    await set(tt, c, id, 'inner', true);
    for (const key of ['innerAfter', 'stopped']) await complete(c, id, key);
    tt.deepEqual(await openKeys(c, id), ['done']);
    await complete(c, id, 'done');
    tt.deepEqual(await taskEnds(c, id), ['done:completed', 'innerAfter:completed', 'pinged:completed', 'pinged:completed', 'stopped:completed', 'work:deleted']);
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('a non-interrupting conditional boundary event on a sub-process opens its path at each matching change while the sub-process runs'), async (tt) => {
    const id = await start(c, 'conditional-subprocess', { inner: false, stop: false, ping: false, note: false, abort: false });
    await set(tt, c, id, 'note', true);
    tt.deepEqual(await openKeys(c, id), ['noted', 'work']);
    await complete(c, id, 'noted');
    await set(tt, c, id, 'note', true);
    tt.deepEqual(await openKeys(c, id), ['noted', 'work'], 'fired again: it stays armed');
    await complete(c, id, 'noted');
    await set(tt, c, id, 'inner', true);
    await complete(c, id, 'innerAfter');
    await complete(c, id, 'work');
    tt.deepEqual(await openKeys(c, id), ['done']);
    await set(tt, c, id, 'note', true);
    tt.deepEqual(await openKeys(c, id), ['done'], 'the sub-process ended: its boundary event with it');
    await complete(c, id, 'done');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('an interrupting conditional boundary event on a sub-process ends everything inside it when a variable makes it true'), async (tt) => {
    const id = await start(c, 'conditional-subprocess', { inner: false, stop: false, ping: false, note: false, abort: false });
    await set(tt, c, id, 'ping', true);
    tt.deepEqual(await openKeys(c, id), ['pinged', 'work']);
    await complete(c, id, 'work', { abort: true });
    tt.deepEqual(await openKeys(c, id), ['aborted'], 'the task completed with the change; the sub-process and all inside it were interrupted');
    const gone = await cancelled(c, id);
    for (const a of ['sp', 'pinged', 'waitInner']) tt.true(gone.includes(a), `${a} cancelled`);
    await set(tt, c, id, 'inner', true);
    tt.deepEqual(await openKeys(c, id), ['aborted']);
    await complete(c, id, 'aborted');
    tt.deepEqual(await taskEnds(c, id), ['aborted:completed', 'pinged:deleted', 'work:completed']);
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('an interrupting conditional boundary event on a sub-process whose condition holds on arrival takes its path at once'), async (tt) => {
    const id = await start(c, 'conditional-subprocess', { inner: false, stop: false, ping: false, note: false, abort: true });
    tt.deepEqual(await openKeys(c, id), ['aborted']);
    await complete(c, id, 'aborted');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('a conditional event after an event-based gateway wins the race when a variable makes it true'), async (tt) => {
    const id = await start(c, 'conditional-gateway', { go: false });
    tt.deepEqual(await openKeys(c, id), []);
    const subscriptions = () => c.server.db('message_subscriptions').where({ process_instance_id: id }).pluck('activity_id');
    tt.deepEqual(await subscriptions(), ['onMessage']);
    await set(tt, c, id, 'go', true);
    tt.deepEqual(await openKeys(c, id), ['went']);
    tt.deepEqual(await subscriptions(), [], 'the message it raced against is no longer awaited');
    const late = await c.worker.post('/engine-rest/message', { messageName: 'conditional-gateway-message', processInstanceId: id });
    tt.is(late.status, 400, 'nothing waits for the message any more');
    await complete(c, id, 'went');
    tt.false((await passed(c, id)).includes('onMessage'));
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('after an event-based gateway, the event that comes first wins: a message ends the wait of the conditional event'), async (tt) => {
    const id = await start(c, 'conditional-gateway', { go: false });
    const r = await c.worker.post('/engine-rest/message', { messageName: 'conditional-gateway-message', processInstanceId: id });
    tt.true(r.status === 200 || r.status === 204, JSON.stringify(r.body));
    tt.deepEqual(await openKeys(c, id), ['messaged']);
    await set(tt, c, id, 'go', true);
    tt.deepEqual(await openKeys(c, id), ['messaged'], 'the conditional event was cancelled with the race');
    await complete(c, id, 'messaged');
    tt.false((await passed(c, id)).includes('onGo'));
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('a conditional event after an event-based gateway whose condition holds on arrival wins at once'), async (tt) => {
    const id = await start(c, 'conditional-gateway', { go: true });
    tt.deepEqual(await openKeys(c, id), ['went']);
    await complete(c, id, 'went');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('what a delete task listener sets when a boundary event cancelled its task moves a waiting conditional event, in the same command'), async (tt) => {
    const id = await start(c, 'conditional-delete', { reviewDeleted: false, stop: false });
    tt.deepEqual(await openKeys(c, id), ['review']);
    const r = await c.worker.post('/engine-rest/message', { messageName: 'conditional-delete-stop', processInstanceId: id });
    tt.true(r.status === 200 || r.status === 204, JSON.stringify(r.body));
    tt.deepEqual(await openKeys(c, id), ['afterDelete'], 'the listener set reviewDeleted and the waiting event passed');
    tt.deepEqual(await taskEnds(c, id), ['afterDelete:null', 'review:deleted']);
    await complete(c, id, 'afterDelete');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('a variable change that fires an interrupting conditional boundary event: the delete listener of its task sets what moves another wait'), async (tt) => {
    const id = await start(c, 'conditional-delete', { reviewDeleted: false, stop: false });
    await set(tt, c, id, 'stop', true);
    tt.deepEqual(await openKeys(c, id), ['afterDelete']);
    tt.true((await passed(c, id)).includes('waitDeleted'));
    await complete(c, id, 'afterDelete');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('a task completed runs no delete listener: the wait stays'), async (tt) => {
    const id = await start(c, 'conditional-delete', { reviewDeleted: false, stop: false });
    await complete(c, id, 'review');
    tt.deepEqual(await openKeys(c, id), []);
    await set(tt, c, id, 'reviewDeleted', true);
    tt.deepEqual(await openKeys(c, id), ['afterDelete']);
    await complete(c, id, 'afterDelete');
    await assertNothingOpen(tt, c, id);
  });
});

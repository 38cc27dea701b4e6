import test from 'ava';
import { assertRefusedFixture } from './helpers.ts';
import { assertNothingOpen, complete, conformanceSuite, openKeys, start } from './events-kit.ts';

/*
 * Execution listeners on boundary events, as Camunda 7 runs them: a
 * boundary event is executed only when it fires, so its `start` and `end`
 * listeners run then (after the interrupted activity is cancelled, before
 * the take listeners of its path), also when a non-interrupting one fires,
 * and never when the activity ends without it. A compensation boundary event
 * is never executed in Camunda: listeners on it are refused.
 */

conformanceSuite(['boundary-listeners'], 'bl', (c, t) => {
  const log = async (id: string) => JSON.parse((await c.admin.get(`/engine-rest/process-instance/${id}/variables/log`)).body.value);
  const correlate = async (name: string, id: string) => {
    const r = await c.admin.post('/engine-rest/message', { messageName: `boundary-listeners-${name}`, processInstanceId: id });
    if (r.status !== 204) throw new Error(`correlate ${name}: ${r.status} ${JSON.stringify(r.body)}`);
  };

  test.serial(t('listeners of a boundary event run when it fires: non-interrupting and interrupting, the latter before its path\'s take and start listeners'), async (t) => {
    const id = await start(c, 'boundary-listeners');
    t.deepEqual(await log(id), [], 'armed boundary events run no listener');
    await correlate('nudge', id);
    t.deepEqual(await log(id), ['nudge:start']);
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/nudges`)).body.value, 1, 'the non-interrupting boundary event ran its listener when it fired');
    t.deepEqual(await openKeys(c, id), ['work']);
    await correlate('stop', id);
    t.deepEqual(await log(id), ['nudge:start', 'stop:start:stop', 'stop:end', 'fStop:take', 'stopped:start']);
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/stoppedBy`)).body.value, 'stop', 'the expression form too');
    t.deepEqual(await openKeys(c, id), ['stopped']);
    await complete(c, id, 'stopped');
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('an activity that ends without its boundary events firing runs none of their listeners'), async (t) => {
    const id = await start(c, 'boundary-listeners');
    await complete(c, id, 'work');
    await assertNothingOpen(t, c, id);
    const vars = (await c.admin.get(`/engine-rest/history/variable-instance?processInstanceId=${id}&variableName=log`)).body;
    t.deepEqual(JSON.parse(vars[0].value), []);
  });

  test.serial(t('listeners on a compensation boundary event are refused, naming it'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'boundary-listeners-refused', [
      ['undo', /in expression form a listener runs only where its script form runs/],
    ]);
  });
});

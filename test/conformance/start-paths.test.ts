import test from 'ava';
import { assertNothingOpen, complete, conformanceSuite, openKeys, start } from './events-kit.ts';

/*
 * A process with several start events: an instance runs the path of the one
 * it was started by, and nothing of the others (Camunda 7). The engine
 * starts every element without an incoming flow, so the paths only a start
 * event left out leads to must be left out with it (serialize.ts,
 * keepStartEvents): before, starting by message also ran the script and
 * opened the task of the none start's path.
 */

conformanceSuite(['start-paths.bpmn'], 'startpaths', (c, t) => {
  test.serial(t('started by its message, an instance runs only the message start\'s path'), async (t) => {
    const r = await c.worker.post('/engine-rest/message', { messageName: 'start-paths-message', resultEnabled: true });
    t.is(r.status, 200, JSON.stringify(r.body));
    const id = r.body[0].processInstance.id;
    t.deepEqual(await openKeys(c, id), ['messageWork']);
    t.deepEqual((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'no timer of the other path is armed');
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/path`)).status, 404, 'the other path\'s script did not run');
    await complete(c, id, 'messageWork');
    await assertNothingOpen(t, c, id);
  });

  test.serial(t('started by hand, an instance runs only the none start\'s path'), async (t) => {
    const id = await start(c, 'start-paths');
    t.deepEqual(await openKeys(c, id), ['handWork']);
    t.is((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body.length, 1, 'its boundary timer');
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/path`)).body.value, 'byHand');
    await complete(c, id, 'handWork');
    await assertNothingOpen(t, c, id);
  });
});

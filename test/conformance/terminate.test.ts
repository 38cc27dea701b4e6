import test from 'ava';
import { assertNothingOpen, cancelled, complete, openKeys, passed, start, stateOf, taskEnds, conformanceSuite } from './events-kit.ts';

/*
 * Terminate end events (Camunda 7): at process level the whole instance
 * ends, with every open task, external task, timer and subscription closed
 * in the same transaction; inside a sub-process only that sub-process ends.
 */

conformanceSuite(['terminate-process.bpmn', 'terminate-subprocess.bpmn'], 'term', (c, t) => {

  test.serial(t('a terminate end event at process level ends the instance and closes every other wait'), async (t) => {
    const id = await start(c, 'terminate-process');
    t.deepEqual(await openKeys(c, id), ['other', 'stopper']);
    t.is((await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body.length, 1);
    t.is((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body.length, 1);
    t.deepEqual(await c.server.db('message_subscriptions').where({ process_instance_id: id }).pluck('activity_id'), ['waitMessage']);
    await complete(c, id, 'stopper');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await taskEnds(c, id), ['other:deleted', 'stopper:completed'], 'the other branch\'s task is deleted, with the reason');
    t.true((await passed(c, id)).includes('terminate'));
    t.deepEqual(await cancelled(c, id), ['other', 'waitMessage', 'waitTimer', 'worker']);
    const ext = await c.server.db('external_tasks').where({ process_instance_id: id }).first();
    t.is(ext.end_reason, 'deleted');
  });

  test.serial(t('a terminate end event inside a sub-process ends only the sub-process'), async (t) => {
    const id = await start(c, 'terminate-subprocess');
    t.deepEqual(await openKeys(c, id), ['innerOther', 'innerStop', 'outside']);
    t.is((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body.length, 1, 'the timer inside the sub-process');
    await complete(c, id, 'innerStop');
    t.is(await stateOf(c, id), 'ACTIVE');
    t.deepEqual(await openKeys(c, id), ['afterSub', 'outside'], 'the sub-process ended; the branch outside it goes on');
    t.deepEqual((await c.admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'the timer inside the sub-process is gone');
    t.deepEqual(await taskEnds(c, id), ['afterSub:null', 'innerOther:deleted', 'innerStop:completed', 'outside:null']);
    t.true((await passed(c, id)).includes('sub'), 'the sub-process itself completed (Camunda takes its outgoing flow)');
    await complete(c, id, 'outside');
    await complete(c, id, 'afterSub');
    await assertNothingOpen(t, c, id);
    t.deepEqual(await cancelled(c, id), ['innerOther', 'innerTimer']);
  });
});

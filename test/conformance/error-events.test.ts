import test from 'ava';
import { assertNothingOpen, cancelled, complete, openKeys, passed, start, stateOf, taskEnds, variablesOf, conformanceSuite } from './events-kit.ts';

/*
 * BPMN errors caught by error boundary events (Camunda 7): an error end event
 * inside a sub-process ends the sub-process and takes the boundary's path;
 * an external task's bpmnError is caught by the boundary of the sub-process
 * around it. camunda:errorCodeVariable and errorMessageVariable are set.
 */

conformanceSuite(['error-end-subprocess.bpmn', 'error-external-task.bpmn'], 'err', (c, t) => {

  test.serial(t('an error end event inside a sub-process is caught by its error boundary event'), async (t) => {
    const id = await start(c, 'error-end-subprocess');
    t.deepEqual(await openKeys(c, id), ['check', 'sideTask']);
    await complete(c, id, 'check', { approved: false });
    t.deepEqual(await openKeys(c, id), ['handle'], 'the boundary path, not the normal one; the side task is gone');
    const vars = await variablesOf(c, id);
    t.is(vars.errorCode, 'REJECTED');
    t.is(vars.errorMessage, '审核不通过 / rejected');
    t.deepEqual(await taskEnds(c, id), ['check:completed', 'handle:null', 'sideTask:deleted']);
    t.true((await passed(c, id)).includes('rejectEnd'));
    t.true((await cancelled(c, id)).includes('sub'), 'the sub-process was interrupted');
    await complete(c, id, 'handle');
    await assertNothingOpen(t, c, id);
    t.false((await passed(c, id)).includes('normal'));
  });

  test.serial(t('without the error the sub-process ends normally and the boundary is never taken'), async (t) => {
    const id = await start(c, 'error-end-subprocess');
    await complete(c, id, 'check', { approved: true });
    t.deepEqual(await openKeys(c, id), ['sideTask']);
    await complete(c, id, 'sideTask');
    t.deepEqual(await openKeys(c, id), ['normal']);
    await complete(c, id, 'normal');
    await assertNothingOpen(t, c, id);
    t.false((await passed(c, id)).includes('handle'));
    t.is((await variablesOf(c, id)).errorCode, undefined);
  });

  test.serial(t("an external task's bpmnError is caught by the error boundary of the sub-process around it"), async (t) => {
    const id = await start(c, 'error-external-task');
    const locked = await c.worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks: 5, topics: [{ topicName: 'conformance-scan', lockDuration: 60_000 }] });
    t.is(locked.status, 200);
    const task = locked.body.find((x: { processInstanceId: string }) => x.processInstanceId === id);
    t.truthy(task);
    const r = await c.worker.post(`/engine-rest/external-task/${task.id}/bpmnError`, { workerId: 'w1', errorCode: 'INFECTED', errorMessage: '样本感染' });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.deepEqual(await openKeys(c, id), ['quarantine']);
    t.is((await variablesOf(c, id)).subErrorCode, 'INFECTED');
    t.deepEqual((await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body, []);
    await complete(c, id, 'quarantine');
    await assertNothingOpen(t, c, id);
    t.true((await cancelled(c, id)).includes('sub'));
    t.is(await stateOf(c, id), 'COMPLETED');
  });
});

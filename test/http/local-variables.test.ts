import test from 'ava';
import { makeUser } from '../helpers/server.ts';
import { conformanceSuite, start, variablesOf } from '../conformance/events-kit.ts';

/*
 * Local variables over Camunda's REST: an execution's input parameters and a
 * multi-instance iteration's loop variables are read, set and deleted through
 * `/execution/{id}/localVariables`, and the engine sees what was set (the
 * output parameters read it when the task completes). Tasks keep no
 * task-local variables here: `/task/{id}/localVariables` is empty.
 */

conformanceSuite(['io-mapping.bpmn', 'mi-parallel.bpmn'], 'lv', (c, t) => {
  const taskOf = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body as any[];

  test.serial(t('an execution\'s input parameters are its local variables, typed, and reading them is traced'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'lv-office', round: 1 });
    const [task] = await taskOf(id);
    const r = await c.office.get(`/engine-rest/execution/${task.executionId}/localVariables`);
    t.is(r.status, 200, JSON.stringify(r.body));
    t.deepEqual(r.body.reviewer, { value: 'lv-office', type: 'String', valueInfo: {} });
    t.deepEqual(r.body.label, { value: '第 2 轮', type: 'String', valueInfo: {} });
    t.is(r.body.steps.type, 'Json');
    t.deepEqual(JSON.parse(r.body.meta.value), { round: 1, tags: ['a', 'b'] });
    t.false('who' in r.body, 'process variables are not local');
    const one = await c.office.get(`/engine-rest/execution/${task.executionId}/localVariables/fixed`);
    t.deepEqual(one.body, { value: '固定值', type: 'String', valueInfo: {} });
    t.is((await c.office.get(`/engine-rest/execution/${task.executionId}/localVariables/who`)).status, 404);
    t.deepEqual((await c.office.get(`/engine-rest/task/${task.id}/localVariables`)).body, {}, 'no task-local variables');
    const [row] = await c.server.db('trace').where({ operation: 'Read', entity_type: 'Variable', entity_id: task.executionId }).orderBy('id', 'desc').limit(1);
    t.is(row?.process_instance_id, id, 'the read is traced in the instance\'s chain');
    t.deepEqual(row.details.variables, ['fixed']);
  });

  test.serial(t('a local set over REST is what the element\'s output parameters read when it completes'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'lv-office', round: 1 });
    const [task] = await taskOf(id);
    const base = `/engine-rest/execution/${task.executionId}/localVariables`;
    t.is((await c.office.put(`${base}/fixed`, { value: '改过', type: 'String' })).status, 204);
    const mod = await c.office.post(base, { modifications: { extra: { value: 3, type: 'Integer' } }, deletions: ['meta'] });
    t.is(mod.status, 204, JSON.stringify(mod.body));
    const after = (await c.office.get(base)).body;
    t.is(after.fixed.value, '改过');
    t.deepEqual(after.extra, { value: 3, type: 'Integer', valueInfo: {} });
    t.false('meta' in after);
    t.is((await c.office.delete(`${base}/extra`)).status, 204);
    t.false('extra' in (await c.office.get(base)).body);
    const [changed] = await c.server.db('trace').where({ operation: 'ModifyVariables', entity_type: 'Execution', entity_id: task.executionId }).orderBy('id');
    t.is(changed.process_instance_id, id);

    const done = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { approved: { value: true } } });
    t.is(done.status, 204, JSON.stringify(done.body));
    t.deepEqual(JSON.parse((await variablesOf(c, id)).trail as string), ['改过', '第 2 轮'], 'the output parameter read the changed local');
    t.is((await c.office.get(base)).status, 404, 'the execution has ended');
  });

  test.serial(t('refused: sealed types and sensitive names, changing a loop variable, strangers; nothing is saved'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'lv-office', round: 1 });
    const [task] = await taskOf(id);
    const base = `/engine-rest/execution/${task.executionId}/localVariables`;
    const before = (await c.server.db('process_instances').where({ id }).first()).rev;
    const bytes = await c.office.put(`${base}/file`, { value: Buffer.from('x').toString('base64'), type: 'Bytes' });
    t.is(bytes.status, 400);
    t.regex(bytes.body.message, /unencrypted/);
    t.is((await c.office.put(`${base}/secret_id`, { value: 'x' })).status, 400);
    t.is((await c.office.put(`${base}/bad`, { value: 'x', type: 'Nope' })).status, 400);
    t.is((await c.server.db('process_instances').where({ id }).first()).rev, before, 'nothing saved');

    const stranger = await makeUser(c.server, 'lv-stranger', ['network-security']);
    t.is((await stranger.get(base)).status, 404);
    t.is((await stranger.put(`${base}/fixed`, { value: 'x' })).status, 404);
    t.is((await c.admin.get('/engine-rest/execution/nope/localVariables')).status, 404);
  });

  test.serial(t('a multi-instance iteration\'s element variable and loopCounter are its locals; the counters are the body\'s'), async (t) => {
    const id = await start(c, 'mi-parallel', { reviewers: ['lv-a', 'lv-b'] });
    const tasks = await taskOf(id);
    t.is(tasks.length, 2);
    const seen = [];
    for (const task of tasks) {
      const r = await c.admin.get(`/engine-rest/execution/${task.executionId}/localVariables`);
      t.is(r.status, 200);
      t.deepEqual(Object.keys(r.body).sort(), ['loopCounter', 'reviewer']);
      t.is(r.body.reviewer.value, task.assignee);
      seen.push(r.body.loopCounter.value);
    }
    t.deepEqual(seen.sort(), [0, 1]);
    const refused = await c.admin.put(`/engine-rest/execution/${tasks[0].executionId}/localVariables/reviewer`, { value: 'x' });
    t.is(refused.status, 400);
    t.regex(refused.body.message, /loop variable/);
  });
});

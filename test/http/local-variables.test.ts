import test from 'ava';
import { makeUser } from '../helpers/server.ts';
import { conformanceSuite, start, variablesOf } from '../conformance/events-kit.ts';

/*
 * Local variables over Camunda's REST: an execution's input parameters and a
 * multi-instance iteration's loop variables are read, set and deleted through
 * `/execution/{id}/localVariables`, and the engine sees what was set (the
 * output parameters read it when the task completes). A task's own
 * variables are read, set and deleted through `/task/{id}/localVariables`:
 * sealed as process variables are, shown by `/task/{id}/variables` over the
 * execution's and the instance's, and gone with the task.
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
    t.deepEqual((await c.office.get(`/engine-rest/task/${task.id}/localVariables`)).body, {}, 'no task-local variables yet');
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

  test.serial(t('a task\'s own variables: set, read, sealed, shown over the others by its variables, gone with the task, traced'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'lv-office', round: 1 });
    const [task] = await taskOf(id);
    const base = `/engine-rest/task/${task.id}/localVariables`;
    t.is((await c.office.put(`${base}/note`, { value: '先看附件', type: 'String' })).status, 204);
    const mod = await c.office.post(base, {
      modifications: { secret_id: { value: '110101', type: 'String' }, who: { value: '本任务', type: 'String' }, scan: { value: Buffer.from('扫描件').toString('base64'), type: 'Bytes' }, gone: { value: 1 } },
      deletions: [],
    });
    t.is(mod.status, 204, JSON.stringify(mod.body));
    t.is((await c.office.delete(`${base}/gone`)).status, 204);
    t.is((await c.office.delete(`${base}/never`)).status, 204, 'deleting a missing one is no error, as in Camunda');
    const all = (await c.office.get(base)).body;
    t.deepEqual(Object.keys(all).sort(), ['note', 'scan', 'secret_id', 'who']);
    t.deepEqual(all.note, { value: '先看附件', type: 'String', valueInfo: {} });
    t.deepEqual((await c.office.get(`${base}/secret_id`)).body, { value: '110101', type: 'String', valueInfo: {} });
    const data = await c.office.get(`${base}/scan/data`);
    t.is(data.status, 200);
    t.is(data.body, '扫描件');
    t.is((await c.office.get(`${base}/nope`)).status, 404);
    const rows = await c.server.db('task_variables').where({ task_id: task.id }).orderBy('name');
    t.deepEqual(rows.map((r: any) => [r.name, r.key_id != null]), [['note', false], ['scan', true], ['secret_id', true], ['who', false]], 'sensitive names and Bytes are sealed');
    t.false(JSON.stringify(rows).includes('110101'));

    const seen = (await c.office.get(`/engine-rest/task/${task.id}/variables`)).body;
    t.is(seen.who.value, '本任务', 'the task\'s own variable hides the process variable of that name');
    t.is(seen.fixed.value, '固定值', 'its execution\'s locals are seen');
    t.is(seen.round.value, 1, 'and the process variables');
    t.false('note' in (await variablesOf(c, id)), 'a task-local variable is not a process variable');
    t.is((await c.office.get(`/engine-rest/process-instance/${id}/variables/who`)).body.value, 'lv-office');

    const [changed] = await c.server.db('trace').where({ operation: 'ModifyVariables', entity_type: 'Task', entity_id: task.id }).orderBy('id');
    t.is(changed.process_instance_id, id);
    t.true(changed.details.local);
    const [read] = await c.server.db('trace').where({ operation: 'Read', entity_type: 'Variable', entity_id: task.id }).orderBy('id', 'desc').limit(1);
    t.is(read.process_instance_id, id, 'reading them is traced in the instance\'s chain');

    const done = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { approved: { value: true } } });
    t.is(done.status, 204, JSON.stringify(done.body));
    t.is((await variablesOf(c, id)).approved, true, 'completing with variables sets process variables');
    t.false('note' in (await variablesOf(c, id)));
    t.is((await c.office.get(base)).status, 404, 'the task\'s locals end with it');
    t.is((await c.office.put(`${base}/note`, { value: 'x' })).status, 404);
    t.is((await c.server.db('task_variables').where({ task_id: task.id })).length, 4, 'their rows stay, as history');
  });

  test.serial(t('a task\'s own variables: strangers see and change nothing; bad values are refused whole'), async (t) => {
    const id = await start(c, 'io-mapping', { who: 'lv-office', round: 1 });
    const [task] = await taskOf(id);
    const base = `/engine-rest/task/${task.id}/localVariables`;
    t.is((await c.office.put(`${base}/note`, { value: '内部' })).status, 204);
    const stranger = await makeUser(c.server, 'lv-stranger2', ['network-security']);
    t.is((await stranger.get(base)).status, 404);
    t.is((await stranger.get(`${base}/note`)).status, 404);
    t.is((await stranger.put(`${base}/note`, { value: 'x' })).status, 404);
    t.is((await stranger.post(base, { modifications: { x: { value: 1 } } })).status, 404);
    t.is((await stranger.delete(`${base}/note`)).status, 404);
    t.is((await c.admin.get('/engine-rest/task/nope/localVariables')).status, 404);
    const bad = await c.office.post(base, { modifications: { a: { value: 1 }, b: { value: 'x', type: 'Nope' } } });
    t.is(bad.status, 400);
    t.deepEqual(Object.keys((await c.office.get(base)).body), ['note'], 'nothing half-written');
    // Claimed by another: the office candidate may read but not change it.
    t.is((await c.admin.post(`/engine-rest/task/${task.id}/claim`, { userId: 'lv-office' })).status, 204);
    const other = await makeUser(c.server, 'lv-office2', ['office']);
    t.is((await other.get(`${base}/note`)).status, 200);
    t.is((await other.put(`${base}/note`, { value: 'x' })).status, 403);
    t.is((await c.office.get(`${base}/note`)).body.value, '内部');
  });
});

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { DEFAULT_KEY_ID, parseKeySpec } from '../../src/crypto/keyring.ts';
import { contextOf, open } from '../../src/crypto/envelope.ts';
import { makeDefinitionService } from '../../src/services/definitions.ts';
import { reencryptVariables } from '../../src/services/reencrypt.ts';
import { makeVariableVault } from '../../src/services/sealed-variables.ts';
import { ADMIN, client, makeUser, startTestServer, TEST_SM4_KEY, vars, type Client, type TestServer } from '../helpers/server.ts';

/* Camunda's task breadth (issue 18 item 4): comments changed and deleted, attachments, binary variable uploads, the candidate-group report. */

const PLAN = 'security-plan-approval';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; wang: Client; li: Client; leader: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      wang: await makeUser(server, 'wang-b', ['office']), li: await makeUser(server, 'li-b', ['office']),
      leader: await makeUser(server, 'leader-b', ['leading-group']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  async function newTask(businessKey: string): Promise<{ id: string; processInstanceId: string }> {
    const started = await c.wang.post(`/engine-rest/process-definition/key/${PLAN}/start`, { businessKey, variables: vars({ title: businessKey, planType: 'plan' }) });
    return (await c.wang.get(`/engine-rest/task?processInstanceId=${started.body.id}`)).body[0];
  }
  const traced = async (operation: string, entityId: string) =>
    c.server.db('trace').where({ operation, entity_id: entityId }).orderBy('id').select('user_id', 'details');
  const multipart = (who: string, password: string, url: string, form: FormData) =>
    fetch(`${c.server.url}/engine-rest${url}`, { method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${who}:${password}`).toString('base64')}` } });

  test.serial(t('comments: the author edits and deletes their own; others are refused; every change is traced with the words replaced'), async (t) => {
    const task = await newTask('comment-edit');
    const mine = (await c.wang.post(`/engine-rest/task/${task.id}/comment/create`, { message: '请补充附件' })).body;
    const theirs = (await c.li.post(`/engine-rest/task/${task.id}/comment/create`, { message: '已补充' })).body;
    t.like((await c.li.get(`/engine-rest/task/${task.id}/comment/${mine.id}`)).body, { id: mine.id, userId: 'wang-b', message: '请补充附件', taskId: task.id });
    t.is((await c.li.get(`/engine-rest/task/${task.id}/comment/no-such`)).status, 404);
    t.is((await c.leader.get(`/engine-rest/task/${task.id}/comment/${mine.id}`)).status, 404, 'an outsider does not learn the task exists');

    t.is((await c.li.put(`/engine-rest/task/${task.id}/comment`, { id: mine.id, message: '改掉' })).status, 403, 'not the author');
    t.is((await c.wang.put(`/engine-rest/task/${task.id}/comment`, { id: mine.id, message: '' })).status, 400);
    t.is((await c.wang.put(`/engine-rest/task/${task.id}/comment`, { id: 'no-such', message: 'x' })).status, 400, 'Camunda: an invalid comment id is 400');
    t.is((await c.wang.put(`/engine-rest/task/${task.id}/comment`, { id: mine.id, message: '请补充附件和说明' })).status, 204);
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/comment/${mine.id}`)).body.message, '请补充附件和说明');
    const [edit] = await traced('UpdateComment', task.id);
    t.like(edit, { user_id: 'wang-b', details: { commentId: mine.id, previousMessage: '请补充附件', message: '请补充附件和说明' } });

    t.is((await c.wang.delete(`/engine-rest/task/${task.id}/comment/${theirs.id}`)).status, 403);
    t.is((await c.wang.delete(`/engine-rest/task/${task.id}/comment`)).status, 403, 'deleting all is for administrators');
    t.is((await c.li.delete(`/engine-rest/task/${task.id}/comment/${theirs.id}`)).status, 204);
    t.is((await c.li.delete(`/engine-rest/task/${task.id}/comment/${theirs.id}`)).status, 400, 'gone');
    t.deepEqual((await traced('DeleteComment', task.id)).map((r) => r.details.deleted), [[{ commentId: theirs.id, author: 'li-b', taskId: task.id, message: '已补充' }]]);
    t.is((await c.admin.delete(`/engine-rest/task/${task.id}/comment`)).status, 204);
    t.deepEqual((await c.wang.get(`/engine-rest/task/${task.id}/comment`)).body, []);
    t.is((await traced('DeleteComment', task.id)).length, 2);
  });

  test.serial(t('once the task is done, its comments and attachments are the record: changes refused with 400'), async (t) => {
    const task = await newTask('comment-done');
    const note = (await c.wang.post(`/engine-rest/task/${task.id}/comment/create`, { message: '同意' })).body;
    const form = new FormData();
    form.set('url', 'https://example.org/plan');
    const link = (await (await multipart('wang-b', 'wang-b-password', `/task/${task.id}/attachment/create`, form)).json()) as { id: string };
    await c.wang.post(`/engine-rest/task/${task.id}/claim`, { userId: 'wang-b' });
    t.is((await c.wang.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: '年度规划', summary: '全年网络与数据安全建设规划草案' }) })).status, 204);
    t.is((await c.wang.put(`/engine-rest/task/${task.id}/comment`, { id: note.id, message: '改' })).status, 400);
    t.is((await c.wang.delete(`/engine-rest/task/${task.id}/comment/${note.id}`)).status, 400);
    t.is((await c.wang.delete(`/engine-rest/task/${task.id}/attachment/${link.id}`)).status, 400);
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/comment/${note.id}`)).body.message, '同意', 'still readable by who completed it');
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/attachment/${link.id}`)).status, 200);
  });

  test.serial(t('process-instance comments: its tasks\' comments, edited and deleted by the same rules, traced on the instance'), async (t) => {
    const task = await newTask('comment-pi');
    const pi = task.processInstanceId;
    const a = (await c.wang.post(`/engine-rest/task/${task.id}/comment/create`, { message: '第一条' })).body;
    const b = (await c.li.post(`/engine-rest/task/${task.id}/comment/create`, { message: '第二条' })).body;
    const list = await c.wang.get(`/engine-rest/process-instance/${pi}/comment`);
    t.is(list.status, 200);
    t.deepEqual(list.body.map((x: { id: string; processInstanceId: string }) => [x.id, x.processInstanceId]), [[a.id, pi], [b.id, pi]]);
    t.is((await c.leader.get(`/engine-rest/process-instance/${pi}/comment`)).status, 404);
    t.is((await c.li.put(`/engine-rest/process-instance/${pi}/comment`, { id: a.id, message: '改' })).status, 403);
    t.is((await c.wang.put(`/engine-rest/process-instance/${pi}/comment`, { id: a.id, message: '第一条（修订）' })).status, 204);
    t.like((await traced('UpdateComment', pi))[0], { details: { commentId: a.id, previousMessage: '第一条' } });
    t.is((await c.wang.delete(`/engine-rest/process-instance/${pi}/comment/${b.id}`)).status, 403);
    t.is((await c.li.delete(`/engine-rest/process-instance/${pi}/comment/${b.id}`)).status, 204);
    t.is((await c.li.delete(`/engine-rest/process-instance/${pi}/comment`)).status, 403);
    t.is((await c.admin.delete(`/engine-rest/process-instance/${pi}/comment`)).status, 204);
    t.deepEqual((await c.wang.get(`/engine-rest/process-instance/${pi}/comment`)).body, []);
    t.deepEqual((await traced('DeleteComment', pi)).map((r) => r.details.deleted.map((d: { message: string }) => d.message)), [['第二条'], ['第一条（修订）']]);
  });

  test.serial(t('attachments: content sealed, read back by who sees the task, deleted by who added it; links only http(s)'), async (t) => {
    const task = await newTask('attach');
    const form = new FormData();
    form.set('attachment-name', '备份清单.txt');
    form.set('attachment-description', '三月');
    form.set('attachment-type', 'text/plain');
    form.set('content', new Blob([Buffer.from('机密备份清单内容')]), 'list.txt');
    const created = await multipart('wang-b', 'wang-b-password', `/task/${task.id}/attachment/create`, form);
    t.is(created.status, 200);
    const a = (await created.json()) as { id: string };
    t.like(a, { name: '备份清单.txt', description: '三月', type: 'text/plain', taskId: task.id, url: null, rootProcessInstanceId: task.processInstanceId });
    const stored = await c.server.db('task_attachments').where({ id: a.id }).first();
    t.truthy(stored.key_id);
    t.false(JSON.stringify(stored.content).includes(Buffer.from('机密备份清单内容').toString('base64')), 'content is stored sealed');
    const data = await fetch(`${c.server.url}/engine-rest/task/${task.id}/attachment/${a.id}/data`, { headers: { Authorization: `Basic ${Buffer.from('li-b:li-b-password').toString('base64')}` } });
    t.is(data.status, 200);
    t.is(data.headers.get('content-type'), 'application/octet-stream');
    t.is(Buffer.from(await data.arrayBuffer()).toString('utf8'), '机密备份清单内容');
    const reads = await c.server.db('trace').where({ operation: 'Read', entity_type: 'Attachment', user_id: 'li-b' }).select('process_instance_id');
    t.deepEqual(reads.map((r) => r.process_instance_id), [task.processInstanceId], 'the read of the content is traced on its instance');
    t.is((await c.leader.get(`/engine-rest/task/${task.id}/attachment/${a.id}/data`)).status, 404);
    t.is((await c.leader.get(`/engine-rest/task/${task.id}/attachment`)).status, 404);

    const link = new FormData();
    link.set('attachment-name', '规范');
    link.set('url', 'https://example.org/spec');
    const linked = (await (await multipart('li-b', 'li-b-password', `/task/${task.id}/attachment/create`, link)).json()) as { id: string; url: string };
    t.is(linked.url, 'https://example.org/spec');
    t.is((await c.li.get(`/engine-rest/task/${task.id}/attachment/${linked.id}/data`)).status, 404, 'a link has no content');
    t.deepEqual((await c.wang.get(`/engine-rest/task/${task.id}/attachment`)).body.map((x: { id: string }) => x.id), [a.id, linked.id]);
    t.like((await c.wang.get(`/engine-rest/task/${task.id}/attachment/${linked.id}`)).body, { name: '规范', url: 'https://example.org/spec' });

    const bad = new FormData();
    bad.set('url', 'javascript:alert(1)');
    t.is((await multipart('li-b', 'li-b-password', `/task/${task.id}/attachment/create`, bad)).status, 400);
    const empty = new FormData();
    empty.set('attachment-name', '空');
    t.is((await multipart('li-b', 'li-b-password', `/task/${task.id}/attachment/create`, empty)).status, 400, 'no content and no url');
    t.is((await c.li.post(`/engine-rest/task/${task.id}/attachment/create`, { url: 'https://example.org' })).status, 415, 'multipart only');

    t.is((await c.li.delete(`/engine-rest/task/${task.id}/attachment/${a.id}`)).status, 403);
    t.is((await c.wang.delete(`/engine-rest/task/${task.id}/attachment/${a.id}`)).status, 204);
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/attachment/${a.id}`)).status, 404);
    t.is((await c.wang.delete(`/engine-rest/task/${task.id}/attachment/${a.id}`)).status, 404);
    t.like((await traced('DeleteAttachment', task.id))[0], { user_id: 'wang-b', details: { attachmentId: a.id, name: '备份清单.txt', addedBy: 'wang-b' } });
    t.like((await traced('AddAttachment', task.id))[0], { user_id: 'wang-b', details: { attachmentId: a.id } });
  });

  test.serial(t('binary variable uploads: Bytes and File through multipart, sealed like JSON-set ones, read back the same'), async (t) => {
    const task = await newTask('upload');
    const file = new FormData();
    file.set('data', new Blob([Buffer.from('扫描件')], { type: 'text/plain' }), 'scan.txt');
    file.set('valueType', 'File');
    t.is((await multipart('wang-b', 'wang-b-password', `/task/${task.id}/variables/scan/data`, file)).status, 204);
    const v = (await c.wang.get(`/engine-rest/task/${task.id}/variables/scan`)).body;
    t.like(v, { type: 'File', valueInfo: { filename: 'scan.txt', mimeType: 'text/plain' } });
    const back = await c.wang.get(`/engine-rest/process-instance/${task.processInstanceId}/variables/scan/data`);
    t.is(back.body, '扫描件');
    t.truthy((await c.server.db('variables').where({ process_instance_id: task.processInstanceId, name: 'scan' }).first()).key_id, 'sealed');

    const bytes = new FormData();
    bytes.set('data', new Blob([Buffer.from([0, 1, 2, 255])]), 'blob.bin');
    t.is((await multipart('wang-b', 'wang-b-password', `/process-instance/${task.processInstanceId}/variables/raw/data`, bytes)).status, 204);
    t.like((await c.wang.get(`/engine-rest/process-instance/${task.processInstanceId}/variables/raw`)).body, { type: 'Bytes', value: Buffer.from([0, 1, 2, 255]).toString('base64') });

    const local = new FormData();
    local.set('data', new Blob([Buffer.from('本地')]), 'l.bin');
    local.set('valueType', 'Bytes');
    t.is((await multipart('wang-b', 'wang-b-password', `/task/${task.id}/localVariables/mine/data`, local)).status, 204);
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/localVariables/mine/data`)).body, '本地');

    const java = new FormData();
    java.set('data', '["a"]');
    java.set('type', 'java.util.ArrayList<java.lang.Object>');
    const refused = await multipart('wang-b', 'wang-b-password', `/task/${task.id}/variables/list/data`, java);
    t.is(refused.status, 400);
    t.regex(((await refused.json()) as { message: string }).message, /type/);
    const odd = new FormData();
    odd.set('data', new Blob([Buffer.from('x')]), 'x');
    odd.set('valueType', 'String');
    t.is((await multipart('wang-b', 'wang-b-password', `/task/${task.id}/variables/x/data`, odd)).status, 400);
    t.is((await multipart('leader-b', 'leader-b-password', `/task/${task.id}/variables/x/data`, bytes)).status, 404, 'an outsider cannot write');
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/variables/x`)).status, 404, 'nothing half-written');
  });

  test.serial(t('candidate-group report: open unassigned tasks by candidate group, null for none; administrators and office only'), async (t) => {
    const before = (await c.admin.get('/engine-rest/task/report/candidate-group-count')).body as { groupName: string | null; taskCount: number }[];
    const office = (rows: typeof before) => rows.find((r) => r.groupName === 'office')?.taskCount ?? 0;
    const open = await newTask('report-1');
    const claimed = await newTask('report-2');
    await c.wang.post(`/engine-rest/task/${claimed.id}/claim`, { userId: 'wang-b' });
    const after = await c.wang.get('/engine-rest/task/report/candidate-group-count');
    t.is(after.status, 200);
    t.is(office(after.body), office(before) + 1, 'the claimed task no longer counts');
    const expected = await c.server.db('tasks').whereNull('end_time').whereNull('assignee').whereRaw("'office' = any(candidate_groups)").count({ n: '*' });
    t.is(office(after.body), Number(expected[0].n));
    await c.admin.post(`/engine-rest/task/${open.id}/identity-links/delete`, { groupId: 'office', type: 'candidate' });
    const none = (await c.admin.get('/engine-rest/task/report/candidate-group-count')).body as typeof before;
    t.true(none.some((r) => r.groupName === null && r.taskCount >= 1), 'a task offered to no group counts under null');
    t.is(none[0].groupName, null);
    t.is((await c.leader.get('/engine-rest/task/report/candidate-group-count')).status, 403);
    const csv = await c.admin.raw('GET', '/engine-rest/task/report/candidate-group-count', undefined, { Accept: 'text/csv' });
    t.is(csv.status, 200);
    t.regex(String(csv.body), /^CANDIDATE_GROUP_NAME,TASK_COUNT\n/);
    t.is((await c.admin.raw('GET', '/engine-rest/task/report/candidate-group-count', undefined, { Accept: 'image/png' })).status, 406);
    const reads = await c.server.db('trace').where({ operation: 'Read', user_id: 'wang-b' }).whereRaw("details->>'route' = ?", ['GET /engine-rest/task/report/candidate-group-count']);
    t.is(reads.length, 1, 'the report read is traced');
  });

  // Last: it moves this server's data to a key the server does not hold.
  test.serial(t('reencrypt moves attachment content to the current key, and it still opens'), async (t) => {
    const task = await newTask('attach-rotate');
    const form = new FormData();
    form.set('content', new Blob([Buffer.from('轮换前的附件')]), 'r.txt');
    const a = (await (await multipart('wang-b', 'wang-b-password', `/task/${task.id}/attachment/create`, form)).json()) as { id: string };
    const keyring = parseKeySpec(`k9:a9b8c7d6e5f4031224354657687a8b9c,${DEFAULT_KEY_ID}:${TEST_SM4_KEY}`);
    const result = await reencryptVariables(c.server.db, makeVariableVault(keyring), makeDefinitionService(c.server.db));
    t.is(result.remaining, 0);
    const row = await c.server.db('task_attachments').where({ id: a.id }).first();
    t.is(row.key_id, 'k9');
    t.is(open(keyring, row.content, contextOf('attachment', a.id, task.id)).toString('utf8'), '轮换前的附件');
  });

}

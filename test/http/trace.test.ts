import test from 'ava';
import { chainOf } from '../../src/services/trace.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { openTasks, startProcess } from '../helpers/scenario.ts';

const SECRET_VALUE = 'SECRET-VALUE-7f3a9c';

for (const backend of backends) {
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  test.before(async () => {
    s = await startTestServer(backend);
    await s.services.deployments.deploy(oneResource('with-form.bpmn', fixture('with-form.bpmn')));
    admin = client(s.url, ADMIN.user, ADMIN.password);
    office = await makeUser(s, 'office-trace', ['office']);
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const log = async (q: string) => (await admin.get(`/engine-rest/history/user-operation?${q}`)).body as Record<string, any>[];

  test.serial(t('a start, a claim, a read and a completion each leave their row: who, from where, what, never the values'), async (t) => {
    const started = await office.post('/engine-rest/process-definition/key/security-plan-approval/start', {
      businessKey: 'TRACE-1', variables: vars({ title: SECRET_VALUE, planType: 'plan' }),
    });
    t.is(started.status, 200);
    const id = started.body.id;
    const [task] = (await office.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is((await office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-trace' })).status, 204);
    t.is((await office.get(`/engine-rest/process-instance/${id}/variables`)).status, 200);
    t.is((await office.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: 'x', summary: '全年网络与数据安全建设规划草案' }) })).status, 204);

    const rows = await log('userId=office-trace&sortBy=timestamp&sortOrder=asc');
    t.deepEqual(rows.map((r) => `${r.operationType} ${r.entityType}`), [
      'Create ProcessInstance', 'Read Task', 'Claim Task', 'Read Variable', 'Complete Task',
    ]);
    const [create, readTasks, claim, readVars, complete] = rows;
    t.is(create.processInstanceId, id);
    t.deepEqual(create.details.variables, ['title', 'planType']);
    t.is(create.details.businessKey, 'TRACE-1');
    t.deepEqual(readTasks.details.ids, [task.id]);
    t.is(claim.taskId, task.id);
    t.is(claim.processInstanceId, id);
    t.deepEqual(readVars.details.variables.sort(), ['planType', 'title']);
    t.is(readVars.processInstanceId, id);
    t.deepEqual(complete.details.variables.sort(), ['summary', 'title']);
    for (const r of rows) {
      t.regex(r.source, /127\.0\.0\.1/, 'the caller\'s address');
      t.regex(r.timestamp, /\+0800$/);
      t.regex(r.hash, /^[0-9a-f]{64}$/);
    }
    const everything = JSON.stringify(await s.db('trace').select('*'));
    t.false(everything.includes(SECRET_VALUE), 'variable values are never traced');
    // Camunda's filters, and ours for reads.
    t.deepEqual((await log(`processInstanceId=${id}&operationType=Claim`)).map((r) => r.userId), ['office-trace']);
    t.deepEqual((await log('userId=office-trace&reads=true')).map((r) => `${r.operationType} ${r.entityType}`), ['Read Task', 'Read Variable']);
    t.deepEqual((await log('userId=office-trace&reads=false')).map((r) => r.operationType), ['Create', 'Claim', 'Complete']);
    t.is((await admin.get('/engine-rest/history/user-operation/count?userId=office-trace')).body.count, 5);
    t.is((await admin.get(`/engine-rest/history/user-operation?afterTimestamp=${encodeURIComponent('2999-01-01T00:00:00.000+0800')}`)).body.length, 0);
    t.is((await admin.get('/engine-rest/history/user-operation?afterTimestamp=soon')).status, 400);
    t.is((await office.get('/engine-rest/history/user-operation')).status, 403, 'only administrators read the trace');
  });

  test.serial(t('every read of an instance\'s data is found by its processInstanceId, and lies in that instance\'s chain'), async (t) => {
    const start = async (title: string) => (await office.post('/engine-rest/process-definition/key/security-plan-approval/start', { variables: vars({ title, planType: 'plan' }) })).body.id as string;
    const [x, y] = [await start('甲'), await start('乙')];
    const taskOf = async (pi: string) => (await office.get(`/engine-rest/task?processInstanceId=${pi}`)).body[0].id as string;
    const [tx, ty] = [await taskOf(x), await taskOf(y)];
    t.is((await office.post(`/engine-rest/task/${tx}/comment/create`, { message: '请补充' })).status, 200);
    const before = Number((await s.db('trace').max({ id: 'id' }))[0].id);
    // Reads of x's data, by every kind of route that serves it.
    const ofX = [
      `/task?processInstanceId=${x}`, `/task/${tx}`, `/task/${tx}/variables`, `/task/${tx}/variables/title`, `/task/${tx}/form-variables`,
      `/task/${tx}/comment`, `/process-instance/${x}`, `/process-instance/${x}/variables`, `/history/process-instance?processInstanceId=${x}`,
      `/history/variable-instance?processInstanceId=${x}`, `/history/task?processInstanceId=${x}`,
      `/history/activity-instance?processInstanceId=${x}`, `/history/incident?processInstanceId=${x}`, `/incident?processInstanceId=${x}`,
    ];
    for (const url of ofX) t.is((await office.get(`/engine-rest${url}`)).status, 200, url);
    t.is((await office.post('/engine-rest/task', { processInstanceId: x })).status, 200);
    // A list that holds both instances, and reads of y alone.
    t.is((await office.get('/engine-rest/task?candidateGroup=office')).status, 200);
    t.is((await office.get(`/engine-rest/task/${ty}/variables`)).status, 200);

    const rows = (await log(`processInstanceId=${x}&reads=true&userId=office-trace`)).filter((r) => Number(r.id) > before);
    const routeOf = (r: Record<string, any>) => `${r.details.route.replace(' /engine-rest/', ' /')}${r.details.query ? `?${r.details.query}` : ''}`;
    t.deepEqual(rows.map(routeOf), [
      'GET /task?processInstanceId=:x', 'GET /task/:id', 'GET /task/:id/variables', 'GET /task/:id/variables/:name', 'GET /task/:id/form-variables',
      'GET /task/:id/comment', 'GET /process-instance/:id', 'GET /process-instance/:id/variables', 'GET /history/process-instance?processInstanceId=:x',
      'GET /history/variable-instance?processInstanceId=:x', 'GET /history/task?processInstanceId=:x',
      'GET /history/activity-instance?processInstanceId=:x', 'GET /history/incident?processInstanceId=:x', 'GET /incident?processInstanceId=:x',
      'POST /task', 'GET /task?candidateGroup=office',
    ].map((r) => r.replace(':x', x)));
    for (const r of rows.slice(0, -1)) t.is(r.processInstanceId, x, r.details.route);
    const both = rows[rows.length - 1];
    t.is(both.processInstanceId, null, 'a list of several instances names them in its details');
    t.true(both.details.processInstanceIds.includes(x) && both.details.processInstanceIds.includes(y));
    // One instance's rows form one chain (reads of several instances go by user).
    const chains = await s.db('trace').where({ process_instance_id: x }).distinct('chain');
    t.deepEqual(chains.map((c: { chain: number }) => Number(c.chain)), [chainOf(x)]);
  });

  test.serial(t('a download of a Bytes or File variable names the variable, never its content'), async (t) => {
    const pi = await startProcess(office, 'security-plan-approval', { title: '丙', planType: 'plan' });
    const [task] = await openTasks(office, pi);
    const content = Buffer.from(`扫描件 ${SECRET_VALUE}`).toString('base64');
    t.is((await admin.put(`/engine-rest/process-instance/${pi}/variables/scan`, { type: 'File', value: content, valueInfo: { filename: 'scan.pdf', mimeType: 'application/pdf' } })).status, 204);
    const before = Number((await s.db('trace').max({ id: 'id' }))[0].id);
    for (const url of [`/process-instance/${pi}/variables/scan/data`, `/task/${task.id}/variables/scan/data`]) {
      const r = await office.get(`/engine-rest${url}`);
      t.is(r.status, 200, url);
      t.true(String(r.body).includes(SECRET_VALUE), 'the download is the content');
    }
    const rows = (await log(`userId=office-trace&reads=true&processInstanceId=${pi}`)).filter((r) => Number(r.id) > before);
    t.deepEqual(rows.map((r) => [r.details.route, r.details.variables, r.processInstanceId]), [
      ['GET /engine-rest/process-instance/:id/variables/:name/data', ['scan'], pi],
      ['GET /engine-rest/task/:id/variables/:name/data', ['scan'], pi],
    ]);
    t.false(JSON.stringify(await s.db('trace').where('id', '>', before)).includes(SECRET_VALUE));
  });

  test.serial(t('failed and locked-out logins, user changes and tokens are traced without passwords or token secrets'), async (t) => {
    t.is((await client(s.url, 'office-trace', 'wrong-password').get('/engine-rest/task')).status, 401);
    const [failure] = await log('operationType=LoginFailure&userId=office-trace');
    t.is(failure.entityType, 'User');
    t.regex(failure.source, /127\.0\.0\.1/);
    t.is((await admin.post('/engine-rest/user/create', { profile: { id: 'new-user' }, credentials: { password: 'pa55word-secret-1' } })).status, 204);
    t.is((await admin.put('/engine-rest/group/office/members/new-user')).status, 204);
    const token = (await office.post('/engine-rest/token', { name: 'cli' })).body.token as string;
    t.deepEqual((await log('userId=admin&reads=false&entityType=User&entityId=new-user')).map((r) => r.operationType), ['Create']);
    t.deepEqual((await log('entityType=Group&operationType=AddMember')).map((r) => r.details.userId), ['office-trace', 'new-user'], 'the set-up membership, then this one');
    t.is((await log('entityType=Token&operationType=Create')).length, 1);
    const everything = JSON.stringify(await s.db('trace').select('*'));
    t.false(everything.includes('pa55word-secret-1'));
    t.false(everything.includes(token));
    t.false(everything.includes('wrong-password'));
  });

  test.serial(t('the chain verifies; an edited, deleted or reordered row is reported at that row'), async (t) => {
    const ok = (await admin.get('/engine-rest/trace/verify')).body;
    t.true(ok.ok);
    t.true(ok.rows > 10);
    t.is((await office.get('/engine-rest/trace/verify')).status, 403);
    // The trace is several chains (one per group of process instances); tamper within the longest.
    const [{ chain }] = (await s.db('trace').select('chain').count({ n: '*' }).groupBy('chain').orderBy('n', 'desc').limit(1)) as { chain: number }[];
    const rows = await s.db('trace').where({ chain }).orderBy('id').select('*');
    t.true(rows.length >= 7);
    const victim = rows[3];
    // Edited.
    await s.db('trace').where({ id: victim.id }).update({ user_id: 'someone-else' });
    let report = (await admin.get('/engine-rest/trace/verify')).body;
    t.false(report.ok);
    t.is(String(report.broken.id), String(victim.id));
    t.regex(report.broken.reason, /edited/);
    await s.db('trace').where({ id: victim.id }).update({ user_id: victim.user_id });
    t.true((await admin.get('/engine-rest/trace/verify')).body.ok, 'restored');
    // Deleted: the next row no longer links.
    await s.db('trace').where({ id: victim.id }).delete();
    report = (await admin.get('/engine-rest/trace/verify')).body;
    t.is(String(report.broken.id), String(rows[4].id));
    t.regex(report.broken.reason, /deleted/);
    await s.db.raw('insert into trace overriding system value select * from json_populate_record(null::trace, ?::json)', [JSON.stringify(victim)]);
    t.true((await admin.get('/engine-rest/trace/verify')).body.ok, 'restored');
    // Reordered: two rows swap places.
    const [a, b] = [rows[5], rows[6]];
    const content = (r: Record<string, unknown>) => ({ chain: r.chain, time: r.time, user_id: r.user_id, source: r.source, operation: r.operation, entity_type: r.entity_type, entity_id: r.entity_id, process_instance_id: r.process_instance_id, details: JSON.stringify(r.details), prev_hash: r.prev_hash, hash: r.hash });
    await s.db('trace').where({ id: a.id }).update(content(b));
    await s.db('trace').where({ id: b.id }).update(content(a));
    report = (await admin.get('/engine-rest/trace/verify')).body;
    t.is(String(report.broken.id), String(a.id));
    await s.db('trace').where({ id: a.id }).update(content(a));
    await s.db('trace').where({ id: b.id }).update(content(b));
    t.true((await admin.get('/engine-rest/trace/verify')).body.ok);
  });
}

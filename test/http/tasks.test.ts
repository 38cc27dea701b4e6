import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

const PLAN = 'security-plan-approval';

for (const backend of backends) {
  // One context per backend: ava's t.context is shared by the whole file.
  let c!: { server: TestServer; office: Client; office2: Client; leader: Client; network: Client; admin: Client };
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    const server = await startTestServer(backend);
    c = {
      server,
      admin: client(server.url, ADMIN.user, ADMIN.password),
      office: await makeUser(server, 'office-wang', ['office']),
      office2: await makeUser(server, 'office-li', ['office']),
      leader: await makeUser(server, 'leader-zhao', ['leading-group']),
      network: await makeUser(server, 'net-chen', ['network-security']),
    };
  });
  test.after.always(async () => c?.server.stop());

  async function startPlan(c: Client, businessKey: string) {
    const r = await c.post(`/engine-rest/process-definition/key/${PLAN}/start`, {
      businessKey, variables: vars({ title: `规划 ${businessKey}`, planType: 'plan' }),
    });
    if (r.status !== 200) throw new Error(`start failed: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  }

  async function taskOf(c: Client, instanceId: string) {
    const r = await c.get(`/engine-rest/task?processInstanceId=${instanceId}`);
    return r.body[0];
  }

  test.serial(t('a started plan offers its draft task to the office inbox only'), async (t) => {
    const { office, leader, network } = c;
    const id = await startPlan(office, 'inbox-1');
    const inbox = await office.get(`/engine-rest/task?candidateGroup=office&processInstanceId=${id}`);
    t.is(inbox.status, 200);
    t.is(inbox.headers.get('content-type'), 'application/json');
    t.is(inbox.body.length, 1);
    t.is(inbox.body[0].taskDefinitionKey, 'draftPlan');
    t.is(inbox.body[0].name, '起草规划');
    t.deepEqual(inbox.body[0].candidateGroups, ['office']);
    t.regex(inbox.body[0].created, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d{4}$/);
    t.deepEqual((await leader.get(`/engine-rest/task?processInstanceId=${id}`)).body, []);
    t.deepEqual((await network.get(`/engine-rest/task?candidateGroup=office&processInstanceId=${id}`)).body, []);
    const taskId = inbox.body[0].id;
    t.is((await network.get(`/engine-rest/task/${taskId}`)).status, 404);
    t.is((await network.post(`/engine-rest/task/${taskId}/claim`, { userId: 'net-chen' })).status, 404);
    t.is((await network.post(`/engine-rest/task/${taskId}/complete`, {})).status, 404);
    t.is((await office.get(`/engine-rest/task/count?candidateGroup=office&processInstanceId=${id}`)).body.count, 1);
  });

  test.serial(t('claim moves a task from the group inbox to the assignee; unclaim returns it'), async (t) => {
    const { office, office2 } = c;
    const id = await startPlan(office, 'claim-1');
    const task = await taskOf(office, id);
    t.is((await office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-wang' })).status, 204);
    t.deepEqual((await office.get(`/engine-rest/task?candidateGroup=office&processInstanceId=${id}`)).body, []);
    const withAssigned = await office.get(`/engine-rest/task?candidateGroup=office&includeAssignedTasks=true&processInstanceId=${id}`);
    t.is(withAssigned.body.length, 1);
    const mine = await office.get(`/engine-rest/task?assignee=office-wang&processInstanceId=${id}`);
    t.is(mine.body[0].assignee, 'office-wang');
    t.is((await office.get(`/engine-rest/task?unassigned=true&processInstanceId=${id}`)).body.length, 0);
    // Someone else in the group can see it but neither claim nor complete it.
    const taken = await office2.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-li' });
    t.is(taken.status, 409);
    t.is(taken.body.type, 'TaskAlreadyClaimedException');
    t.is((await office2.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: 'x', summary: '0123456789 x' }) })).status, 403);
    t.is((await office2.post(`/engine-rest/task/${task.id}/unclaim`)).status, 403);
    t.is((await office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-li' })).status, 403);
    t.is((await office.post(`/engine-rest/task/${task.id}/unclaim`)).status, 204);
    t.is((await office2.get(`/engine-rest/task?candidateUser=office-li&processInstanceId=${id}`)).body.length, 1);
  });

  test.serial(t('complete enforces the form: required fields, enum options, lengths'), async (t) => {
    const { office } = c;
    const id = await startPlan(office, 'form-1');
    const task = await taskOf(office, id);
    const missing = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: '规划' }) });
    t.is(missing.status, 400);
    t.is(missing.body.type, 'FormFieldValidationException');
    t.regex(missing.body.message, /summary/);
    t.regex(missing.body.message, /必填/);
    const short = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: '规划', summary: '太短' }) });
    t.is(short.status, 400);
    t.regex(short.body.message, /至少 10/);
    t.is((await taskOf(office, id)).id, task.id, 'a refused completion loses nothing');
    const ok = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: '规划', summary: '本年度网络安全规划草案全文' }) });
    t.is(ok.status, 204);
    const review = await taskOf(office, id);
    t.is(review.taskDefinitionKey, 'reviewDraft');
    const badEnum = await office.post(`/engine-rest/task/${review.id}/complete`, { variables: vars({ reviewResult: 'maybe' }) });
    t.is(badEnum.status, 400);
    t.regex(badEnum.body.message, /submit/);
  });

  test.serial(t('bad input is answered 400 with a message, never 500'), async (t) => {
    const { office } = c;
    const id = await startPlan(office, 'bad-1');
    const task = await taskOf(office, id);
    const unknownType = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: { title: { value: 'x', type: 'Blob' } } });
    t.is(unknownType.status, 400);
    t.regex(unknownType.body.message, /Blob/);
    const badInt = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: { n: { value: 'abc', type: 'Integer' } } });
    t.is(badInt.status, 400);
    t.regex(badInt.body.message, /n/);
    const malformed = await office.raw('POST', `/engine-rest/task/${task.id}/complete`, '{"variables": {', { 'Content-Type': 'application/json' });
    t.is(malformed.status, 400);
    t.is(malformed.body.type, 'InvalidRequestException');
    t.regex(malformed.body.message, /JSON/);
    const notObject = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: [1, 2] });
    t.is(notObject.status, 400);
    t.is((await office.post('/engine-rest/task/00000000-0000-0000-0000-000000000000/complete', {})).status, 404);
    t.is((await office.get('/engine-rest/task?sortBy=nonsense&sortOrder=asc')).status, 400);
    t.is((await office.get('/engine-rest/task?maxResults=-1')).status, 400);
    t.is((await office.post('/engine-rest/process-definition/key/no-such-process/start', {})).status, 404);
    // Numbers and dates the database cannot hold are the client's mistake: 400 naming the parameter.
    for (const [method, url, body, param] of [
      ['GET', '/engine-rest/task?minPriority=3000000000', undefined, 'minPriority'],
      ['GET', '/engine-rest/task?maxResults=99999999999', undefined, 'maxResults'],
      ['POST', '/engine-rest/task', { minPriority: 3000000000 }, 'minPriority'],
      ['GET', '/engine-rest/task?dueBefore=-200000-01-01T00:00:00Z', undefined, 'dueBefore'],
      ['POST', '/engine-rest/task', { dueAfter: '+275000-01-01T00:00:00Z' }, 'dueAfter'],
      ['PUT', `/engine-rest/task/${task.id}`, { priority: 1e12 }, 'priority'],
      ['PUT', `/engine-rest/task/${task.id}`, { due: '-200000-01-01T00:00:00Z' }, 'due'],
    ] as const) {
      const r = await office.raw(method, url, body);
      t.is(r.status, 400, `${method} ${url} ${JSON.stringify(body)} → ${r.status} ${JSON.stringify(r.body)}`);
      t.regex(r.body.message, new RegExp(`\\b${param}\\b`), `the message names ${param}`);
    }
    const lowerCase = await office.post(`/engine-rest/task/${task.id}/complete`, {
      variables: { title: { value: '规划', type: 'string' }, summary: { value: '本年度网络安全规划草案全文', type: 'String' }, pages: { value: 12, type: 'integer' } },
    });
    t.is(lowerCase.status, 204, 'type names are accepted in either initial case');
    const v = await office.get(`/engine-rest/process-instance/${id}/variables`);
    t.deepEqual(v.body.pages, { value: 12, type: 'Integer', valueInfo: {} });
  });

  test.serial(t('authentication: none or wrong credentials get 401, /health is open'), async (t) => {
    const { server } = c;
    const anon = client(server.url);
    const r = await anon.get('/engine-rest/task');
    t.is(r.status, 401);
    t.is(r.body.type, 'AuthenticationException');
    t.truthy(r.headers.get('www-authenticate'));
    t.is((await anon.get('/engine-rest/deployment?maxResults=0')).status, 401);
    t.is((await client(server.url, 'office-wang', 'wrong-password').get('/engine-rest/task')).status, 401);
    t.is((await client(server.url, 'nobody', 'whatever-pass').get('/engine-rest/task')).status, 401);
    t.is((await anon.raw('GET', '/engine-rest/task', undefined, { Authorization: 'Basic !!!' })).status, 401);
    const health = await anon.get('/health');
    t.is(health.status, 200);
    t.is(health.body.status, 'UP');
  });

  test.serial(t('only administrators manage users and groups'), async (t) => {
    const { office, admin } = c;
    t.is((await office.post('/engine-rest/user/create', { profile: { id: 'mallory' }, credentials: { password: 'long-enough-1' } })).status, 403);
    t.is((await office.post('/engine-rest/group/create', { id: 'rogue' })).status, 403);
    t.is((await office.put('/engine-rest/group/leading-group/members/office-wang')).status, 403);
    const weak = await admin.post('/engine-rest/user/create', { profile: { id: 'weak' }, credentials: { password: 'short' } });
    t.is(weak.status, 400);
    for (const password of ['abcdefghij', '1234567890', 'aaaaaaaa1']) {
      const r = await admin.post('/engine-rest/user/create', { profile: { id: 'weak' }, credentials: { password } });
      t.is(r.status, 400, password);
      t.regex(r.body.message, /密码/);
    }
    t.is((await admin.get('/engine-rest/user?id=weak')).body.length, 0, 'nothing created');
    const dup = await admin.post('/engine-rest/user/create', { profile: { id: 'office-wang' }, credentials: { password: 'long-enough-1' } });
    t.is(dup.status, 409);
    const users = await admin.get('/engine-rest/user?memberOfGroup=office');
    t.deepEqual(users.body.map((u: { id: string }) => u.id).sort(), ['office-li', 'office-wang']);
    t.false(JSON.stringify(users.body).includes('scrypt'), 'password hashes never leave the server');
  });

  test.serial(t('form-variables lists the task form with current values and defaults'), async (t) => {
    const { office, network } = c;
    const id = await startPlan(office, 'formvars-1');
    const task = await taskOf(office, id);
    const r = await office.get(`/engine-rest/task/${task.id}/form-variables`);
    t.is(r.status, 200);
    t.deepEqual(Object.keys(r.body), ['title', 'summary', 'draftDocument']);
    t.deepEqual(r.body.title, { value: '规划 formvars-1', type: 'String', valueInfo: {} });
    t.is(r.body.summary.value, null);
    t.deepEqual(Object.keys((await office.get(`/engine-rest/task/${task.id}/form-variables?variableNames=summary`)).body), ['summary']);
    t.is((await network.get(`/engine-rest/task/${task.id}/form-variables`)).status, 404);
  });

  test.serial(t('finished and unfinished instances are told apart in history'), async (t) => {
    const { office, admin } = c;
    const id = await startPlan(office, 'hist-1');
    const unfinished = (await admin.get(`/engine-rest/history/process-instance?unfinished=true&processDefinitionKey=${PLAN}`)).body;
    t.true(unfinished.some((h: { id: string }) => h.id === id));
    const finished = (await admin.get(`/engine-rest/history/process-instance?finished=true&processDefinitionKey=${PLAN}`)).body;
    t.false(finished.some((h: { id: string }) => h.id === id));
    t.true((await office.get('/engine-rest/process-instance?businessKey=hist-1')).body.some((i: { id: string }) => i.id === id));
    // Search by part of the business key, and counts that agree with the lists.
    t.deepEqual((await office.get('/engine-rest/process-instance?businessKeyLike=hist-%25')).body.map((i: { id: string }) => i.id), [id]);
    t.deepEqual((await office.get('/engine-rest/history/process-instance?processInstanceBusinessKeyLike=%25ist-1')).body.map((i: { id: string }) => i.id), [id]);
    t.is((await office.get('/engine-rest/history/process-instance/count?processInstanceBusinessKeyLike=hist%25&unfinished=true')).body.count, 1);
    t.is((await office.get('/engine-rest/history/process-instance/count?processInstanceBusinessKeyLike=hist%25&finished=true')).body.count, 0);
    t.is((await c.network.get('/engine-rest/history/process-instance/count?processInstanceBusinessKeyLike=hist%25')).body.count, 0, 'not theirs to see');
    t.is((await admin.get(`/engine-rest/history/process-instance/count?processDefinitionKey=${PLAN}`)).body.count,
      (await admin.get(`/engine-rest/history/process-instance?processDefinitionKey=${PLAN}`)).body.length);
  });

  test.serial(t('withVariablesInReturn returns typed variables on start and on complete'), async (t) => {
    const { office } = c;
    const started = await office.post(`/engine-rest/process-definition/key/${PLAN}/start`, {
      variables: { title: { value: '带返回', type: 'String' }, planType: { value: 'rules', type: 'String' }, due: { value: '2026-12-01T09:00:00.000+0800', type: 'Date' } },
      withVariablesInReturn: true,
    });
    t.is(started.status, 200);
    t.deepEqual(started.body.variables.due, { value: '2026-12-01T09:00:00.000+0800', type: 'Date', valueInfo: {} });
    const task = await taskOf(office, started.body.id);
    const done = await office.post(`/engine-rest/task/${task.id}/complete`, {
      variables: { title: { value: '带返回' }, summary: { value: '返回变量的规划草案正文' }, meta: { value: '{"pages":3}', type: 'Json' } },
      withVariablesInReturn: true,
    });
    t.is(done.status, 200);
    t.is(done.body.summary.value, '返回变量的规划草案正文');
    t.deepEqual(done.body.meta, { value: '{"pages":3}', type: 'Json', valueInfo: {} });
    // What came back was read: traced as a read of those variables, in the instance's chain, like a GET of them.
    const reads = await c.server.db('trace').where({ operation: 'Read', entity_type: 'Variable', user_id: 'office-wang', process_instance_id: started.body.id });
    const routes = reads.map((r: { details: unknown }) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details) as { route: string; variables: string[] });
    const onStart = routes.find((d) => d.route.endsWith('/start'));
    const onComplete = routes.find((d) => d.route === 'POST /engine-rest/task/:id/complete');
    t.truthy(onStart?.variables.includes('due'), JSON.stringify(routes));
    t.truthy(onComplete?.variables.includes('summary'), JSON.stringify(routes));
  });

  test.serial(t('process-instance list pages and counts in the database'), async (t) => {
    const { office } = c;
    for (const k of ['page-1', 'page-2', 'page-3']) await startPlan(office, k);
    const all = (await office.get(`/engine-rest/process-instance?processDefinitionKey=${PLAN}`)).body;
    const count = (await office.get(`/engine-rest/process-instance/count?processDefinitionKey=${PLAN}`)).body.count;
    t.is(count, all.length);
    t.true(count >= 3);
    const page = (await office.get(`/engine-rest/process-instance?processDefinitionKey=${PLAN}&firstResult=1&maxResults=2`)).body;
    t.deepEqual(page.map((i: { id: string }) => i.id), all.slice(1, 3).map((i: { id: string }) => i.id));
    t.is((await c.network.get(`/engine-rest/process-instance/count?processDefinitionKey=${PLAN}`)).body.count, 0);
  });

  test.serial(t('inbox queries: candidateGroups, processDefinitionKey, sorting and paging'), async (t) => {
    const { office, leader, admin } = c;
    const ids = [];
    for (const k of ['sort-1', 'sort-2', 'sort-3']) ids.push(await startPlan(office, k));
    const q = `processDefinitionKey=${PLAN}&candidateGroups=office,leading-group`;
    const all = (await office.get(`/engine-rest/task?${q}&sortBy=created&sortOrder=asc`)).body;
    t.true(ids.every((id) => all.some((x: { processInstanceId: string }) => x.processInstanceId === id)));
    const created = all.map((x: { created: string }) => x.created);
    t.deepEqual(created, [...created].sort());
    const desc = (await office.get(`/engine-rest/task?${q}&sortBy=created&sortOrder=desc`)).body;
    t.deepEqual(desc.map((x: { id: string }) => x.id), [...all].reverse().map((x: { id: string }) => x.id));
    const page = (await office.get(`/engine-rest/task?${q}&sortBy=created&sortOrder=asc&firstResult=1&maxResults=2`)).body;
    t.deepEqual(page.map((x: { id: string }) => x.id), all.slice(1, 3).map((x: { id: string }) => x.id));
    t.is((await office.get(`/engine-rest/task/count?${q}`)).body.count, all.length);
    t.deepEqual((await office.get('/engine-rest/task?processDefinitionKey=no-such-key')).body, []);
    // The leading group has none of these yet; an administrator sees them all without being a candidate.
    t.deepEqual((await leader.get(`/engine-rest/task?processDefinitionKey=${PLAN}`)).body, []);
    t.is((await admin.get(`/engine-rest/task/count?processDefinitionKey=${PLAN}`)).body.count >= all.length, true);
    t.is((await office.get('/engine-rest/task?sortBy=created')).status, 400, 'sortBy without sortOrder');
  });

  test.serial(t('inbox filters: due before/after, without due date, priority bounds; GET and POST agree'), async (t) => {
    const { office } = c;
    const [a, b, n] = [await startPlan(office, 'due-a'), await startPlan(office, 'due-b'), await startPlan(office, 'due-none')];
    const [ta, tb, tn] = [await taskOf(office, a), await taskOf(office, b), await taskOf(office, n)];
    t.is((await office.put(`/engine-rest/task/${ta.id}`, { name: ta.name, due: '2026-03-01T09:00:00.000+0800', priority: 90 })).status, 204);
    t.is((await office.put(`/engine-rest/task/${tb.id}`, { name: tb.name, due: '2026-06-01T09:00:00.000+0800', priority: 10 })).status, 204);
    const ours = (rows: { id: string }[]) => rows.map((x) => x.id).filter((id) => [ta.id, tb.id, tn.id].includes(id)).sort();
    const get = async (q: string) => ours((await office.get(`/engine-rest/task?processDefinitionKey=${PLAN}&${q}`)).body);
    const post = async (q: Record<string, unknown>) => ours((await office.post('/engine-rest/task', { processDefinitionKey: PLAN, ...q })).body);
    t.deepEqual(await get('dueBefore=2026-04-01T00:00:00.000%2B0800'), [ta.id]);
    t.deepEqual(await post({ dueBefore: '2026-04-01T00:00:00.000+0800' }), [ta.id]);
    t.deepEqual(await get('dueAfter=2026-04-01T00:00:00.000%2B0800'), [tb.id]);
    t.deepEqual(await post({ dueAfter: '2026-04-01T00:00:00.000+0800' }), [tb.id]);
    t.true((await get('withoutDueDate=true')).includes(tn.id));
    t.false((await get('withoutDueDate=true')).includes(ta.id));
    t.deepEqual(await get('minPriority=60'), [ta.id]);
    t.deepEqual(await post({ minPriority: 60 }), [ta.id]);
    const low = await get('maxPriority=20');
    t.true(low.includes(tb.id) && !low.includes(ta.id) && !low.includes(tn.id), 'default priority is 50');
    t.is((await office.get('/engine-rest/task?dueBefore=soon')).status, 400);
    t.is((await office.post('/engine-rest/task', { minPriority: 'high' })).status, 400);
    t.is((await office.post('/engine-rest/task/count', { processDefinitionKey: PLAN, dueBefore: '2026-04-01T00:00:00.000+0800', minPriority: 60 })).body.count, 1);
  });

  test.serial(t('armed timers: staff list those of the instances they may see; only administrators fire them'), async (t) => {
    const { office, leader, network, admin } = c;
    const id = await startPlan(office, 'timer-1');
    for (const [field, values] of [['draftPlan', { title: '规划 timer-1', planType: 'plan', summary: '全年网络与数据安全建设规划草案' }], ['reviewDraft', { reviewResult: 'submit' }]] as const) {
      const task = await taskOf(office, id);
      t.is(task.taskDefinitionKey, field);
      t.is((await office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-wang' })).status, 204);
      t.is((await office.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) })).status, 204);
    }
    // The leading group's decision now carries its reminder timer.
    const jobs = (await office.get(`/engine-rest/job?processInstanceId=${id}`)).body;
    t.is(jobs.length, 1);
    t.is(jobs[0].processInstanceId, id);
    t.is((await leader.get(`/engine-rest/job?processInstanceId=${id}`)).body.length, 1, 'the leading group has the decision task');
    t.deepEqual((await network.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'not their instance');
    t.is((await network.get(`/engine-rest/job/count?processInstanceId=${id}`)).body.count, 0);
    t.is((await network.get(`/engine-rest/job/${jobs[0].id}`)).status, 404);
    t.is((await office.get(`/engine-rest/job/${jobs[0].id}`)).body.id, jobs[0].id);
    t.is((await office.post(`/engine-rest/job/${jobs[0].id}/execute`, {})).status, 403);
    t.is((await office.put(`/engine-rest/job/${jobs[0].id}/duedate`, { duedate: '2030-01-01T00:00:00.000+0800' })).status, 403);
    t.true((await admin.get('/engine-rest/job/count')).body.count >= 1);

    // The leading group decides; the office, which may see the instance, reads who did what in its history.
    t.deepEqual((await office.get(`/engine-rest/task?processInstanceId=${id}`)).body, [], 'the open decision is not in the office inbox');
    const [decision] = (await leader.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is((await leader.post(`/engine-rest/task/${decision.id}/claim`, { userId: 'leader-zhao' })).status, 204);
    t.is((await leader.post(`/engine-rest/task/${decision.id}/complete`, { variables: vars({ decision: 'reject' }) })).status, 204);
    const story = (await office.get(`/engine-rest/history/task?processInstanceId=${id}&sortBy=startTime&sortOrder=asc`)).body
      .map((x: { taskDefinitionKey: string; completedBy: string }) => [x.taskDefinitionKey, x.completedBy]);
    t.deepEqual(story, [['draftPlan', 'office-wang'], ['reviewDraft', 'office-wang'], ['leadingGroupDecision', 'leader-zhao']]);
    t.deepEqual((await network.get(`/engine-rest/history/task?processInstanceId=${id}`)).body, [], 'not their instance');
  });

  test.serial(t('the version endpoint answers like Camunda 7'), async (t) => {
    const r = await c.office.get('/engine-rest/version');
    t.regex(r.body.version, /^7\.\d+\.\d+$/);
  });
}

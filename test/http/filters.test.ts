import test from 'ava';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda 7's task filters over real HTTP: a filter is a saved task query
 * that lists, for whoever uses it, only the tasks that caller may see (as
 * GET /task does); its owner and administrators change it, the groups it is
 * shared with use it, nobody else learns it exists. Every use is a traced
 * read of tasks naming the filter. OPTIONS lists what the caller may do.
 */

const KEY = 'filter-two-roles';
const details = (d: unknown) => (typeof d === 'string' ? JSON.parse(d) : d) as Record<string, unknown>;

for (const backend of backends) {
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  let network!: Client;
  let data!: Client;
  const pis: string[] = [];
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    s = await startTestServer(backend, NO_PROCESSES);
    await s.services.deployments.deploy(oneResource(`${KEY}.bpmn`, fixture(`${KEY}.bpmn`)));
    admin = client(s.url, ADMIN.user, ADMIN.password);
    office = await makeUser(s, 'office-f', ['office']);
    network = await makeUser(s, 'network-f', ['network-security']);
    data = await makeUser(s, 'data-f', ['data-security']);
    for (let i = 0; i < 2; i++) pis.push((await s.services.instances.startByKey(KEY, { variables: {} }, adminPrincipal)).instance.id);
  });
  test.after.always(async () => s?.stop());

  const create = async (who: Client, body: Record<string, unknown>) => {
    const r = await who.post('/engine-rest/filter/create', { resourceType: 'Task', name: '过滤器', ...body });
    if (r.status !== 200) throw new Error(`create: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body as { id: string; owner: string };
  };

  test.serial(t('an office user\'s filter shared with network-security lists, for each user, only the tasks that user may see'), async (tt) => {
    const f = await create(office, { name: '两组任务', query: { processDefinitionKey: KEY, sorting: [{ sortBy: 'priority', sortOrder: 'desc' }] }, properties: { color: '#c00', priority: 1 }, sharedGroups: ['network-security'] });
    tt.is(f.owner, 'office-f');
    const keys = async (who: Client) => {
      const r = await who.get(`/engine-rest/filter/${f.id}/list`);
      tt.is(r.status, 200, JSON.stringify(r.body));
      return (r.body as { taskDefinitionKey: string }[]).map((x) => x.taskDefinitionKey);
    };
    tt.deepEqual(await keys(network), ['networkStep', 'networkStep']);
    tt.deepEqual(await keys(office), ['officeStep', 'officeStep']);
    tt.deepEqual(await keys(admin), ['networkStep', 'networkStep', 'officeStep', 'officeStep'], 'the stored sorting: priority descending');
    tt.deepEqual((await network.get(`/engine-rest/filter/${f.id}/count`)).body, { count: 2 });
    tt.deepEqual((await admin.post(`/engine-rest/filter/${f.id}/count`, {})).body, { count: 4 });
    // Exactly as GET /task answers the same query for the same caller.
    const direct = await network.get(`/engine-rest/task?processDefinitionKey=${KEY}&sortBy=priority&sortOrder=desc`);
    tt.deepEqual((await network.get(`/engine-rest/filter/${f.id}/list`)).body.map((x: { id: string }) => x.id), direct.body.map((x: { id: string }) => x.id));
    // A user of a group it is not shared with does not learn it exists.
    tt.is((await data.get(`/engine-rest/filter/${f.id}`)).status, 404);
    tt.is((await data.get(`/engine-rest/filter/${f.id}/list`)).status, 404);
    tt.is((await data.post(`/engine-rest/filter/${f.id}/count`, {})).status, 404);
    tt.false((await data.get('/engine-rest/filter')).body.some((x: { id: string }) => x.id === f.id));
    // The network user uses it, may not change or delete it.
    tt.is((await network.put(`/engine-rest/filter/${f.id}`, { name: '改名', query: {} })).status, 403);
    tt.is((await network.delete(`/engine-rest/filter/${f.id}`)).status, 403);
    tt.is((await network.get(`/engine-rest/filter/${f.id}`)).body.name, '两组任务');
  });

  test.serial(t('every use of a filter is a traced read of the tasks it returned, naming the filter; create, update and delete are traced'), async (tt) => {
    const f = await create(office, { name: '追踪', query: { processDefinitionKey: KEY }, sharedGroups: ['network-security'] });
    const created = await s.db('trace').where({ operation: 'Create', entity_type: 'Filter', entity_id: f.id, user_id: 'office-f' });
    tt.is(created.length, 1);
    for (const [method, path] of [['GET', 'list'], ['POST', 'list'], ['GET', 'count'], ['POST', 'count']] as const) {
      const [{ last }] = await s.db('trace').max({ last: 'id' });
      const r = await network.raw(method, `/engine-rest/filter/${f.id}/${path}`, method === 'POST' ? {} : undefined);
      tt.is(r.status, 200);
      const rows = await s.db('trace').where('id', '>', last ?? 0).andWhere('user_id', 'network-f');
      tt.deepEqual(rows.map((x: { operation: string; entity_type: string }) => `${x.operation} ${x.entity_type}`), ['Read Task'], `${method} ${path}`);
      const d = details(rows[0].details);
      tt.is(d.filterId, f.id);
      if (path === 'list') {
        tt.deepEqual([...(d.ids as string[])].sort(), r.body.map((x: { id: string }) => x.id).sort());
        tt.deepEqual([...(d.processInstanceIds as string[])].sort(), [...pis].sort());
      } else tt.is(d.count, 2);
    }
    tt.is((await office.put(`/engine-rest/filter/${f.id}`, { name: '追踪二', query: { processDefinitionKey: KEY } })).status, 204);
    tt.is((await office.delete(`/engine-rest/filter/${f.id}`)).status, 204);
    const changes = await s.db('trace').where({ entity_type: 'Filter', entity_id: f.id }).whereNot('operation', 'Read').orderBy('id');
    tt.deepEqual(changes.map((x: { operation: string }) => x.operation), ['Create', 'Update', 'Delete']);
    tt.is((await office.get(`/engine-rest/filter/${f.id}`)).status, 404);
  });

  test.serial(t('${currentUser()} and ${currentUserGroups()} resolve to whoever lists; other expressions and unknown keys are refused naming them'), async (tt) => {
    const groups = await create(admin, { name: '我的组任务', query: { candidateGroupsExpression: '${currentUserGroups()}', processDefinitionKey: KEY }, sharedGroups: ['office', 'network-security'] });
    tt.deepEqual((await office.get(`/engine-rest/filter/${groups.id}/list`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['officeStep', 'officeStep']);
    tt.deepEqual((await network.get(`/engine-rest/filter/${groups.id}/list`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['networkStep', 'networkStep']);
    tt.is((await network.get(`/engine-rest/filter/${groups.id}/singleResult`)).status, 400, 'more than one');
    const mine = await create(network, { name: '我的任务', query: { assigneeExpression: '${currentUser()}' } });
    tt.is((await network.get(`/engine-rest/filter/${mine.id}/singleResult`)).status, 204, 'none assigned yet');
    const [task] = (await network.get(`/engine-rest/filter/${groups.id}/list?maxResults=1`)).body;
    tt.is((await network.post(`/engine-rest/task/${task.id}/claim`, { userId: 'network-f' })).status, 204);
    const single = await network.post(`/engine-rest/filter/${mine.id}/singleResult`, {});
    tt.is(single.status, 200);
    tt.is(single.body.id, task.id);
    await network.post(`/engine-rest/task/${task.id}/unclaim`);
    for (const [query, named] of [
      [{ assigneeExpression: '${someBean.call()}' }, 'assigneeExpression'],
      [{ dueAfterExpression: '${now()}' }, 'dueAfterExpression'],
      [{ bogus: 1 }, 'bogus'],
      [{ assignee: '${currentUser()}' }, 'assignee'],
      [{ assignee: 'x', assigneeExpression: '${currentUser()}' }, 'assigneeExpression'],
      [{ orQueries: [{ taskDefinitionKey: 'x' }] }, 'orQueries[0].taskDefinitionKey'],
    ] as const) {
      const r = await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: '坏', query });
      tt.is(r.status, 400, JSON.stringify(query));
      tt.true(r.body.message.includes(named), r.body.message);
    }
    // What POST /task refuses, the filter refuses too.
    const bad = await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: '坏', query: { minPriority: 'high' } });
    tt.is(bad.status, 400);
    tt.is((await office.post('/engine-rest/task', { minPriority: 'high' })).status, 400);
    tt.regex((await office.post('/engine-rest/filter/create', { resourceType: 'Case', name: '坏' })).body.message, /resource type/);
    tt.is((await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: '' })).status, 400);
    tt.is((await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: 'x', colour: 'red' })).status, 400);
    tt.is((await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: 'x', sharedGroups: ['no-such-group'] })).status, 400);
    tt.is((await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: 'x', owner: 'network-f' })).status, 403);
    tt.is((await office.post('/engine-rest/filter/create', { resourceType: 'Task', name: 'x', properties: { refresh: 'yes' } })).status, 400);
    tt.is(await s.db('filters').where({ name: '坏' }).count({ n: '*' }).then(([r]) => Number(r.n)), 0, 'nothing half-written');
  });

  test.serial(t('a POST body extends the filter: its criteria replace the filter\'s, its or-queries narrow, paging applies'), async (tt) => {
    const f = await create(admin, { name: '扩展', query: { processDefinitionKey: KEY, taskDefinitionKey: 'officeStep' } });
    const list = async (body: unknown, qs = '') => (await admin.post(`/engine-rest/filter/${f.id}/list${qs}`, body)).body as { taskDefinitionKey: string; processInstanceId: string }[];
    tt.deepEqual((await list({})).map((x) => x.taskDefinitionKey), ['officeStep', 'officeStep']);
    tt.deepEqual((await list({ taskDefinitionKey: 'networkStep' })).map((x) => x.taskDefinitionKey), ['networkStep', 'networkStep']);
    tt.deepEqual((await list({ processInstanceId: pis[1] })).map((x) => x.processInstanceId), [pis[1]]);
    tt.is((await list({ orQueries: [{ nameLike: '%网络%' }] })).length, 0, 'both the filter and the or-query must hold');
    tt.is((await list({}, '?firstResult=1&maxResults=5')).length, 1);
    const r = await admin.post(`/engine-rest/filter/${f.id}/list`, { unknownKey: true });
    tt.is(r.status, 400);
    tt.true(r.body.message.includes('unknownKey'));
    tt.is((await admin.get(`/engine-rest/filter/${f.id}/list?assignee=x`)).status, 400, 'GET takes only paging');
  });

  test.serial(t('GET /filter and /filter/count: Camunda\'s criteria, sorting, paging and itemCount, over the filters the caller may see'), async (tt) => {
    const a = await create(data, { name: 'zz数据1', query: { processDefinitionKey: KEY } });
    const b = await create(data, { name: 'zz数据2', query: { processDefinitionKey: KEY }, properties: { description: '说明', variables: [{ name: 'title', label: '标题' }] } });
    const mine = await data.get('/engine-rest/filter?owner=data-f&sortBy=name&sortOrder=desc&itemCount=true');
    tt.deepEqual(mine.body.map((x: { id: string }) => x.id), [b.id, a.id]);
    tt.deepEqual(mine.body.map((x: { itemCount: number }) => x.itemCount), [0, 0], 'a data-security user sees none of these tasks');
    tt.deepEqual((await admin.get(`/engine-rest/filter/${a.id}?itemCount=true`)).body.itemCount, 4);
    tt.is((await data.get(`/engine-rest/filter/${a.id}`)).body.itemCount, undefined);
    tt.deepEqual(mine.body[0].properties, { description: '说明', variables: [{ name: 'title', label: '标题' }] });
    tt.deepEqual((await data.get('/engine-rest/filter?nameLike=zz%25&maxResults=1')).body.map((x: { id: string }) => x.id), [a.id]);
    tt.deepEqual((await data.get('/engine-rest/filter/count?nameLike=zz%25')).body, { count: 2 });
    tt.deepEqual((await office.get('/engine-rest/filter/count?owner=data-f')).body, { count: 0 }, 'not shared with office');
    tt.deepEqual((await admin.get('/engine-rest/filter/count?owner=data-f')).body, { count: 2 });
    tt.deepEqual((await data.get(`/engine-rest/filter?filterId=${a.id}&resourceType=Task&name=zz数据1`)).body.map((x: { id: string }) => x.id), [a.id]);
    tt.is((await data.get('/engine-rest/filter?resourceType=Case')).status, 400);
    tt.is((await data.get('/engine-rest/filter?sortBy=color&sortOrder=asc')).status, 400);
    tt.is((await data.get('/engine-rest/filter?ownerLike=x')).status, 400);
    // Updating replaces name, query, properties, sharing; an administrator may hand it to another owner.
    tt.is((await data.put(`/engine-rest/filter/${a.id}`, { name: 'zz数据3', query: {}, sharedGroups: ['office'] })).status, 204);
    tt.is((await office.get(`/engine-rest/filter/${a.id}`)).body.name, 'zz数据3');
    tt.is((await data.put(`/engine-rest/filter/${a.id}`, { name: 'zz', owner: 'office-f' })).status, 403);
    tt.is((await admin.put(`/engine-rest/filter/${a.id}`, { name: 'zz', owner: 'office-f' })).status, 204);
    tt.is((await admin.get(`/engine-rest/filter/${a.id}`)).body.owner, 'office-f');
    tt.is((await data.get(`/engine-rest/filter/${a.id}`)).status, 404, 'no longer theirs, not shared with them');
  });

  test.serial(t('OPTIONS lists what the caller may do: on filters, users and groups'), async (tt) => {
    const rels = (r: { body: { links: { method: string; rel: string; href: string }[] } }) => r.body.links.map((l) => `${l.method} ${l.rel}`);
    const all = await office.raw('OPTIONS', '/engine-rest/filter');
    tt.is(all.status, 200);
    tt.deepEqual(all.body.links[0], { method: 'GET', href: `${s.url}/engine-rest/filter`, rel: 'list' });
    tt.deepEqual(rels(all), ['GET list', 'GET count', 'POST create']);
    const f = await create(office, { name: '选项', sharedGroups: ['network-security'] });
    const read = ['GET self', 'GET singleResult', 'POST singleResult', 'GET list', 'POST list', 'GET count', 'POST count'];
    tt.deepEqual(rels(await office.raw('OPTIONS', `/engine-rest/filter/${f.id}`)), [...read, 'DELETE delete', 'PUT update']);
    tt.deepEqual(rels(await admin.raw('OPTIONS', `/engine-rest/filter/${f.id}`)), [...read, 'DELETE delete', 'PUT update']);
    tt.deepEqual(rels(await network.raw('OPTIONS', `/engine-rest/filter/${f.id}`)), read);
    tt.deepEqual(rels(await data.raw('OPTIONS', `/engine-rest/filter/${f.id}`)), []);
    tt.deepEqual(rels(await data.raw('OPTIONS', '/engine-rest/filter/no-such-filter')), []);

    tt.deepEqual(rels(await admin.raw('OPTIONS', '/engine-rest/user')), ['GET list', 'GET count', 'POST create']);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/user')), []);
    const own = await office.raw('OPTIONS', '/engine-rest/user/office-f');
    tt.deepEqual(rels(own), ['GET self', 'PUT update']);
    tt.is(own.body.links[0].href, `${s.url}/engine-rest/user/office-f/profile`);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/user/network-f')), []);
    tt.deepEqual(rels(await admin.raw('OPTIONS', '/engine-rest/user/network-f')), ['GET self', 'DELETE delete', 'PUT update']);
    tt.deepEqual(rels(await admin.raw('OPTIONS', '/engine-rest/group')), ['GET list', 'GET count', 'POST create']);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/group')), []);
    tt.deepEqual(rels(await admin.raw('OPTIONS', '/engine-rest/group/office')), ['GET self', 'DELETE delete', 'PUT update']);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/group/office')), []);
    tt.deepEqual(rels(await admin.raw('OPTIONS', '/engine-rest/group/office/members')), ['DELETE delete', 'PUT create']);
    tt.deepEqual(rels(await office.raw('OPTIONS', '/engine-rest/group/office/members')), []);
    // Camunda's OPTIONS we do not answer are still refused, naming them; a stranger gets 401 first.
    const tenant = await admin.raw('OPTIONS', '/engine-rest/tenant');
    tt.is(tenant.status, 501);
    tt.is((await client(s.url).raw('OPTIONS', '/engine-rest/filter')).status, 401);
  });

  test.serial(t('a deleted user\'s filters go with them, a deleted group is no longer shared with: ids given again inherit nothing'), async (tt) => {
    const temp = await makeUser(s, 'temp-f', ['office']);
    tt.is((await admin.post('/engine-rest/group/create', { id: 'temp-g', name: '临时组' })).status, 204);
    const owned = await create(temp, { name: '临时用户的', query: {} });
    const shared = await create(office, { name: '共享给临时组', query: {}, sharedGroups: ['temp-g'] });
    tt.is((await admin.delete('/engine-rest/user/temp-f')).status, 204);
    tt.is((await admin.delete('/engine-rest/group/temp-g')).status, 204);
    tt.is((await admin.get(`/engine-rest/filter/${owned.id}`)).status, 404, 'the owner\'s filter went with them');
    tt.deepEqual((await admin.get(`/engine-rest/filter/${shared.id}`)).body.sharedGroups ?? [], []);
    // The same ids, given again, see none of it.
    tt.is((await admin.post('/engine-rest/group/create', { id: 'temp-g', name: '又一个临时组' })).status, 204);
    const again = await makeUser(s, 'temp-f', ['temp-g']);
    tt.false((await again.get('/engine-rest/filter')).body.some((x: { id: string }) => x.id === shared.id || x.id === owned.id));
    tt.is((await again.get(`/engine-rest/filter/${shared.id}/list`)).status, 404);
  });
}

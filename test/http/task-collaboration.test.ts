import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

const PLAN = 'security-plan-approval';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; wang: Client; li: Client; leader: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      wang: await makeUser(server, 'wang-c', ['office']), li: await makeUser(server, 'li-c', ['office']),
      leader: await makeUser(server, 'leader-c', ['leading-group']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  async function newTask(businessKey: string) {
    const started = await c.wang.post(`/engine-rest/process-definition/key/${PLAN}/start`, { businessKey, variables: vars({ title: businessKey, planType: 'plan' }) });
    return (await c.wang.get(`/engine-rest/task?processInstanceId=${started.body.id}`)).body[0];
  }

  test.serial(t('POST /task with orQueries: assigned to me OR offered to my groups'), async (t) => {
    const mine = await newTask('or-mine');
    await c.wang.post(`/engine-rest/task/${mine.id}/claim`, { userId: 'wang-c' });
    const theirs = await newTask('or-theirs');
    await c.admin.post(`/engine-rest/task/${theirs.id}/assignee`, { userId: 'li-c' });
    const open = await newTask('or-open');
    const query = { processDefinitionKey: PLAN, orQueries: [{ assignee: 'wang-c', candidateGroups: ['office'], unassigned: true }], sorting: [{ sortBy: 'created', sortOrder: 'asc' }] };
    const r = await c.wang.post('/engine-rest/task', query);
    t.is(r.status, 200);
    const ids = r.body.map((x: { id: string }) => x.id);
    t.true(ids.includes(mine.id));
    t.true(ids.includes(open.id));
    // Offered to office too, but assigned to someone else: it still matches the candidateGroups branch.
    t.true(ids.includes(theirs.id));
    const strict = await c.wang.post('/engine-rest/task', { processDefinitionKey: PLAN, orQueries: [{ assignee: 'wang-c', unassigned: true }] });
    const strictIds = strict.body.map((x: { id: string }) => x.id);
    t.true(strictIds.includes(mine.id) && strictIds.includes(open.id) && !strictIds.includes(theirs.id));
    t.is((await c.wang.post('/engine-rest/task/count', { processDefinitionKey: PLAN, orQueries: [{ assignee: 'wang-c', unassigned: true }] })).body.count, strictIds.length);
    t.deepEqual((await c.leader.post('/engine-rest/task', query)).body, [], 'visibility still applies');
    t.is((await c.wang.post('/engine-rest/task', { sorting: [{ sortBy: 'colour', sortOrder: 'asc' }] })).status, 400);
    t.is((await c.wang.post('/engine-rest/task', { candidateGroups: 'office' })).status, 400);
  });

  test.serial(t('delegate and resolve: the owner gets the task back; a delegated task cannot be completed'), async (t) => {
    const task = await newTask('delegate-1');
    await c.wang.post(`/engine-rest/task/${task.id}/claim`, { userId: 'wang-c' });
    t.is((await c.wang.post(`/engine-rest/task/${task.id}/delegate`, { userId: 'li-c' })).status, 204);
    const delegated = (await c.li.get(`/engine-rest/task/${task.id}`)).body;
    t.like(delegated, { assignee: 'li-c', owner: 'wang-c', delegationState: 'PENDING' });
    const completeDelegated = await c.li.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: 'x', summary: '十个字以上的规划草案摘要' }) });
    t.is(completeDelegated.status, 400);
    t.is((await c.wang.post(`/engine-rest/task/${task.id}/resolve`, {})).status, 403, 'only the delegate resolves');
    t.is((await c.li.post(`/engine-rest/task/${task.id}/resolve`, { variables: vars({ summary: '由李协助完成的规划草案摘要' }) })).status, 204);
    t.like((await c.wang.get(`/engine-rest/task/${task.id}`)).body, { assignee: 'wang-c', delegationState: 'RESOLVED' });
    t.is((await c.wang.get(`/engine-rest/task/${task.id}/variables/summary`)).body.value, '由李协助完成的规划草案摘要');
    t.is((await c.wang.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: 'x', summary: '十个字以上的规划草案摘要' }) })).status, 204);
  });

  test.serial(t('due date, priority and name updates; bad values refused'), async (t) => {
    const task = await newTask('update-1');
    t.is((await c.wang.put(`/engine-rest/task/${task.id}`, { name: '起草规划（加急）', priority: 90, due: '2026-12-10T18:00:00.000+0800' })).status, 204);
    const updated = (await c.wang.get(`/engine-rest/task/${task.id}`)).body;
    t.like(updated, { name: '起草规划（加急）', priority: 90, due: '2026-12-10T18:00:00.000+0800' });
    t.truthy(updated.lastUpdated);
    t.is((await c.wang.put(`/engine-rest/task/${task.id}`, { due: 'next tuesday' })).status, 400);
    t.is((await c.wang.put(`/engine-rest/task/${task.id}`, { priority: 'high' })).status, 400);
    t.is((await c.leader.put(`/engine-rest/task/${task.id}`, { priority: 1 })).status, 404);
  });

  test.serial(t('comments: listed in order with author and time; outsiders see nothing'), async (t) => {
    const task = await newTask('comment-1');
    const first = await c.wang.post(`/engine-rest/task/${task.id}/comment/create`, { message: '请补充附件' });
    t.is(first.status, 200);
    t.is(first.body.userId, 'wang-c');
    await c.li.post(`/engine-rest/task/${task.id}/comment/create`, { message: '已补充' });
    const list = (await c.wang.get(`/engine-rest/task/${task.id}/comment`)).body;
    t.deepEqual(list.map((x: { userId: string; message: string }) => `${x.userId}:${x.message}`), ['wang-c:请补充附件', 'li-c:已补充']);
    t.is((await c.leader.get(`/engine-rest/task/${task.id}/comment`)).status, 404);
    t.is((await c.wang.post(`/engine-rest/task/${task.id}/comment/create`, { message: '  ' })).status, 400);
  });
}

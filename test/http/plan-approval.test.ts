import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

const KEY = 'security-plan-approval';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; leader: Client; network: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    c = {
      server,
      admin: client(server.url, ADMIN.user, ADMIN.password),
      office: await makeUser(server, 'office-a', ['office']),
      leader: await makeUser(server, 'leader-a', ['leading-group']),
      network: await makeUser(server, 'network-a', ['network-security']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  /** Claims and completes the instance's only open task as `who`, checking it is `expected`. */
  async function step(who: Client, userId: string, instanceId: string, expected: string, values: Record<string, unknown>) {
    const open = (await who.get(`/engine-rest/task?processInstanceId=${instanceId}`)).body;
    if (open.length !== 1 || open[0].taskDefinitionKey !== expected) {
      throw new Error(`expected ${expected}, open: ${JSON.stringify(open.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey))}`);
    }
    const claim = await who.post(`/engine-rest/task/${open[0].id}/claim`, { userId });
    if (claim.status !== 204) throw new Error(`claim ${expected}: ${claim.status}`);
    const done = await who.post(`/engine-rest/task/${open[0].id}/complete`, { variables: vars(values) });
    if (done.status !== 204) throw new Error(`complete ${expected}: ${done.status} ${JSON.stringify(done.body)}`);
  }

  async function start(businessKey: string) {
    const r = await c.office.post(`/engine-rest/process-definition/key/${KEY}/start`, {
      businessKey, variables: vars({ title: '2026年度安全规划', planType: 'plan' }),
    });
    return r.body.id as string;
  }

  const draft = { title: '2026年度安全规划', summary: '全年网络与数据安全建设规划草案' };

  test.serial(t('approved plan: draft, review, leading-group decision, assignment, in order and by the right roles'), async (t) => {
    const id = await start('PLAN-OK');
    await step(c.office, 'office-a', id, 'draftPlan', draft);
    await step(c.office, 'office-a', id, 'reviewDraft', { reviewResult: 'submit' });
    // The decision belongs to the leading group: the office and others do not even see it.
    t.deepEqual((await c.office.get(`/engine-rest/task?processInstanceId=${id}`)).body, []);
    t.deepEqual((await c.network.get(`/engine-rest/task?processInstanceId=${id}`)).body, []);
    // The leading group votes as a body: its only member here has the one vote, assigned to them (docs/leading-group-vote.md).
    const [decision] = (await c.leader.get('/engine-rest/task?assignee=leader-a')).body.filter((x: { processInstanceId: string }) => x.processInstanceId === id);
    t.is(decision.priority, 80);
    t.is((await c.office.post(`/engine-rest/task/${decision.id}/complete`, { variables: vars({ decision: 'approve' }) })).status, 404);
    await step(c.leader, 'leader-a', id, 'leadingGroupDecision', { decision: 'approve', decisionComment: '同意' });
    await step(c.office, 'office-a', id, 'assignImplementation', { implementingGroups: 'network-security,data-security', implementationDeadline: '2026-12-31T00:00:00.000+0800' });
    const [h] = (await c.office.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body;
    t.is(h.state, 'COMPLETED');
    t.is(h.businessKey, 'PLAN-OK');
    t.is(h.startUserId, 'office-a');
    t.is(h.processDefinitionName, '安全规划与制度审批');
    t.is(h.processDefinitionVersion, 1);
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}`)).body;
    t.deepEqual(history.map((x: { taskDefinitionKey: string; completedBy: string }) => `${x.taskDefinitionKey}:${x.completedBy}`), [
      'draftPlan:office-a', 'reviewDraft:office-a', 'leadingGroupDecision:leader-a', 'assignImplementation:office-a',
    ]);
    const acts = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body;
    t.true(acts.some((a: { activityId: string }) => a.activityId === 'endApproved'));
    t.false(acts.some((a: { activityId: string }) => a.activityId === 'endRejected'));
    // Camunda's narrowing filters.
    const base = `/engine-rest/history/activity-instance?processInstanceId=${id}`;
    t.deepEqual((await c.admin.get(`${base}&activityId=leadingGroupDecision`)).body.map((a: { activityId: string }) => a.activityId), ['leadingGroupDecision']);
    const userTasks = (await c.admin.get(`${base}&activityType=userTask`)).body.map((a: { activityId: string }) => a.activityId);
    t.deepEqual(userTasks, ['draftPlan', 'reviewDraft', 'leadingGroupDecision', 'assignImplementation']);
    t.deepEqual((await c.admin.get(`${base}&unfinished=true`)).body, [], 'all ended');
    t.is((await c.admin.get(`${base}&finished=true`)).body.length, acts.length);
    // On an instance still waiting, the two filters split its elements.
    const waiting = await start('PLAN-WAITING');
    const of = async (filter: string) => (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${waiting}&${filter}`)).body
      .map((a: { activityId: string }) => a.activityId);
    t.deepEqual(await of('unfinished=true'), ['draftPlan']);
    t.deepEqual(await of('finished=true'), ['start']);
  });

  test.serial(t('a start form missing its required title is refused and starts nothing'), async (t) => {
    const before = (await c.admin.get(`/engine-rest/history/process-instance?processDefinitionKey=${KEY}`)).body.length;
    const r = await c.office.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ planType: 'plan' }) });
    t.is(r.status, 400);
    t.regex(r.body.message, /title/);
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processDefinitionKey=${KEY}`)).body.length, before);
  });

  test.serial(t('other roles cannot see the instance or its variables'), async (t) => {
    const id = await start('PLAN-PRIVATE');
    t.is((await c.network.get(`/engine-rest/process-instance/${id}/variables`)).status, 404);
    t.deepEqual((await c.network.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body, []);
    t.deepEqual((await c.network.get(`/engine-rest/history/task?processInstanceId=${id}`)).body, []);
    t.is((await c.office.get(`/engine-rest/process-instance/${id}/variables`)).body.title.value, '2026年度安全规划');
  });
}

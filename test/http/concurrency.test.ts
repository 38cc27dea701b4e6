import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; network: Client; data: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    c = {
      server,
      admin: client(server.url, ADMIN.user, ADMIN.password),
      network: await makeUser(server, 'net-1', ['network-security']),
      data: await makeUser(server, 'data-1', ['data-security']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  async function startParallel() {
    const r = await c.admin.post('/engine-rest/process-definition/key/parallel-review/start', {});
    const tasks = (await c.admin.get(`/engine-rest/task?processInstanceId=${r.body.id}&sortBy=name&sortOrder=asc`)).body;
    return { id: r.body.id as string, byKey: Object.fromEntries(tasks.map((x: { taskDefinitionKey: string; id: string }) => [x.taskDefinitionKey, x.id])) };
  }

  test.serial(t('two people completing parallel branches at once both take effect'), async (t) => {
    const rounds = 15;
    const instances = await Promise.all(Array.from({ length: rounds }, startParallel));
    const results = await Promise.all(instances.map(async ({ byKey }) => Promise.all([
      c.network.post(`/engine-rest/task/${byKey.networkCheck}/complete`, { variables: vars({ networkOk: true }) }),
      c.data.post(`/engine-rest/task/${byKey.dataCheck}/complete`, { variables: vars({ dataOk: true }) }),
    ])));
    for (const pair of results) t.deepEqual(pair.map((r) => r.status), [204, 204], JSON.stringify(pair.map((r) => r.body)));
    for (const { id } of instances) {
      const [h] = (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body;
      t.is(h.state, 'COMPLETED', `instance ${id} completed`);
      const tasks = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}`)).body;
      t.deepEqual(tasks.map((x: { deleteReason: string }) => x.deleteReason), ['completed', 'completed']);
      t.deepEqual(tasks.map((x: { completedBy: string }) => x.completedBy).sort(), ['data-1', 'net-1']);
      const vars = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body;
      t.is(vars.filter((a: { activityId: string; endTime: string | null }) => a.activityId === 'end' && a.endTime).length, 1, 'the join fired exactly once');
    }
  });

  test.serial(t('completing the same task twice at once: exactly one wins'), async (t) => {
    for (let i = 0; i < 8; i++) {
      const { id, byKey } = await startParallel();
      const both = await Promise.all([1, 2].map(() =>
        c.admin.post(`/engine-rest/task/${byKey.networkCheck}/complete`, { variables: vars({ networkOk: true }) })));
      const statuses = both.map((r) => r.status).sort();
      t.is(statuses[0], 204);
      t.true([404, 409].includes(statuses[1]), `loser got ${statuses[1]}: ${JSON.stringify(both[1].body)}`);
      const open = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
      t.deepEqual(open.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['dataCheck']);
      const acts = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body;
      const network = acts.filter((a: { activityId: string }) => a.activityId === 'networkCheck');
      t.is(network.length, 1);
      t.truthy(network[0].endTime, 'the branch ended once');
      const [task] = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=networkCheck`)).body;
      t.is(task.deleteReason, 'completed');
    }
  });
}

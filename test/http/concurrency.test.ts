import test from 'ava';
import { backends, saveWaitsForLock } from '../helpers/db.ts';
import { touchInstance } from '../../src/store/instances.ts';
import { upsertVariables } from '../../src/store/variables.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; network: Client; data: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    await server.services.deployments.deploy(oneResource('variable-route.bpmn', fixture('variable-route.bpmn')));
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

  test.serial(t('changing variables moves the instance to its next revision'), async (t) => {
    const { services, db } = c.server;
    const { instance } = await services.instances.startByKey('variable-route', { variables: { level: { type: 'Integer', value: 1 } } }, adminPrincipal);
    const rev = async () => (await db('process_instances').where({ id: instance.id }).first()).rev;
    const before = await rev();
    await services.instances.modifyVariables(instance.id, { modifications: { level: { type: 'Integer', value: 3 } }, deletions: [] }, adminPrincipal);
    t.is(await rev(), before + 1);
    const [task] = await services.tasks.list({ processInstanceId: instance.id }, adminPrincipal);
    await services.tasks.modifyVariables(task.id, { note: { type: 'String', value: 'x' } }, [], adminPrincipal);
    t.is(await rev(), before + 2);
  });

  if (backend.name === 'postgres') {
    test.serial(t('a completion that read the variables before someone changed them runs again on the new values'), async (t) => {
      const { services, db } = c.server;
      const { instance } = await services.instances.startByKey('variable-route', { variables: { level: { type: 'Integer', value: 1 } } }, adminPrincipal);
      const [task] = await services.tasks.list({ processInstanceId: instance.id }, adminPrincipal);
      const other = await db.transaction();
      try {
        await other('process_instances').where({ id: instance.id }).forUpdate().first();
        // Reads level 1, would route to the end, and waits for the held row to save.
        const completing = services.tasks.complete(task.id, {}, adminPrincipal);
        t.true(await saveWaitsForLock(db), 'the completion reached its save');
        // Meanwhile the level is raised, as modifyVariables does it.
        await upsertVariables(other, instance.id, [{ name: 'level', type: 'Integer', value: 5, key_id: null }]);
        await touchInstance(other, instance.id);
        await other.commit();
        await completing;
      } finally {
        if (!other.isCompleted()) await other.rollback();
      }
      const open = (await services.tasks.list({ processInstanceId: instance.id }, adminPrincipal)).map((x) => x.task_definition_key);
      t.deepEqual(open, ['escalate'], 'the gateway saw level 5, not the 1 it first read');
    });
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

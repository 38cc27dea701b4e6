import test from 'ava';
import { withServerProcesses } from '../helpers/child-server.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer } from '../helpers/server.ts';

const postgres = backends.find((b) => b.name === 'postgres');
const TASKS = 1000;

if (!postgres) {
  test.skip('two servers share external tasks (needs TEST_DATABASE_URL)', () => undefined);
} else {
  test(`postgres: ${TASKS} external tasks fetched by workers on two server processes are each handed out exactly once`, async (t) => {
    t.timeout(180_000);
    // This process sets the database up and creates the tasks through its services;
    // two more server processes, spawned, serve the workers.
    const setup = await startTestServer(postgres);
    try {
      await setup.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
      await makeUser(setup, 'robot', ['workers']);
      for (let i = 0; i < TASKS; i++) {
        await setup.services.instances.startByKey('external-check', { variables: { mode: { type: 'String', value: 'ok' }, urgency: { type: 'Integer', value: i % 7 } } }, adminPrincipal);
      }
      await withServerProcesses(t, setup.testDb.url!, 2, async (servers) => {
        const workers = servers.map((s) => client(s.url, 'robot', 'robot-password'));
        const handedOut: string[] = [];
        // Eight workers, four per server, fetch until nothing is left.
        await Promise.all(Array.from({ length: 8 }, async (_, w) => {
          const api = workers[w % 2];
          for (;;) {
            const r = await api.post('/engine-rest/external-task/fetchAndLock', {
              workerId: `worker-${w}`, maxTasks: 7, usePriority: true, topics: [{ topicName: 'backup-check', lockDuration: 600_000 }],
            });
            if (r.status !== 200) throw new Error(`fetch ${r.status} ${JSON.stringify(r.body)}`);
            if (!r.body.length) return;
            handedOut.push(...r.body.map((x: { id: string }) => x.id));
          }
        }));
        t.is(handedOut.length, TASKS, 'every task handed out');
        t.is(new Set(handedOut).size, TASKS, 'none handed out twice');
        const { count } = (await client(servers[1].url, ADMIN.user, ADMIN.password).get('/engine-rest/external-task/count?locked=true')).body;
        t.is(count, TASKS);
        const byServer = await setup.db('external_tasks').select('worker_id').count({ n: '*' }).groupBy('worker_id');
        t.log(`handed out per worker: ${(byServer as { worker_id: string; n: unknown }[]).map((r) => `${r.worker_id}=${r.n}`).join(", ")}`);
      });
    } finally {
      await setup.stop();
    }
  });
}

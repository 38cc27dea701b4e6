import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, repoRoot } from '../helpers/server.ts';

const postgres = backends.find((b) => b.name === 'postgres');
const TASKS = 1000;

if (!postgres) {
  test('two servers share external tasks (needs TEST_DATABASE_URL)', (t) => t.pass('skipped: PostgreSQL not configured'));
} else {
  test(`postgres: ${TASKS} external tasks fetched by workers on two servers are each handed out exactly once`, async (t) => {
    t.timeout(180_000);
    const testDb = await postgres.create({ migrate: false });
    await testDb.db.destroy();
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', DATABASE_URL: testDb.url!, ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
      PROCESSES_DIR: path.join(repoRoot, 'processes'),
    });
    const servers = await Promise.all([1, 2].map(() => startServer(config, { log: pino({ level: 'silent' }) })));
    try {
      const [a, b] = servers;
      await a.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
      await makeUser(a, 'robot', ['workers']);
      const workers = servers.map((s) => client(s.url, 'robot', 'robot-password'));
      // Create the tasks through the services of both servers.
      for (let i = 0; i < TASKS; i++) {
        await (i % 2 ? b : a).services.instances.startByKey('external-check', { variables: { mode: { type: 'String', value: 'ok' }, urgency: { type: 'Integer', value: i % 7 } } }, adminPrincipal);
      }
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
      const { count } = (await client(a.url, ADMIN.user, ADMIN.password).get('/engine-rest/external-task/count?locked=true')).body;
      t.is(count, TASKS);
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await testDb.drop();
    }
  });
}

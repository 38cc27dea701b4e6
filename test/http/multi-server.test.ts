import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, repoRoot, TEST_KEY_ENV } from '../helpers/server.ts';

const postgres = backends.find((b) => b.name === 'postgres');

if (!postgres) {
  test.skip('several servers on one database (needs TEST_DATABASE_URL)', () => undefined);
} else {
  test('postgres: three servers starting at once on one empty database migrate, bootstrap and deploy exactly once', async (t) => {
    const testDb = await postgres.create({ migrate: false });
    await testDb.db.destroy();
    const config = loadConfig({
      PORT: '0', HOST: '127.0.0.1', DATABASE_URL: testDb.url!, ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
      PROCESSES_DIR: path.join(repoRoot, 'processes'), ...TEST_KEY_ENV,
    });
    const servers = await Promise.all([1, 2, 3].map(() => startServer(config, { log: pino({ level: 'silent' }) })));
    try {
      const [a, b] = servers.map((s) => client(s.url, ADMIN.user, ADMIN.password));
      const defs = (await a.get('/engine-rest/process-definition?key=security-plan-approval')).body;
      t.deepEqual(defs.map((d: { version: number }) => d.version), [1]);
      t.deepEqual((await b.get('/engine-rest/user')).body.map((u: { id: string }) => u.id), [ADMIN.user]);
      // Work started on one server is visible and completable on another.
      const started = await a.post('/engine-rest/process-definition/key/security-plan-approval/start', {
        variables: { title: { value: '共享数据库' }, planType: { value: 'plan' } },
      });
      const [task] = (await b.get(`/engine-rest/task?processInstanceId=${started.body.id}`)).body;
      t.is(task.taskDefinitionKey, 'draftPlan');
    } finally {
      await Promise.all(servers.map((s) => s.close()));
      await testDb.drop();
    }
  });
}

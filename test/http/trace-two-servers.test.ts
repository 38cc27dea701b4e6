import test from 'ava';
import { withServerProcesses } from '../helpers/child-server.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, vars } from '../helpers/server.ts';

const postgres = backends.find((b) => b.name === 'postgres');
const ROUNDS = 40;

if (!postgres) {
  test.skip('two servers keep one trace chain (needs TEST_DATABASE_URL)', () => undefined);
} else {
  test('postgres: a mixed workload on two server processes leaves one whole trace chain', async (t) => {
    t.timeout(180_000);
    const setup = await startTestServer(postgres);
    try {
      await makeUser(setup, 'office-two', ['office']);
      await makeUser(setup, 'leader-two', ['leading-group']);
      await withServerProcesses(t, setup.testDb.url!, 2, async (servers) => {
        // Each round on alternating servers, many rounds at once: starts, reads, claims, completions and failed logins interleave.
        await Promise.all(Array.from({ length: ROUNDS }, async (_, i) => {
          const url = servers[i % 2].url;
          const office = client(url, 'office-two', 'office-two-password');
          const started = await office.post('/engine-rest/process-definition/key/security-plan-approval/start', { variables: vars({ title: `规划 ${i}`, planType: 'plan' }) });
          if (started.status !== 200) throw new Error(`start ${started.status} ${JSON.stringify(started.body)}`);
          const id = started.body.id;
          const [task] = (await client(servers[(i + 1) % 2].url, 'office-two', 'office-two-password').get(`/engine-rest/task?processInstanceId=${id}`)).body;
          await office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-two' });
          await office.get(`/engine-rest/process-instance/${id}/variables`);
          const done = await office.post(`/engine-rest/task/${task.id}/complete`, { variables: vars({ title: `规划 ${i}`, summary: '全年网络与数据安全建设规划草案' }) });
          if (done.status !== 204) throw new Error(`complete ${done.status}`);
          // Each under its own name: five failures of one name lock it, and the rest would be LoginLocked.
          if (i % 5 === 0) await client(url, `stranger-${i}`, 'wrong-password').get('/engine-rest/task');
        }));
        const report = (await client(servers[0].url, ADMIN.user, ADMIN.password).get('/engine-rest/trace/verify')).body;
        t.true(report.ok, JSON.stringify(report.broken));
        // Per round: start, task read, claim, variables read, complete; plus the failed logins.
        const rows = Number((await setup.db('trace').where('user_id', 'office-two').count({ n: '*' }))[0].n);
        t.is(rows, ROUNDS * 5);
        t.is(Number((await setup.db('trace').where('operation', 'LoginFailure').count({ n: '*' }))[0].n), ROUNDS / 5);
        t.log(`${report.rows} trace rows from two server processes; ${report.heads.length} chains, all whole`);
      });
    } finally {
      await setup.stop();
    }
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer } from '../helpers/server.ts';

const pglite = backends[0];

/** The source of the newest trace row `user` left. */
async function lastSource(s: Awaited<ReturnType<typeof startTestServer>>, user: string): Promise<string> {
  const [row] = await s.db('trace').where({ user_id: user }).orderBy('id', 'desc').limit(1);
  return row.source;
}

test('X-Forwarded-For is believed only from a configured proxy, read from the right past trusted hops', async (t) => {
  const s = await startTestServer(pglite, { ...NO_PROCESSES, TRUSTED_PROXIES: '127.0.0.1, 10.0.0.5' });
  try {
    const office = await makeUser(s, 'office-xff', ['office']);
    await office.raw('GET', '/engine-rest/task', undefined, { 'X-Forwarded-For': '203.0.113.7' });
    t.is(await lastSource(s, 'office-xff'), '203.0.113.7');
    // A client-supplied first hop is not trusted: the proxy chain is read from the right.
    await office.raw('GET', '/engine-rest/task', undefined, { 'X-Forwarded-For': '1.1.1.1, 198.51.100.9, 10.0.0.5' });
    t.is(await lastSource(s, 'office-xff'), '198.51.100.9');
    // Failed logins and lockouts count per client, not per proxy.
    await client(s.url, 'office-xff', 'wrong-password').raw('GET', '/engine-rest/task', undefined, { 'X-Forwarded-For': '192.0.2.44' });
    const [failure] = await s.db('trace').where({ operation: 'LoginFailure' }).orderBy('id', 'desc').limit(1);
    t.is(failure.source, '192.0.2.44');
    t.truthy(await s.db('login_failures').where({ key: 'addr:192.0.2.44' }).first());
  } finally {
    await s.stop();
  }
});

test('without trusted proxies the header is ignored: a client cannot choose where it is traced from', async (t) => {
  const s = await startTestServer(pglite, NO_PROCESSES);
  try {
    const admin = client(s.url, ADMIN.user, ADMIN.password);
    await admin.raw('GET', '/engine-rest/process-definition', undefined, { 'X-Forwarded-For': '203.0.113.7' });
    t.regex(await lastSource(s, ADMIN.user), /^(127\.0\.0\.1|::1)$/);
  } finally {
    await s.stop();
  }
});

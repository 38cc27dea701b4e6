import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-t', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

  test.serial(t('a Bearer token works like the password until revoked; it never mints another'), async (t) => {
    const issued = await c.office.post('/engine-rest/token', { name: 'Camunda Modeler', expiresInSeconds: 3600 });
    t.is(issued.status, 200);
    t.regex(issued.body.token, /^bpmn_/);
    const asToken = (method: string, url: string, body?: unknown) => client(c.server.url).raw(method, url, body, bearer(issued.body.token));
    const tasks = await asToken('GET', '/engine-rest/task');
    t.is(tasks.status, 200);
    t.is((await asToken('POST', '/engine-rest/token', {})).status, 403, 'only a password login issues tokens');
    // The database holds only a digest of the token.
    const rows = await c.server.db('api_tokens').select('token_hash');
    t.false(JSON.stringify(rows).includes(issued.body.token));
    const listed = (await c.office.get('/engine-rest/token')).body;
    t.deepEqual(listed.map((x: { id: string }) => x.id), [issued.body.id]);
    t.false(JSON.stringify(listed).includes(issued.body.token));
    t.is((await c.office.delete(`/engine-rest/token/${issued.body.id}`)).status, 204);
    const after = await asToken('GET', '/engine-rest/task');
    t.is(after.status, 401);
    t.regex(after.body.message, /revoked/);
  });

  test.serial(t('expired, unknown and malformed tokens get 401; bad lifetimes get 400'), async (t) => {
    const anon = client(c.server.url);
    const issued = await c.office.post('/engine-rest/token', { expiresInSeconds: 60 });
    await c.server.db('api_tokens').where({ id: issued.body.id }).update({ expires_at: c.server.db.raw("now() - interval '1 second'") });
    t.is((await anon.raw('GET', '/engine-rest/task', undefined, bearer(issued.body.token))).status, 401);
    t.is((await anon.raw('GET', '/engine-rest/task', undefined, bearer('bpmn_nonsense'))).status, 401);
    t.is((await anon.raw('GET', '/engine-rest/task', undefined, { Authorization: 'Bearer' })).status, 401);
    t.is((await c.office.post('/engine-rest/token', { expiresInSeconds: 10 })).status, 400);
    t.is((await c.office.post('/engine-rest/token', { expiresInSeconds: 'forever' })).status, 400);
    const other = await c.admin.post('/engine-rest/token', {});
    t.is((await c.office.delete(`/engine-rest/token/${other.body.id}`)).status, 404, "nobody revokes another's token but an administrator");
    t.is((await c.admin.delete(`/engine-rest/token/${other.body.id}`)).status, 204);
  });
}

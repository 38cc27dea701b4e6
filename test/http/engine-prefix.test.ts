import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda's named-engine prefix: /engine-rest/engine/default/x is /engine-rest/x in every respect
 * (authentication, roles, routing, the read trace, errors); another engine's name is Camunda's 400.
 */
for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; network: Client; stranger: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password), stranger: client(server.url),
      office: await makeUser(server, 'office-pfx', ['office']), network: await makeUser(server, 'net-pfx', ['network-security']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const P = '/engine-rest/engine/default';

  test.serial(t('GET /engine lists the one engine, under both forms of the path'), async (t) => {
    t.deepEqual((await c.office.get('/engine-rest/engine')).body, [{ name: 'default' }]);
    t.deepEqual((await c.office.get(`${P}/version`)).body, (await c.office.get('/engine-rest/version')).body);
  });

  test.serial(t('the prefixed path needs the same credentials: a stranger gets 401, also for another engine'), async (t) => {
    const r = await c.stranger.get(`${P}/process-definition`);
    t.is(r.status, 401);
    t.is(r.body.type, 'AuthenticationException');
    t.is((await c.stranger.get('/engine-rest/engine/other/process-definition')).status, 401);
    t.is((await client(c.server.url, 'office-pfx', 'wrong').get(`${P}/task`)).status, 401);
  });

  test.serial(t('starting, listing and reading under the prefix answer as without it, and are traced as the same route'), async (t) => {
    const started = await c.admin.post(`${P}/process-definition/key/parallel-review/start`, { businessKey: 'PFX-1', variables: vars({ ticket: 'PFX' }) });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id as string;
    const plain = await c.network.get(`/engine-rest/task?processInstanceId=${id}`);
    const prefixed = await c.network.get(`${P}/task?processInstanceId=${id}`);
    t.is(prefixed.status, 200);
    t.deepEqual(prefixed.body, plain.body);
    t.is(prefixed.body.length, 1);
    const before = new Date();
    const vars1 = await c.network.get(`${P}/process-instance/${id}/variables`);
    t.is(vars1.body.ticket.value, 'PFX');
    const rows = await c.server.db('trace').where({ operation: 'Read', user_id: 'net-pfx', process_instance_id: id }).where('time', '>=', new Date(before.getTime() - 1000));
    const routes = rows.map((r: { details: unknown }) => (typeof r.details === 'string' ? JSON.parse(r.details) : r.details).route);
    t.true(routes.includes('GET /engine-rest/process-instance/:id/variables'), JSON.stringify(routes));
  });

  test.serial(t('roles hold under the prefix: what office may not see is as hidden as without it'), async (t) => {
    const id = (await c.admin.post(`${P}/process-definition/key/parallel-review/start`, { variables: vars({ ticket: 'PFX-2' }) })).body.id as string;
    const plain = await c.office.get(`/engine-rest/process-instance/${id}/variables`);
    const prefixed = await c.office.get(`${P}/process-instance/${id}/variables`);
    t.is(prefixed.status, plain.status);
    t.true(prefixed.status === 403 || prefixed.status === 404);
    t.is((await c.office.post(`${P}/user/create`, { profile: { id: 'x-pfx' }, credentials: { password: 'x-pfx-password-1' } })).status, 403);
  });

  test.serial(t('an unknown route or method under the prefix is the same 404 / 405; another engine is Camunda\'s 400'), async (t) => {
    const missing = await c.admin.get(`${P}/no-such-thing`);
    t.is(missing.status, 404);
    t.is(missing.body.type, 'NotFound');
    // Our own resources are not Camunda's: served at /engine-rest only, never under an engine's name.
    for (const own of ['notification', 'carbon-copy', 'notification-webhook', 'notification/preferences']) {
      t.is((await c.admin.get(`/engine-rest/${own}`)).status, 200, own);
      t.is((await c.admin.get(`${P}/${own}`)).status, 404, `${P}/${own}`);
    }
    t.is((await c.admin.raw('PATCH', `${P}/task`)).status, 405);
    const other = await c.admin.get('/engine-rest/engine/other/process-definition');
    t.is(other.status, 400);
    t.is(other.body.type, 'InvalidRequestException');
    t.regex(other.body.message, /No process engine available/);
    // Paths match without regard to case, as everywhere in the API; an engine's name is a name, and exact.
    t.is((await c.admin.get('/ENGINE-REST/ENGINE/default/version')).status, 200);
    t.is((await c.admin.get('/engine-rest/engine/DEFAULT/version')).status, 400);
  });
}

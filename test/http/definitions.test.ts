import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    const a = fixture('two-versions-a.bpmn');
    const b = fixture('two-versions-b.bpmn');
    await server.services.deployments.deploy(oneResource('v.bpmn', a));
    await server.services.deployments.deploy(oneResource('v.bpmn', b));
    await server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const keys = (rows: { key: string; version: number }[]) => rows.map((d) => `${d.key}:${d.version}`);

  test(t('definitions are queried with Camunda filters, sorting, paging and count'), async (t) => {
    const get = async (q: string) => (await c.admin.get(`/engine-rest/process-definition?${q}`)).body;
    t.deepEqual(keys(await get('key=versioned')), ['versioned:1', 'versioned:2']);
    t.deepEqual(keys(await get('key=versioned&latestVersion=true')), ['versioned:2']);
    t.deepEqual(keys(await get('key=versioned&version=1')), ['versioned:1']);
    t.deepEqual(keys(await get('keyLike=parallel%25')), ['parallel-review:1']);
    t.deepEqual(keys(await get('nameLike=%25版本%25&sortBy=version&sortOrder=desc')), ['versioned:2', 'versioned:1']);
    t.deepEqual(keys(await get('name=并行验收')), ['parallel-review:1']);
    t.deepEqual(keys(await get('key=versioned&sortBy=version&sortOrder=desc&maxResults=1')), ['versioned:2']);
    const all = keys(await get('sortBy=key&sortOrder=asc'));
    t.deepEqual(all, [...all].sort(), 'sorted by key');
    t.deepEqual(keys(await get('sortBy=key&sortOrder=asc&firstResult=1&maxResults=2')), all.slice(1, 3), 'a page of the same order');
    t.is((await c.admin.get('/engine-rest/process-definition/count?key=versioned')).body.count, 2);
    t.is((await c.admin.get('/engine-rest/process-definition?version=zero')).status, 400);
  });

  test(t('startablePermissionCheck lists exactly what each caller may start'), async (t) => {
    const callers = {
      admin: c.admin,
      office: await makeUser(c.server, 'office-startable', ['office']),
      network: await makeUser(c.server, 'network-startable', ['network-security']),
      worker: await makeUser(c.server, 'worker-startable', ['workers']),
    };
    const all = (await c.admin.get('/engine-rest/process-definition?latestVersion=true&startableInTasklist=true')).body as { id: string; key: string }[];
    for (const [name, who] of Object.entries(callers)) {
      if (name === 'worker') {
        t.is((await who.get('/engine-rest/process-definition?startablePermissionCheck=true')).status, 403, 'machines list nothing');
        continue;
      }
      const listed = (await who.get('/engine-rest/process-definition?latestVersion=true&startableInTasklist=true&startablePermissionCheck=true')).body.map((d: { key: string }) => d.key).sort();
      // The start form answers 403 exactly where a start would be refused (assertMayStart): the list must agree.
      const allowed: string[] = [];
      for (const d of all) if ((await who.get(`/engine-rest/process-definition/${d.id}/form-variables`)).status === 200) allowed.push(d.key);
      t.deepEqual(listed, allowed.sort(), name);
    }
    const officeKeys = (await callers.office.get('/engine-rest/process-definition?latestVersion=true&startablePermissionCheck=true')).body.map((d: { key: string }) => d.key);
    t.true(officeKeys.includes('security-plan-approval'));
    t.false(officeKeys.includes('daily-patrol'));
    t.is((await callers.office.get('/engine-rest/process-definition/count?latestVersion=true&startablePermissionCheck=true')).body.count, officeKeys.length);
  });

  test(t('the start form comes as form-variables, only to who may start the process'), async (t) => {
    const office = await makeUser(c.server, `sf-office-${backend.name}`, ['office']);
    const network = await makeUser(c.server, `sf-network-${backend.name}`, ['network-security']);
    const byKey = await office.get('/engine-rest/process-definition/key/security-plan-approval/form-variables');
    t.is(byKey.status, 200);
    t.deepEqual(byKey.body, {
      title: { value: null, type: 'String', valueInfo: {} },
      planType: { value: null, type: 'String', valueInfo: {} },
      // The leading group's vote: its rule and share, with their defaults typed as Camunda types them.
      decisionRule: { value: 'all', type: 'String', valueInfo: {} },
      voteThreshold: { value: 50, type: 'Long', valueInfo: {} },
    });
    const [def] = (await office.get('/engine-rest/process-definition?key=security-plan-approval&latestVersion=true')).body;
    t.deepEqual((await office.get(`/engine-rest/process-definition/${def.id}/form-variables?variableNames=planType`)).body, { planType: { value: null, type: 'String', valueInfo: {} } });
    const refused = await network.get(`/engine-rest/process-definition/${def.id}/form-variables`);
    t.is(refused.status, 403);
    t.is(refused.body.type, 'AuthorizationException');
    t.is((await office.get('/engine-rest/process-definition/no-such-id/form-variables')).status, 404);
  });

  test(t('the XML comes back exactly as deployed, by id and by key'), async (t) => {
    const [latest] = (await c.admin.get('/engine-rest/process-definition?key=versioned&latestVersion=true')).body;
    const byId = await c.admin.get(`/engine-rest/process-definition/${latest.id}/xml`);
    t.is(byId.body.bpmn20Xml, fixture('two-versions-b.bpmn').toString('utf8'));
    const byKey = await c.admin.get('/engine-rest/process-definition/key/versioned/xml');
    t.deepEqual(byKey.body, byId.body);
    t.is((await c.admin.get('/engine-rest/process-definition/nope/xml')).status, 404);
    const one = await c.admin.get(`/engine-rest/process-definition/key/versioned`);
    t.is(one.body.version, 2);
  });
}

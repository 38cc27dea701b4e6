import test from 'ava';
import { backends } from '../helpers/db.ts';
import { deployDmn, readDmnFixture as read } from '../helpers/decisions.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Decisions over Camunda 7's REST (issue 15): .dmn resources deployed alone
 * and with BPMN, versioned per decision key, queried, read back as XML.
 * Evaluation and history are in decision-evaluation.test.ts.
 */

const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
const values = <T>(map: Record<string, T> | null) => Object.values(map ?? {});

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-dmn', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('a .dmn alone deploys one decision definition, no requirements definition for a single decision, resource downloadable'), async (t) => {
    const r = await deployDmn(c.server, 'dish', ['dish.dmn']);
    t.is(r.status, 200, JSON.stringify(r.body));
    t.is(r.body.deployedProcessDefinitions, null);
    t.is(r.body.deployedDecisionRequirementsDefinitions, null, 'Camunda stores no DRD for a resource of one decision');
    const [dish] = values<any>(r.body.deployedDecisionDefinitions);
    t.like(dish, {
      key: 'dish', name: '菜品', version: 1, versionTag: '1.0', resource: 'dish.dmn', deploymentId: r.body.id,
      decisionRequirementsDefinitionId: null, decisionRequirementsDefinitionKey: null, tenantId: null, category: 'http://camunda.org/schema/1.0/dmn',
    });
    t.regex(dish.id, /^dish:1:/);
    // Read by every signed-in user: by id, by key, its XML, and the deployment's resource.
    t.deepEqual((await c.office.get(`/engine-rest/decision-definition/${dish.id}`)).body, dish);
    t.deepEqual((await c.office.get('/engine-rest/decision-definition/key/dish')).body, dish);
    const xml = await c.office.get(`/engine-rest/decision-definition/${dish.id}/xml`);
    t.deepEqual(xml.body, { id: dish.id, dmnXml: read('dish.dmn').toString('utf8') });
    t.deepEqual((await c.office.get('/engine-rest/decision-definition/key/dish/xml')).body, xml.body);
    const resources = (await c.office.get(`/engine-rest/deployment/${r.body.id}/resources`)).body;
    t.deepEqual(resources.map((x: any) => x.name), ['dish.dmn']);
    const data = await fetch(`${c.server.url}/engine-rest/deployment/${r.body.id}/resources/${resources[0].id}/data`, { headers: { Authorization: basic } });
    t.is(data.headers.get('content-type'), 'application/xml');
    t.true(Buffer.compare(Buffer.from(await data.arrayBuffer()), read('dish.dmn')) === 0);
  });

  test.serial(t('versions per decision key: a changed table is version n+1, an unchanged one is filtered, versionTag follows the file'), async (t) => {
    const filtering = { 'enable-duplicate-filtering': 'true', 'deploy-changed-only': 'true' };
    // Unchanged since the current version (deployed under another name): no new version, the current one answered.
    const first = await deployDmn(c.server, 'dish-versions', ['dish.dmn'], filtering);
    const [v1] = values<any>(first.body.deployedDecisionDefinitions);
    t.like(v1, { key: 'dish', version: 1 });
    // The same bytes under the same name: the earlier deployment comes back, nothing new is stored.
    const again = await deployDmn(c.server, 'dish-versions', ['dish.dmn'], filtering);
    t.is(again.body.id, first.body.id);
    t.deepEqual(Object.keys(again.body.deployedDecisionDefinitions), [v1.id]);
    // A changed table under the same name: version 2, with its own versionTag.
    const changed = await deployDmn(c.server, 'dish-versions', [['dish.dmn', read('dish-v2.dmn')]], filtering);
    t.is(changed.status, 200);
    const [v2] = values<any>(changed.body.deployedDecisionDefinitions);
    t.like(v2, { key: 'dish', version: 2, versionTag: '2.0' });
    // Without filtering, the same bytes are a new version (Camunda's default).
    const plain = await deployDmn(c.server, 'dish-plain', [['dish.dmn', read('dish-v2.dmn')]]);
    t.is(values<any>(plain.body.deployedDecisionDefinitions)[0].version, 3);
    t.is((await c.admin.get('/engine-rest/decision-definition/count?key=dish')).body.count, 3);
    t.is((await c.admin.get('/engine-rest/decision-definition/key/dish')).body.version, 3);
    const latest = (await c.admin.get('/engine-rest/decision-definition?key=dish&latestVersion=true')).body;
    t.deepEqual(latest.map((d: any) => d.version), [3]);
    const tagged = (await c.admin.get('/engine-rest/decision-definition?versionTag=2.0&sortBy=version&sortOrder=desc')).body;
    t.deepEqual(tagged.map((d: any) => d.version), [3, 2]);
  });

  test.serial(t('a .dmn of two decisions with a .bpmn: process, decisions and their requirements definition in one deployment'), async (t) => {
    const r = await deployDmn(c.server, 'dinner', ['dinner.dmn', 'dinner-order.bpmn']);
    t.is(r.status, 200, JSON.stringify(r.body));
    t.deepEqual(values<any>(r.body.deployedProcessDefinitions).map((p) => p.key), ['dinner-order']);
    const [drd] = values<any>(r.body.deployedDecisionRequirementsDefinitions);
    t.like(drd, { key: 'dinner', name: '晚餐决策', version: 1, resource: 'dinner.dmn', deploymentId: r.body.id, tenantId: null });
    const decisions = values<any>(r.body.deployedDecisionDefinitions).sort((a, b) => a.key.localeCompare(b.key));
    t.deepEqual(decisions.map((d) => [d.key, d.decisionRequirementsDefinitionId, d.decisionRequirementsDefinitionKey]), [
      ['beverages', drd.id, 'dinner'], ['dinnerDish', drd.id, 'dinner'],
    ]);
    t.deepEqual((await c.office.get(`/engine-rest/decision-requirements-definition/${drd.id}`)).body, drd);
    t.deepEqual((await c.office.get('/engine-rest/decision-requirements-definition/key/dinner')).body, drd);
    t.deepEqual((await c.office.get(`/engine-rest/decision-requirements-definition/${drd.id}/xml`)).body, { id: drd.id, dmnXml: read('dinner.dmn').toString('utf8') });
    t.deepEqual((await c.office.get('/engine-rest/decision-requirements-definition/key/dinner/xml')).body.id, drd.id);
    t.deepEqual((await c.office.get('/engine-rest/decision-requirements-definition?key=dinner')).body, [drd]);
    t.is((await c.office.get('/engine-rest/decision-requirements-definition/count?keyLike=din%25')).body.count, 1);
    const members = (await c.office.get(`/engine-rest/decision-definition?decisionRequirementsDefinitionId=${drd.id}&sortBy=key&sortOrder=asc`)).body;
    t.deepEqual(members.map((d: any) => d.key), ['beverages', 'dinnerDish']);
    const resources = (await c.office.get(`/engine-rest/deployment/${r.body.id}/resources`)).body.map((x: any) => x.name).sort();
    t.deepEqual(resources, ['dinner-order.bpmn', 'dinner.dmn']);
    // A new version of the file: the requirements definition is version 2 too.
    const changed = Buffer.from(read('dinner.dmn').toString('utf8').replace('"Water"', '"Tea"'));
    const r2 = await deployDmn(c.server, 'dinner', [['dinner.dmn', changed]]);
    t.is(values<any>(r2.body.deployedDecisionRequirementsDefinitions)[0].version, 2);
    t.is((await c.office.get('/engine-rest/decision-requirements-definition/key/dinner')).body.version, 2);
  });

  test.serial(t('queries take Camunda parameter names, sorting and paging; bad values are 400 naming the parameter'), async (t) => {
    const all = (await c.office.get('/engine-rest/decision-definition?sortBy=key&sortOrder=asc')).body;
    const keys = all.map((d: any) => d.key);
    t.deepEqual(keys, [...keys].sort());
    const page = (await c.office.get('/engine-rest/decision-definition?sortBy=key&sortOrder=asc&firstResult=1&maxResults=2')).body;
    t.deepEqual(page, all.slice(1, 3));
    t.deepEqual((await c.office.get('/engine-rest/decision-definition?withoutDecisionRequirementsDefinition=true&latestVersion=true')).body.map((d: any) => d.key), ['dish']);
    t.deepEqual((await c.office.get('/engine-rest/decision-definition?nameLike=%25品&resourceName=dinner.dmn&latestVersion=true')).body.map((d: any) => d.key), ['beverages']);
    const [one] = all;
    t.deepEqual((await c.office.get(`/engine-rest/decision-definition?decisionDefinitionId=${one.id}`)).body, [one]);
    t.deepEqual((await c.office.get(`/engine-rest/decision-definition?decisionDefinitionIdIn=${one.id},nothing`)).body, [one]);
    t.is((await c.office.get('/engine-rest/decision-definition/count?key=dish&version=2')).body.count, 1);
    for (const [query, names] of [['sortBy=nope&sortOrder=asc', /sortBy/], ['sortBy=key', /sortOrder/], ['version=x', /version/], ['latestVersion=maybe', /latestVersion/], ['deployedAfter=never', /deployedAfter/]] as const) {
      const bad = await c.office.get(`/engine-rest/decision-definition?${query}`);
      t.is(bad.status, 400, query);
      t.is(bad.body.type, 'InvalidRequestException');
      t.regex(bad.body.message, names);
    }
  });

  test.serial(t('unknown decisions answer 404 in Camunda\'s error body'), async (t) => {
    for (const url of [
      '/decision-definition/nope', '/decision-definition/nope/xml', '/decision-definition/key/nope', '/decision-definition/key/nope/xml',
      '/decision-definition/key/dish/tenant-id/other', '/decision-requirements-definition/nope', '/decision-requirements-definition/key/nope',
      '/decision-requirements-definition/nope/xml',
    ]) {
      const r = await c.office.get(`/engine-rest${url}`);
      t.is(r.status, 404, url);
      t.is(r.body.type, 'InvalidRequestException', url);
      t.regex(r.body.message, /不存在 \/ no decision/, url);
    }
  });

  test.serial(t('a broken table is refused with ENGINE-09005-style problems naming the element, and nothing of the deployment is stored'), async (t) => {
    const before = {
      deployments: (await c.admin.get('/engine-rest/deployment/count')).body.count,
      decisions: (await c.admin.get('/engine-rest/decision-definition/count')).body.count,
    };
    // With a good process and a good table beside it: all or nothing.
    const r = await deployDmn(c.server, 'broken', ['dinner-order.bpmn', 'dish.dmn', 'broken.dmn']);
    t.is(r.status, 400);
    t.is(r.body.type, 'ParseException');
    t.regex(r.body.message, /ENGINE-09005/);
    t.regex(r.body.message, /FEEL[^|]*\| resource broken\.dmn \| element brokenEntry \| line 10\b/);
    t.truthy(r.body.details?.['broken.dmn'], 'the problems are keyed by the resource');
    t.is((await c.admin.get('/engine-rest/deployment/count')).body.count, before.deployments);
    t.is((await c.admin.get('/engine-rest/decision-definition/count')).body.count, before.decisions);
  });

  test.serial(t('one decision key in two resources of a deployment is refused, naming the key and both resources; nothing stored'), async (t) => {
    const before = (await c.admin.get('/engine-rest/deployment/count')).body.count;
    const r = await deployDmn(c.server, 'twice', ['dish.dmn', ['dish-copy.dmn', read('dish-v2.dmn')]]);
    t.is(r.status, 400);
    t.regex(r.body.message, /'dish'.*dish\.dmn.*dish-copy\.dmn/);
    t.is((await c.admin.get('/engine-rest/deployment/count')).body.count, before);
  });

  test.serial(t('only administrators deploy decisions; reads are traced'), async (t) => {
    const form = new FormData();
    form.append('dish.dmn', new Blob([read('dish.dmn')]), 'dish.dmn');
    const auth = `Basic ${Buffer.from('office-dmn:office-dmn-password').toString('base64')}`;
    const refused = await fetch(`${c.server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: auth } });
    t.is(refused.status, 403);
    await c.office.get('/engine-rest/decision-definition/key/dish');
    const [row] = await c.server.db('trace').where({ user_id: 'office-dmn', entity_type: 'DecisionDefinition' }).orderBy('id', 'desc').limit(1);
    t.is(row.operation, 'Read');
    t.regex(row.details.route, /GET \/engine-rest\/decision-definition\/key\/:key$/);
  });
}

import test from 'ava';
import { diagramNameFor } from '../../src/services/decision-diagrams.ts';
import { backends } from '../helpers/db.ts';
import { deployDmn } from '../helpers/decisions.ts';
import { makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Camunda 7.24's diagram and statistics reads for decisions (issue 15):
 * GET /decision-requirements-definition/{id}/diagram (and /decision-definition),
 * by id, key and tenant, answer the image deployed beside the DMN file as
 * Camunda's deployer picks it, or 204; GET /history/decision-requirements-definition/{id}/statistics
 * counts the evaluations of each decision of the DRD.
 */

// A 1x1 PNG and a small SVG: the bytes must come back exactly.
const png = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==', 'base64');
const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"><script>alert(1)</script></svg>');

test('the diagram Camunda\'s deployer picks: <base>.<key>.<suffix>, then <base>.<suffix>, png before jpg, gif, svg', (t) => {
  const names = (...n: string[]) => new Set(n);
  t.is(diagramNameFor('dinner.dmn', 'beverages', names('dinner.png', 'dinner.beverages.svg')), 'dinner.png');
  t.is(diagramNameFor('dinner.dmn', 'beverages', names('dinner.beverages.png', 'dinner.png')), 'dinner.beverages.png');
  t.is(diagramNameFor('dinner.dmn', 'beverages', names('dinner.beverages.svg')), 'dinner.beverages.svg');
  t.is(diagramNameFor('dmn/dinner.dmn11.xml', 'dinner', names('dmn/dinner.gif')), 'dmn/dinner.gif');
  t.is(diagramNameFor('dinner.dmn', 'dinner', names('other.png', 'dinner.bmp')), null);
});

for (const backend of backends) {
  let c!: { server: TestServer; office: Client; network: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES);
    c = { server, office: await makeUser(server, 'office-drd', ['office']), network: await makeUser(server, 'network-drd', ['network-security']) };
    for (const [name, files] of [
      ['dinner', ['dinner.dmn', ['dinner.png', png], ['dinner.beverages.svg', svg]]],
      ['dish', ['dish.dmn', ['dish.dish.svg', svg]]],
      ['hit-policies', ['hit-policies.dmn']],
    ] as const) {
      const r = await deployDmn(server, name, files.map((f) => (typeof f === 'string' ? f : [f[0], f[1]])));
      if (r.status !== 200) throw new Error(`deploy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    const tenant = await deployDmn(server, 'dinner-tenant', ['dinner.dmn'], { 'tenant-id': 'tenant-one' });
    if (tenant.status !== 200) throw new Error(`deploy tenant: ${tenant.status} ${JSON.stringify(tenant.body)}`);
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  // fetch itself: the image's bytes must come back untouched (the client helper reads text).
  const raw = (path: string) => fetch(`${c.server.url}/engine-rest${path}`, { headers: { Authorization: `Basic ${Buffer.from('office-drd:office-drd-password').toString('base64')}` } });

  test.serial(t('a DRD\'s diagram by id and by key is the image deployed beside it, with its media type; none is 204; an unknown DRD 404'), async (t) => {
    const [drd] = (await c.office.get('/engine-rest/decision-requirements-definition?key=dinner&withoutTenantId=true')).body;
    for (const path of [`/decision-requirements-definition/${drd.id}/diagram`, '/decision-requirements-definition/key/dinner/diagram']) {
      const r = await raw(path);
      t.is(r.status, 200, path);
      t.is(r.headers.get('content-type'), 'image/png');
      t.regex(r.headers.get('content-disposition') ?? '', /attachment; filename="dinner.png"/);
      t.deepEqual(Buffer.from(await r.arrayBuffer()), png);
    }
    // The tenant's version was deployed without an image.
    t.is((await raw('/decision-requirements-definition/key/dinner/tenant-id/tenant-one/diagram')).status, 204);
    t.is((await raw('/decision-requirements-definition/key/hit-policies/diagram')).status, 204);
    const missing = await c.office.get('/engine-rest/decision-requirements-definition/nope/diagram');
    t.is(missing.status, 404);
    t.is(missing.body.type, 'InvalidRequestException');
    t.is((await c.office.get('/engine-rest/decision-requirements-definition/key/nope/diagram')).status, 404);
  });

  test.serial(t('a decision\'s diagram: png before svg as Camunda picks it, an SVG sandboxed, none is 204'), async (t) => {
    const beverages = await raw('/decision-definition/key/beverages/diagram');
    t.is(beverages.headers.get('content-type'), 'image/png', 'dinner.png comes before dinner.beverages.svg');
    const [dish] = (await c.office.get('/engine-rest/decision-definition?key=dish')).body;
    const r = await raw(`/decision-definition/${dish.id}/diagram`);
    t.is(r.status, 200);
    t.is(r.headers.get('content-type'), 'image/svg+xml');
    t.regex(r.headers.get('content-security-policy') ?? '', /sandbox/);
    t.is(r.headers.get('x-content-type-options'), 'nosniff');
    t.deepEqual(Buffer.from(await r.arrayBuffer()), svg);
    t.is((await raw('/decision-definition/key/hpFirst/diagram')).status, 204);
    t.is((await raw('/decision-definition/key/beverages/tenant-id/tenant-one/diagram')).status, 204);
    t.is((await c.office.get('/engine-rest/decision-definition/nope/diagram')).status, 404);
  });

  test.serial(t('DRD statistics: evaluations per decision of the DRD, one evaluation with decisionInstanceId, only what the caller may see'), async (t) => {
    const [drd] = (await c.office.get('/engine-rest/decision-requirements-definition?key=dinner&withoutTenantId=true')).body;
    const url = `/engine-rest/history/decision-requirements-definition/${drd.id}/statistics`;
    t.deepEqual((await c.office.get(url)).body, []);
    const season = (s: string) => ({ variables: { season: { value: s, type: 'String' } } });
    for (const s of ['Winter', 'Summer']) t.is((await c.office.post('/engine-rest/decision-definition/key/beverages/evaluate', season(s))).status, 200);
    t.is((await c.office.post('/engine-rest/decision-definition/key/dinnerDish/evaluate', season('Winter'))).status, 200);
    t.deepEqual((await c.office.get(url)).body, [{ decisionDefinitionKey: 'beverages', evaluations: 2 }, { decisionDefinitionKey: 'dinnerDish', evaluations: 3 }]);
    const [root] = (await c.office.get('/engine-rest/history/decision-instance?decisionDefinitionKey=beverages&maxResults=1')).body;
    t.deepEqual((await c.office.get(`${url}?decisionInstanceId=${root.id}`)).body, [{ decisionDefinitionKey: 'beverages', evaluations: 1 }, { decisionDefinitionKey: 'dinnerDish', evaluations: 1 }]);
    // Another user sees none of the office's evaluations (as /history/decision-instance); an unknown DRD has none (Camunda: an empty list).
    t.deepEqual((await c.network.get(url)).body, []);
    t.deepEqual((await c.office.get('/engine-rest/history/decision-requirements-definition/nope/statistics')).body, []);
    const [read] = await c.server.db('trace').where({ user_id: 'office-drd', operation: 'Read', entity_type: 'DecisionRequirementsDefinition' }).orderBy('id', 'desc').limit(1);
    t.is(read.entity_id, 'nope');
  });
}

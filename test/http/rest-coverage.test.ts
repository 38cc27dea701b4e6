import fs from 'node:fs';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { camundaPairs, coverageMarkdown, DOC, measure, PATHS_MODULE, pathsModule } from '../helpers/rest-coverage.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Issue 18's measure: every method and path of Camunda 7.24's REST API is either answered by a route of
 * ours or refused with 501 and Camunda's error body; none falls through to a 404. The table in
 * docs/rest-coverage.md is the expected outcome of each, so a route lost fails here, as does a route added
 * without `npm run rest-coverage`.
 */

/** The implemented count when this test was written; it may only grow. */
const AT_LEAST_IMPLEMENTED = 345;

test('the server\'s list of Camunda paths is the fixture\'s (npm run rest-coverage writes it)', (t) => {
  t.is(camundaPairs().length, 399);
  t.is(fs.readFileSync(PATHS_MODULE, 'utf8'), pathsModule(camundaPairs()));
});

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-cov', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('every Camunda 7.24 pair is implemented or refused with 501, as docs/rest-coverage.md says'), async (t) => {
    const results = await measure(c.admin);
    t.deepEqual(results.filter((r) => r.outcome === 'missing').map((r) => `${r.pair}: ${r.why}`), []);
    const implemented = results.filter((r) => r.outcome === 'implemented').length;
    t.true(implemented >= AT_LEAST_IMPLEMENTED, `${implemented} implemented, fewer than ${AT_LEAST_IMPLEMENTED}`);
    // Which pair is implemented, pair by pair: the document is the stored expectation.
    t.is(coverageMarkdown(results), fs.readFileSync(DOC, 'utf8'), 'docs/rest-coverage.md is out of date: run npm run rest-coverage');
  });

  test.serial(t('what the server does not have is refused with 501 naming the feature, in Chinese and English'), async (t) => {
    for (const [method, url, feature] of [
      ['GET', '/engine-rest/tenant', 'tenants'],
      ['GET', '/engine-rest/process-definition/key/x/tenant-id/t1', 'tenants'],
      ['GET', '/engine-rest/telemetry/configuration', 'telemetry'],
      ['POST', '/engine-rest/authorization/create', 'authorizations'],
      ['GET', '/engine-rest/case-definition', 'CMMN'],
      ['POST', '/engine-rest/case-instance/c1/complete', 'CMMN'],
      ['GET', '/engine-rest/process-definition/key/x/tenant-id/t1/statistics', 'tenants'],
      ['OPTIONS', '/engine-rest/tenant', 'tenants'],
      ['POST', '/engine-rest/engine/default/process-definition/x/restart', null],
    ] as const) {
      const r = await c.office.raw(method, url);
      t.is(r.status, 501, `${method} ${url}: ${JSON.stringify(r.body)}`);
      t.is(r.body.type, 'RestException');
      t.regex(r.body.message, /^[^/]*[\u4e00-\u9fff][^/]* \/ .*(not supported|not implemented) by this server/, r.body.message);
      if (feature) t.true(r.body.message.includes(feature), r.body.message);
      t.truthy(r.body.details.camunda);
    }
    // Not Camunda's: still a plain 404 or 405.
    t.is((await c.office.get('/engine-rest/no-such-resource')).status, 404);
    t.is((await c.office.raw('PATCH', '/engine-rest/task')).status, 405);
    // An existing route of another shape that finds its entity is not touched: a definition does exist by id.
    t.is((await c.office.get('/engine-rest/process-definition/no-such-id')).status, 404);
  });

  test.serial(t('a refusal comes after authentication: a stranger learns nothing'), async (t) => {
    t.is((await client(c.server.url).get('/engine-rest/tenant')).status, 401);
    t.is((await client(c.server.url).raw('OPTIONS', '/engine-rest/tenant')).status, 401);
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer } from '../helpers/server.ts';

/*
 * Camunda's processDefinitionId criterion on the runtime and historic
 * instance queries, in both forms: with two versions of one process, it
 * names one version's instances only (it used to be read as no criterion,
 * answering every version's: accepted, then wrong).
 */
const KEY = 'filter-two-roles';

for (const backend of backends) {
  test(`${backend.name}: processDefinitionId narrows GET and POST /process-instance and /history/process-instance to that version`, async (t) => {
    const s = await startTestServer(backend, NO_PROCESSES);
    try {
      const xml = fixture(`${KEY}.bpmn`).toString('utf8');
      const v1 = await s.services.deployments.deploy(oneResource(`${KEY}.bpmn`, Buffer.from(xml)));
      const v2 = await s.services.deployments.deploy(oneResource(`${KEY}.bpmn`, Buffer.from(`${xml}\n<!-- version 2 -->`)));
      const [d1, d2] = [v1.definitions[0]!.id, v2.definitions[0]!.id];
      t.not(d1, d2);
      const i1 = (await s.services.instances.startByKey(KEY, { variables: {} }, adminPrincipal)).instance.id;
      t.is((await s.services.instances.list({ state: 'ACTIVE' }, adminPrincipal)).length, 1);
      const i0 = (await s.services.instances.start(d1, { variables: {} }, adminPrincipal)).instance.id;
      const admin = client(s.url, ADMIN.user, ADMIN.password);
      const ids = (r: { body: { id: string }[] }) => r.body.map((x) => x.id).sort();
      t.deepEqual(ids(await admin.get(`/engine-rest/process-instance?processDefinitionId=${d1}`)), [i0]);
      t.deepEqual(ids(await admin.get(`/engine-rest/process-instance?processDefinitionId=${d2}`)), [i1]);
      t.deepEqual(ids(await admin.post('/engine-rest/process-instance', { processDefinitionId: d2 })), [i1]);
      t.deepEqual((await admin.get(`/engine-rest/process-instance/count?processDefinitionId=${d1}`)).body, { count: 1 });
      t.deepEqual(ids(await admin.get(`/engine-rest/history/process-instance?processDefinitionId=${d1}`)), [i0]);
      t.deepEqual(ids(await admin.post('/engine-rest/history/process-instance', { processDefinitionId: d2 })), [i1]);
      t.deepEqual(ids(await admin.get(`/engine-rest/process-instance?processDefinitionKey=${KEY}`)), [i0, i1].sort());
    } finally {
      await s.stop();
    }
  });
}

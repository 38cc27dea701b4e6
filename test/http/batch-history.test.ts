import test from 'ava';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Historic batches (issue 18.9): counted like /history/batch lists them, and
 * an ended batch's history deleted; a running batch is its own history here,
 * so deleting that is refused rather than stopping the batch.
 */
for (const backend of backends) {
  let server: TestServer;
  let admin: Client;
  let office: Client;
  const t = (title: string) => `${backend.name}: ${title}`;
  /** A migration batch whose one job names no instance: it stays running until deleted. */
  let batch: () => Promise<string>;

  test.before(async () => {
    server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    admin = client(server.url, ADMIN.user, ADMIN.password);
    office = await makeUser(server, 'batch-office', ['office']);
    const v1 = await server.services.deployments.deploy(oneResource('bh-v1.bpmn', fixture('migration/mig-v1.bpmn')));
    const v2 = await server.services.deployments.deploy(oneResource('bh-v2.bpmn', fixture('migration/mig-v2.bpmn')));
    const plan = await server.services.migration.generate({ sourceProcessDefinitionId: v1.definitions[0].id, targetProcessDefinitionId: v2.definitions[0].id }, adminPrincipal);
    batch = async () => (await server.services.batches.migrateAsync({ migrationPlan: plan, processInstanceIds: ['no-such-instance'] }, adminPrincipal)).id;
  });
  test.after.always(async () => server?.stop());

  test.serial(t('GET /history/batch/count counts what /history/batch lists, by completed'), async (t) => {
    const running = await batch();
    const ended = await batch();
    t.is((await admin.delete(`/engine-rest/batch/${ended}`)).status, 204);
    for (const q of ['', '?completed=true', '?completed=false', `?batchId=${running}`]) {
      const list = (await admin.get(`/engine-rest/history/batch${q}`)).body;
      t.deepEqual((await admin.get(`/engine-rest/history/batch/count${q}`)).body, { count: list.length }, q);
    }
    t.is((await admin.get('/engine-rest/history/batch/count?completed=true')).body.count, 1);
    t.is((await admin.get('/engine-rest/history/batch/count?completed=maybe')).status, 400);
    t.is((await office.get('/engine-rest/history/batch/count')).status, 403);
  });

  test.serial(t('DELETE /history/batch/{id} removes an ended batch\'s history, refuses a running one, traces the deletion'), async (t) => {
    const running = await batch();
    const ended = await batch();
    await admin.delete(`/engine-rest/batch/${ended}`);
    t.is((await office.delete(`/engine-rest/history/batch/${ended}`)).status, 403);
    const refused = await admin.delete(`/engine-rest/history/batch/${running}`);
    t.is(refused.status, 400);
    t.regex(refused.body.message, /still running/);
    t.is((await admin.get(`/engine-rest/batch/${running}`)).status, 200, 'the running batch goes on');
    t.is((await admin.delete(`/engine-rest/history/batch/${ended}`)).status, 204);
    t.is((await admin.get(`/engine-rest/history/batch/${ended}`)).status, 404);
    t.is((await admin.delete(`/engine-rest/history/batch/${ended}`)).status, 404);
    const trace = (await admin.get(`/engine-rest/history/user-operation?entityType=Batch&operationType=DeleteHistory`)).body;
    t.true(trace.some((e: { entityId?: string; batchId?: string }) => (e.entityId ?? e.batchId) === ended || JSON.stringify(e).includes(ended)));
  });
}

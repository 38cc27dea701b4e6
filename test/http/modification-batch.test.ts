import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * POST /modification/executeAsync: Camunda's instance-modification batch, on
 * the batch machinery of the migration's executeAsync. The scheduler does not
 * run by itself here: the test drives it, so it sees the batch before its jobs.
 */

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; definitionId: string };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    await server.services.deployments.deploy(oneResource('modify-chain.bpmn', fixture('modify-chain.bpmn')));
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    const [def] = (await admin.get('/engine-rest/process-definition?key=modify-chain')).body;
    c = { server, admin, office: await makeUser(server, 'office-mb', ['office']), definitionId: def.id };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async () => (await c.admin.post('/engine-rest/process-definition/key/modify-chain/start', { variables: vars({ applicant: 'alice' }) })).body.id as string;
  const openTasks = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey).sort();
  const history = async (id: string) => (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body as { activityId: string; canceled: boolean }[];

  test.serial(t('modification/executeAsync: an instance-modification batch in /batch and /batch/statistics; each job modifies its instance once, a refused one fails'), async (t) => {
    const a = await start();
    const b = await start();
    const instructions = [{ type: 'cancel', activityId: 'fill' }, { type: 'startBeforeActivity', activityId: 'review' }];
    const body = { processDefinitionId: c.definitionId, processInstanceIds: [a, b], instructions, annotation: '批量调整 / batch fix' };
    // Refused up front, nothing written: not an administrator, no instance, an unknown definition, an activity instance id.
    t.is((await c.office.post('/engine-rest/modification/executeAsync', body)).status, 403);
    t.is((await c.admin.post('/engine-rest/modification/executeAsync', { ...body, processInstanceIds: [] })).status, 400);
    const unknown = await c.admin.post('/engine-rest/modification/executeAsync', { ...body, processDefinitionId: 'no-such-definition' });
    t.is(unknown.status, 400);
    t.regex(unknown.body.message, /no-such-definition/);
    t.is((await c.admin.post('/engine-rest/modification/executeAsync', { ...body, instructions: [{ type: 'cancel', activityInstanceId: 'fill:x' }] })).status, 400);
    t.is((await c.admin.get('/engine-rest/batch?type=instance-modification')).body.length, 0);
    const r = await c.admin.post('/engine-rest/modification/executeAsync', body);
    t.is(r.status, 200, JSON.stringify(r.body));
    const batch = r.body;
    t.like(batch, { type: 'instance-modification', totalJobs: 2, jobsCreated: 2, invocationsPerBatchJob: 1, suspended: false, createUserId: 'admin' });
    t.deepEqual((await c.admin.get('/engine-rest/batch?type=instance-modification')).body.map((x: { id: string }) => x.id), [batch.id]);
    t.like((await c.admin.get(`/engine-rest/batch/statistics?batchId=${batch.id}`)).body[0], { type: 'instance-modification', remainingJobs: 2, completedJobs: 0, failedJobs: 0 });
    const [created] = (await c.admin.get(`/engine-rest/history/user-operation?operationType=ModifyProcessInstance&entityType=Batch`)).body.filter((o: { entityId: string }) => o.entityId === batch.id);
    t.like(created, { userId: 'admin', annotation: '批量调整 / batch fix' });
    t.deepEqual(await openTasks(a), ['fill'], 'nothing runs before the scheduler');
    // b ends before its job runs: the job fails with the reason, a's goes through.
    t.is((await c.admin.post(`/engine-rest/process-instance/${b}/terminate`, { reason: '不再需要 / no longer needed' })).status, 204);
    t.is(await c.server.scheduler.runDue(), 2);
    t.is(await c.server.scheduler.runDue(), 0, 'each job runs once');
    t.deepEqual(await openTasks(a), ['review']);
    t.like((await c.admin.get(`/engine-rest/batch/statistics?batchId=${batch.id}`)).body[0], { remainingJobs: 0, completedJobs: 1, failedJobs: 1 });
    const [failed] = await c.server.db('batch_jobs').where({ batch_id: batch.id, state: 'failed' });
    t.is(failed.process_instance_id, b);
    t.regex(failed.exception_message, /no running process instance/);
    const ops = (await c.admin.get(`/engine-rest/history/user-operation?processInstanceId=${a}&operationType=ModifyProcessInstance`)).body;
    t.is(ops.length, 1, 'modified exactly once');
    t.like(ops[0], { userId: 'admin', annotation: '批量调整 / batch fix' });
    t.is(ops[0].details.batchId, batch.id);
    t.true((await history(a)).find((x) => x.activityId === 'fill')!.canceled);
    // A batch whose jobs all succeed ends by itself; by query as well as by ids.
    const key = `ASYNC-${backend.name}`;
    const d = (await c.admin.post('/engine-rest/process-definition/key/modify-chain/start', { businessKey: key, variables: vars({ applicant: 'dora' }) })).body.id;
    const ok = (await c.admin.post('/engine-rest/modification/executeAsync', { processDefinitionId: c.definitionId, processInstanceQuery: { businessKey: key }, instructions })).body;
    t.is(ok.totalJobs, 1);
    t.is(await c.server.scheduler.runDue(), 1);
    t.deepEqual(await openTasks(d), ['review']);
    t.is((await c.admin.get(`/engine-rest/batch/${ok.id}`)).status, 404);
    t.truthy((await c.admin.get(`/engine-rest/history/batch/${ok.id}`)).body.endTime);
  });
}

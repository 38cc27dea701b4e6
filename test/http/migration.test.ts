import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Process instance migration over REST (Camunda 7's /migration and /batch):
 * v1 → v2 keeps open user tasks (id, assignee, name), a multi-instance
 * task with its counters, a boundary timer and an intermediate timer with
 * their due times; v1 → v3 (the user task became a receive task) is refused,
 * naming the activity. Traced as Migrate; history shows the new version.
 */

const START = new Date('2026-12-07T01:00:00Z');
const startBody = { variables: { starter: { value: 'admin' }, signers: { value: '["a","b"]', type: 'Json' } } };

for (const backend of backends) {
  let s!: TestServer;
  let admin!: Client;
  let office!: Client;
  let clock!: ManualClock;
  const ids: Record<'v1' | 'v2' | 'v3', string> = { v1: '', v2: '', v3: '' };
  test.before(async () => {
    clock = new ManualClock(START);
    s = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    admin = client(s.url, ADMIN.user, ADMIN.password);
    office = await makeUser(s, `office-mig-${backend.name}`, ['office']);
    for (const v of ['v1', 'v2', 'v3'] as const) {
      const r = await s.services.deployments.deploy(oneResource(`mig-${v}.bpmn`, fixture(`migration/mig-${v}.bpmn`)));
      ids[v] = r.definitions[0]!.id;
    }
  });
  test.after.always(async () => s?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async () => (await admin.post(`/engine-rest/process-definition/${ids.v1}/start`, startBody)).body.id as string;
  const plan = async (target: string) => (await admin.post('/engine-rest/migration/generate', { sourceProcessDefinitionId: ids.v1, targetProcessDefinitionId: target })).body;

  test.serial(t('generate maps equal ids of the same type; validate reports nothing for v1 → v2'), async (t) => {
    const p = await plan(ids.v2);
    t.is(p.sourceProcessDefinitionId, ids.v1);
    const mapped = p.instructions.map((i: any) => i.sourceActivityIds[0]).sort();
    t.deepEqual(mapped, ['join', 'review', 'reviewLate', 'sign', 'split', 'wait'], 'flow nodes only: the <bpmn:message> both versions declare is not mapped');
    t.true(p.instructions.every((i: any) => i.sourceActivityIds[0] === i.targetActivityIds[0] && i.updateEventTrigger === false));
    const v = await admin.post('/engine-rest/migration/validate', { migrationPlan: p });
    t.is(v.status, 200);
    t.deepEqual(v.body, { instructionReports: [], variableReports: {} });
    const toV3 = await plan(ids.v3);
    t.false(toV3.instructions.some((i: any) => i.sourceActivityIds[0] === 'review'), 'a user task is not mapped to a receive task');
    // v1 and v3 share their <definitions> id and both declare a message: a root element, never an activity of the plan.
    t.false(toV3.instructions.some((i: any) => i.sourceActivityIds[0] === 'notice'), 'a <bpmn:message> is not mapped');
  });

  test.serial(t('execute carries tasks, a multi-instance task and timers across; traced and in history'), async (t) => {
    const id = await start();
    const before = (await admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    const timersBefore = await s.db('timers').where({ process_instance_id: id }).orderBy('activity_id');
    // One signer done before the migration: the loop's counters go across.
    const signA = before.find((x: any) => x.taskDefinitionKey === 'sign' && x.assignee === 'a');
    t.is((await admin.post(`/engine-rest/task/${signA.id}/complete`, {})).status, 204);
    const p = await plan(ids.v2);
    t.is((await office.post('/engine-rest/migration/execute', { migrationPlan: p, processInstanceIds: [id] })).status, 403);
    const r = await admin.post('/engine-rest/migration/execute', { migrationPlan: p, processInstanceIds: [id], skipCustomListeners: true });
    t.is(r.status, 204, JSON.stringify(r.body));
    t.is((await admin.get(`/engine-rest/process-instance/${id}`)).body.definitionId, ids.v2);
    t.is((await admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body[0].processDefinitionId, ids.v2);
    const after = (await admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    const open = before.filter((x: any) => x.id !== signA.id);
    t.deepEqual(after.map((x: any) => [x.id, x.assignee, x.name, x.taskDefinitionKey]).sort(), open.map((x: any) => [x.id, x.assignee, x.name, x.taskDefinitionKey]).sort(),
      'same tasks, same assignees, names kept (Camunda keeps them)');
    t.true(after.every((x: any) => x.processDefinitionId === ids.v2));
    const timersAfter = await s.db('timers').where({ process_instance_id: id }).orderBy('activity_id');
    t.deepEqual(timersAfter.map((x) => [x.id, x.due_at.getTime(), x.definition_id]), timersBefore.map((x) => [x.id, x.due_at.getTime(), ids.v2]), 'due times kept');
    const [trace] = (await admin.get(`/engine-rest/history/user-operation?operationType=Migrate&processInstanceId=${id}`)).body;
    t.is(trace.userId, 'admin');
    t.is(trace.details.targetProcessDefinitionId, ids.v2);
    t.is(trace.details.instructions.length, p.instructions.length);
    // It runs on v2: the last signer completes the loop, the review completes, the intermediate timer (due in 1 h, kept) fires.
    const signB = after.find((x: any) => x.taskDefinitionKey === 'sign');
    t.is((await admin.post(`/engine-rest/task/${signB.id}/complete`, {})).status, 204);
    const review = after.find((x: any) => x.taskDefinitionKey === 'review');
    t.is((await admin.post(`/engine-rest/task/${review.id}/complete`, {})).status, 204);
    clock.advance(61 * 60_000);
    t.true((await s.scheduler.runDue()) >= 1);
    const [h] = (await admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body;
    t.is(h.state, 'COMPLETED');
    const acts = (await admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=sign`)).body;
    t.is(acts.filter((a: any) => a.endTime).length, 2, 'each signer once');
    clock.set(START);
  });

  test.serial(t('an open activity with no mapping, a type change and a trigger update are refused, naming them; nothing moves'), async (t) => {
    const id = await start();
    const p = await plan(ids.v3);
    const r = await admin.post('/engine-rest/migration/execute', { migrationPlan: p, processInstanceIds: [id] });
    t.is(r.status, 400);
    t.is(r.body.type, 'MigratingProcessInstanceValidationException');
    t.is(r.body.validationReport.processInstanceId, id);
    const review = r.body.validationReport.activityInstanceValidationReports.find((a: any) => a.sourceScopeId === 'review');
    t.regex(review.failures[0], /There is no migration instruction for this instance's activity/);
    t.is((await admin.get(`/engine-rest/process-instance/${id}`)).body.definitionId, ids.v1, 'not migrated');
    const withReview = { ...p, instructions: [...p.instructions, { sourceActivityIds: ['review'], targetActivityIds: ['review'] }] };
    const bad = await admin.post('/engine-rest/migration/execute', { migrationPlan: withReview, processInstanceIds: [id] });
    t.is(bad.status, 400);
    t.is(bad.body.type, 'MigrationPlanValidationException');
    t.regex(bad.body.validationReport.instructionReports[0].failures[0], /incompatible types \(bpmn:UserTask is not compatible with bpmn:ReceiveTask\)/);
    const v = (await admin.post('/engine-rest/migration/validate', { migrationPlan: withReview })).body;
    t.is(v.instructionReports.length, 1);
    const perInstance = (await admin.post('/engine-rest/migration/validate', { migrationPlan: p, processInstanceIds: [id] })).body;
    t.is(perInstance.processInstanceReports[0].processInstanceId, id);
    const trigger = await admin.post('/engine-rest/migration/execute', {
      migrationPlan: { ...(await plan(ids.v2)), instructions: [{ sourceActivityIds: ['wait'], targetActivityIds: ['wait'], updateEventTrigger: true }] }, processInstanceIds: [id],
    });
    t.is(trigger.status, 400);
    t.regex(JSON.stringify(trigger.body), /updateEventTrigger is not supported/);
    t.is((await admin.post('/engine-rest/migration/execute', { migrationPlan: p, processInstanceQuery: { superProcessInstance: 'x' } })).status, 400);
    t.is((await admin.post('/engine-rest/migration/execute', { migrationPlan: p, processInstanceIds: [] })).status, 400);
  });

  test.serial(t('executeAsync: a batch whose jobs the scheduler runs, each instance once; a refused one is a failed job'), async (t) => {
    const good = [await start(), await start()];
    const p = await plan(ids.v2);
    await admin.post('/engine-rest/migration/execute', { migrationPlan: p, processInstanceIds: [good[1]] });
    // good[1] is on v2 already: its job fails (not an instance of the source).
    const r = await admin.post('/engine-rest/migration/executeAsync', { migrationPlan: p, processInstanceIds: good });
    t.is(r.status, 200, JSON.stringify(r.body));
    const batch = r.body;
    t.like(batch, { type: 'instance-migration', totalJobs: 2, jobsCreated: 2, invocationsPerBatchJob: 1, suspended: false, createUserId: 'admin' });
    t.is((await office.get(`/engine-rest/batch/${batch.id}`)).status, 403);
    t.like((await admin.get(`/engine-rest/batch/statistics?batchId=${batch.id}`)).body[0], { remainingJobs: 2, completedJobs: 0, failedJobs: 0 });
    t.is((await admin.put(`/engine-rest/batch/${batch.id}/suspended`, { suspended: true })).status, 204);
    t.is(await s.scheduler.runDue(), 0, 'a suspended batch waits');
    t.is((await admin.put(`/engine-rest/batch/${batch.id}/suspended`, { suspended: false })).status, 204);
    t.is(await s.scheduler.runDue(), 2);
    t.is((await admin.get(`/engine-rest/process-instance/${good[0]}`)).body.definitionId, ids.v2);
    const stats = (await admin.get(`/engine-rest/batch/statistics?batchId=${batch.id}`)).body[0];
    t.like(stats, { remainingJobs: 0, completedJobs: 1, failedJobs: 1 });
    t.is((await admin.get('/engine-rest/batch/count')).body.count, 1);
    const [job] = await s.db('batch_jobs').where({ batch_id: batch.id, state: 'failed' });
    t.is(job.process_instance_id, good[1]);
    t.regex(job.exception_message, /is not an instance of source process definition/);
    t.is((await admin.delete(`/engine-rest/batch/${batch.id}`)).status, 204);
    t.is((await admin.get(`/engine-rest/batch/${batch.id}`)).status, 404);
    t.truthy((await admin.get(`/engine-rest/history/batch/${batch.id}`)).body.endTime);
    // A batch whose jobs all succeed ends by itself.
    const third = await start();
    const ok = (await admin.post('/engine-rest/migration/executeAsync', { migrationPlan: p, processInstanceQuery: { processDefinitionId: ids.v1, processInstanceIds: [third] } })).body;
    t.is(ok.totalJobs, 1);
    t.is(await s.scheduler.runDue(), 1);
    t.is((await admin.get(`/engine-rest/batch/${ok.id}`)).status, 404);
    t.truthy((await admin.get(`/engine-rest/history/batch/${ok.id}`)).body.endTime);
    const traced = (await admin.get(`/engine-rest/history/user-operation?operationType=Migrate&processInstanceId=${third}`)).body;
    t.is(traced.length, 1);
    t.is(traced[0].details.batchId, ok.id);
  });
}

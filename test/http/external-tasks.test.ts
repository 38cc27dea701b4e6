import test from 'ava';
import { BasicAuthInterceptor, Client, Variables } from 'camunda-external-task-client-js';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client as ApiClient, type TestServer } from '../helpers/server.ts';
import { fetchExternal, startProcess } from '../helpers/scenario.ts';

/** Waits for a condition that another party (the worker library) brings about, checking every 25 ms, at most `tries` times. */
async function until<T>(check: () => Promise<T | undefined | false>, what: string, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

for (const backend of backends) {
  let c!: { server: TestServer; admin: ApiClient; data: ApiClient; worker: ApiClient };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
    // The same on a topic of its own, for the long-poll test: the client library's last poll of the
    // first test may still be open on 'backup-check' and would take the task the test waits for.
    await server.services.deployments.deploy(oneResource('external-check-lp.bpmn', Buffer.from(fixture('external-check.bpmn').toString('utf8')
      .replace(/id="external-check"/, 'id="external-check-lp"').replace(/camunda:topic="backup-check"/, 'camunda:topic="long-poll-check"'))));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password), data: await makeUser(server, 'data-x', ['data-security']),
      worker: await makeUser(server, 'backup-robot', ['workers']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (mode: string, key = 'external-check') =>
    (await c.admin.post(`/engine-rest/process-definition/key/${key}/start`, { businessKey: `backup-${mode}`, variables: vars({ mode, urgency: 5 }) })).body.id as string;

  test.serial(t('the real camunda-external-task-client-js completes, fails down to an incident, and throws a caught BPMN error'), async (t) => {
    const ok = await start('ok');
    const failing = await start('fail');
    const missing = await start('error');
    const worker = new Client({
      baseUrl: `${c.server.url}/engine-rest`, workerId: 'robot-1', asyncResponseTimeout: 2000, maxTasks: 5, interval: 50, lockDuration: 10_000,
      interceptors: new BasicAuthInterceptor({ username: 'backup-robot', password: 'backup-robot-password' }),
    });
    const seen: string[] = [];
    worker.subscribe('backup-check', async ({ task, taskService }: any) => {
      const mode = task.variables.get('mode');
      seen.push(`${mode}:${task.retries ?? 'null'}`);
      if (mode === 'ok') {
        const result = new Variables().setAll({ backupId: 'BK-2026-11-25', verified: true });
        await taskService.complete(task, result);
      } else if (mode === 'fail') {
        await taskService.handleFailure(task, { errorMessage: '备份设备无响应 / backup appliance not responding', errorDetails: 'timeout', retries: task.retries == null ? 2 : task.retries - 1, retryTimeout: 0 });
      } else {
        await taskService.handleBpmnError(task, 'BACKUP_MISSING', '找不到昨日备份 / no backup for yesterday', new Variables().set('missingDay', '2026-11-24'));
      }
    });
    try {
      const [review] = await until(async () => {
        const r = (await c.data.get(`/engine-rest/task?processInstanceId=${ok}`)).body;
        return r.length ? r : false;
      }, 'the checked backup reaches review');
      t.is(review.taskDefinitionKey, 'review');
      const okVars = (await c.admin.get(`/engine-rest/process-instance/${ok}/variables`)).body;
      t.like(okVars, { backupId: { value: 'BK-2026-11-25', type: 'String' }, verified: { value: true, type: 'Boolean' } });

      const [investigate] = await until(async () => {
        const r = (await c.data.get(`/engine-rest/task?processInstanceId=${missing}`)).body;
        return r.length ? r : false;
      }, 'the BPMN error is caught by the boundary event');
      t.is(investigate.taskDefinitionKey, 'investigate');
      t.is((await c.admin.get(`/engine-rest/process-instance/${missing}/variables/missingDay`)).body.value, '2026-11-24');

      const [incident] = await until(async () => {
        const r = (await c.admin.get(`/engine-rest/incident?processInstanceId=${failing}`)).body;
        return r.length ? r : false;
      }, 'retries run out into an incident');
      t.is(incident.incidentType, 'failedExternalTask');
      t.is(incident.activityId, 'check');
      t.regex(incident.incidentMessage, /backup appliance/);
      t.deepEqual(seen.filter((s) => s.startsWith('fail')), ['fail:null', 'fail:2', 'fail:1']);
      const [stuck] = (await c.admin.get(`/engine-rest/external-task?processInstanceId=${failing}`)).body;
      t.is(stuck.retries, 0);

      // An administrator gives it retries again: the incident is resolved and the worker fails it once more.
      t.is((await c.admin.put(`/engine-rest/external-task/${incident.configuration}/retries`, { retries: 1 })).status, 204);
      await until(async () => seen.filter((s) => s.startsWith('fail')).length === 4, 'the worker retries after the reset');
      const history = (await c.admin.get(`/engine-rest/history/incident?processInstanceId=${failing}`)).body;
      t.true(history.some((h: { resolved: boolean }) => h.resolved));
    } finally {
      worker.stop();
    }
  });

  test.serial(t('fetchAndLock: long polling answers when a task appears; locks are exclusive; bad requests are 400'), async (t) => {
    const worker = c.worker;
    const fetchBody = { workerId: 'w-long', maxTasks: 1, asyncResponseTimeout: 20_000, topics: [{ topicName: 'long-poll-check', lockDuration: 60_000 }] };
    // Drain what earlier tests left.
    while ((await worker.post('/engine-rest/external-task/fetchAndLock', { ...fetchBody, asyncResponseTimeout: 0, maxTasks: 100 })).body.length) { /* drained */ }
    const began = Date.now();
    const waiting = worker.post('/engine-rest/external-task/fetchAndLock', fetchBody);
    const created = Date.now();
    const id = await start('ok', 'external-check-lp');
    const fetched = await waiting;
    const answeredAfter = Date.now() - created;
    t.log(`long poll answered ${answeredAfter} ms after the start request was sent (timeout 20 000 ms)`);
    t.true(Date.now() - began < fetchBody.asyncResponseTimeout, 'woken by the new task, not by the timeout');
    t.is(fetched.body.length, 1);
    t.is(fetched.body[0].processInstanceId, id);
    t.is(fetched.body[0].businessKey, 'backup-ok');
    t.is(fetched.body[0].priority, 5);
    t.deepEqual((await worker.post('/engine-rest/external-task/fetchAndLock', { ...fetchBody, workerId: 'w-other', asyncResponseTimeout: 0 })).body, [], 'a locked task is not handed out twice');
    const wrongWorker = await worker.post(`/engine-rest/external-task/${fetched.body[0].id}/complete`, { workerId: 'w-other' });
    t.is(wrongWorker.status, 400);
    t.regex(wrongWorker.body.message, /w-long/);
    t.is((await worker.post(`/engine-rest/external-task/${fetched.body[0].id}/extendLock`, { workerId: 'w-long', newDuration: 120_000 })).status, 204);
    t.is((await worker.post(`/engine-rest/external-task/${fetched.body[0].id}/complete`, { workerId: 'w-long', variables: vars({ verified: true }) })).status, 204);
    t.is((await worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w', topics: [] })).status, 400);
    t.is((await worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w', topics: [{ topicName: 'x' }] })).status, 400);
    t.is((await c.data.post('/engine-rest/external-task/fetchAndLock', fetchBody)).status, 403, 'staff accounts are not workers');
  });
}

for (const backend of backends) {
  test(`${backend.name}: an external task's incident ends with the task: deleting its instance ends the incident as deleted`, async (t) => {
    const server = await startTestServer(backend);
    try {
      await server.services.deployments.deploy(oneResource('external-check-inc.bpmn', Buffer.from(fixture('external-check.bpmn').toString('utf8')
        .replace(/id="external-check"/, 'id="external-check-inc"').replace(/camunda:topic="backup-check"/, 'camunda:topic="incident-check"'))));
      const admin = client(server.url, ADMIN.user, ADMIN.password);
      const worker = await makeUser(server, 'inc-robot', ['workers']);
      const id = await startProcess(admin, 'external-check-inc', { urgency: 5 });
      const [task] = await fetchExternal(worker, 'incident-check', 'inc-robot');
      t.is((await worker.post(`/engine-rest/external-task/${task.id}/failure`, { workerId: 'inc-robot', errorMessage: '磁带库无响应', retries: 0, retryTimeout: 0 })).status, 204);
      t.is((await admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body.length, 1);
      t.is((await admin.delete(`/engine-rest/process-instance/${id}`)).status, 204);
      t.deepEqual((await admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body, []);
      t.like((await admin.get(`/engine-rest/history/incident?processInstanceId=${id}`)).body[0], { deleted: true, configuration: task.id });
    } finally {
      await server.stop();
    }
  });
}

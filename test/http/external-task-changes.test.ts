import test from 'ava';
import { BasicAuthInterceptor, Client } from 'camunda-external-task-client-js';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client as ApiClient, type TestServer } from '../helpers/server.ts';

/** Waits for what the worker library brings about, checking every 25 ms, at most `tries` times. */
async function until<T>(check: () => Promise<T | undefined | false>, what: string, tries = 400): Promise<T> {
  for (let i = 0; i < tries; i++) {
    const value = await check();
    if (value) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`never happened: ${what}`);
}

/** external-check.bpmn with a process key and topic of its own, so tests do not take each other's tasks. */
const onTopic = (topic: string) => oneResource(`${topic}.bpmn`, Buffer.from(fixture('external-check.bpmn').toString('utf8')
  .replace(/id="external-check"/, `id="${topic}"`).replace(/camunda:topic="backup-check"/, `camunda:topic="${topic}"`)));

const TOPICS = ['lock-topic', 'names-locked', 'names-free', 'names-spent', 'prio-topic', 'bulk-topic', 'file-topic', 'file-lock-topic'];

for (const backend of backends) {
  let c!: { server: TestServer; admin: ApiClient; robot: ApiClient; other: ApiClient; office: ApiClient };
  test.before(async () => {
    const server = await startTestServer(backend);
    for (const topic of TOPICS) await server.services.deployments.deploy(onTopic(topic));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password), robot: await makeUser(server, 'lock-robot', ['workers']),
      other: await makeUser(server, 'other-robot', ['workers']), office: await makeUser(server, 'office-x', ['office']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (key: string, variables: Record<string, unknown> = {}) =>
    (await c.admin.post(`/engine-rest/process-definition/key/${key}/start`, { variables: { ...vars({ mode: 'ok', urgency: 1 }), ...variables } })).body.id as string;
  const taskOf = async (instanceId: string) => (await c.admin.get(`/engine-rest/external-task?processInstanceId=${instanceId}`)).body[0];

  test.serial(t('POST /external-task/{id}/lock locks a free task, lets its worker lock again, and refuses another worker'), async (t) => {
    const task = await taskOf(await start('lock-topic'));
    t.is((await c.office.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 60_000 })).status, 403);
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1' })).status, 400, 'lockDuration is required');
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { lockDuration: 60_000 })).status, 400, 'workerId is required');
    t.is((await c.robot.post('/engine-rest/external-task/nope/lock', { workerId: 'w1', lockDuration: 60_000 })).status, 404);

    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 60_000 })).status, 204);
    const locked = await taskOf(task.processInstanceId);
    t.is(locked.workerId, 'w1');
    t.true(Date.parse(locked.lockExpirationTime) > Date.now() + 30_000);

    // Same worker: a new lock from now (longer here, so it shows).
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 3_600_000 })).status, 204);
    t.true(Date.parse((await taskOf(task.processInstanceId)).lockExpirationTime) > Date.now() + 1_800_000);

    const refused = await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w2', lockDuration: 60_000 });
    t.is(refused.status, 400);
    t.regex(refused.body.message, /cannot be locked by worker 'w2'\. It is locked by worker 'w1'/);
    // The same worker name from another account is someone else's worker.
    t.is((await c.other.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 60_000 })).status, 400);
    t.is((await taskOf(task.processInstanceId)).workerId, 'w1');

    // The locking worker completes it: the lock is a real one.
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/complete`, { workerId: 'w1' })).status, 204);
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 60_000 })).status, 404, 'an ended task');
  });

  test.serial(t('GET /external-task/topic-names narrows by locked, unlocked and retries left'), async (t) => {
    const locked = await taskOf(await start('names-locked'));
    await taskOf(await start('names-free'));
    const spent = await taskOf(await start('names-spent'));
    await c.robot.post(`/engine-rest/external-task/${locked.id}/lock`, { workerId: 'w1', lockDuration: 60_000 });
    t.is((await c.admin.put(`/engine-rest/external-task/${spent.id}/retries`, { retries: 0 })).status, 204);
    const names = async (query: string) => ((await c.robot.get(`/engine-rest/external-task/topic-names${query}`)).body as string[]).filter((n) => n.startsWith('names-'));
    t.deepEqual(await names(''), ['names-free', 'names-locked', 'names-spent']);
    t.deepEqual(await names('?withLockedTasks=true'), ['names-locked']);
    t.deepEqual(await names('?withUnlockedTasks=true'), ['names-free', 'names-spent']);
    t.deepEqual(await names('?withRetriesLeft=true'), ['names-free', 'names-locked']);
    t.deepEqual(await names('?withUnlockedTasks=true&withRetriesLeft=true'), ['names-free']);
    t.deepEqual(await names('?withLockedTasks=true&withUnlockedTasks=true'), []);
    t.is((await c.robot.get('/engine-rest/external-task/topic-names?withLockedTasks=yes')).status, 400);
    t.is((await c.office.get('/engine-rest/external-task/topic-names')).status, 403);
  });

  test.serial(t('GET /external-task/{id}/errorDetails answers the failure details as text, nothing before a failure'), async (t) => {
    const task = await taskOf(await start('lock-topic'));
    t.is((await c.robot.get(`/engine-rest/external-task/${task.id}/errorDetails`)).status, 204);
    await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 60_000 });
    await c.robot.post(`/engine-rest/external-task/${task.id}/failure`, { workerId: 'w1', errorMessage: '超时', errorDetails: 'java.net.SocketTimeoutException\n\tat tape.read', retries: 1 });
    const details = await c.robot.get(`/engine-rest/external-task/${task.id}/errorDetails`);
    t.is(details.status, 200);
    t.regex(details.headers.get('content-type') ?? '', /^text\/plain/);
    t.is(details.body, 'java.net.SocketTimeoutException\n\tat tape.read');
    t.is((await c.robot.get('/engine-rest/external-task/nope/errorDetails')).status, 404);
    t.is((await c.office.get(`/engine-rest/external-task/${task.id}/errorDetails`)).status, 403);
  });

  test.serial(t('PUT /external-task/{id}/priority decides what a worker fetching by priority gets first'), async (t) => {
    const first = await taskOf(await start('prio-topic', vars({ urgency: 5 })));
    const second = await taskOf(await start('prio-topic', vars({ urgency: 1 })));
    t.is((await c.robot.put(`/engine-rest/external-task/${second.id}/priority`, { priority: 9 })).status, 403);
    t.is((await c.admin.put(`/engine-rest/external-task/${second.id}/priority`, { priority: 'high' })).status, 400);
    t.is((await c.admin.put(`/engine-rest/external-task/${second.id}/priority`, { priority: 2 ** 40 })).status, 400, 'beyond what the column holds');
    t.is((await c.admin.put('/engine-rest/external-task/nope/priority', { priority: 9 })).status, 404);
    t.is((await c.admin.put(`/engine-rest/external-task/${second.id}/priority`, { priority: 9 })).status, 204);
    t.is((await taskOf(second.processInstanceId)).priority, 9);
    const [got] = (await c.robot.post('/engine-rest/external-task/fetchAndLock', {
      workerId: 'w1', maxTasks: 1, usePriority: true, topics: [{ topicName: 'prio-topic', lockDuration: 60_000 }],
    })).body;
    t.is(got.id, second.id);
    t.not(got.id, first.id);
  });

  test.serial(t('PUT /external-task/retries sets retries of named tasks and instances together, or of none'), async (t) => {
    const a = await taskOf(await start('bulk-topic'));
    const b = await taskOf(await start('bulk-topic'));
    const other = await taskOf(await start('bulk-topic'));
    const retriesOf = async (x: { processInstanceId: string }) => (await taskOf(x.processInstanceId)).retries;
    t.is((await c.robot.put('/engine-rest/external-task/retries', { externalTaskIds: [a.id], retries: 3 })).status, 403);
    t.is((await c.admin.put('/engine-rest/external-task/retries', { retries: 3 })).status, 400, 'nothing named');
    t.is((await c.admin.put('/engine-rest/external-task/retries', { externalTaskIds: [a.id] })).status, 400, 'retries is required');
    t.is((await c.admin.put('/engine-rest/external-task/retries', { externalTaskQuery: { topicName: 'bulk-topic' }, retries: 3 })).status, 400, 'a query is refused, not ignored');
    // One unknown id: nothing changes.
    t.is((await c.admin.put('/engine-rest/external-task/retries', { externalTaskIds: [a.id, 'nope'], retries: 3 })).status, 404);
    t.is(await retriesOf(a), null);

    t.is((await c.admin.put('/engine-rest/external-task/retries', { externalTaskIds: [a.id], processInstanceIds: [b.processInstanceId], retries: 0 })).status, 204);
    t.is(await retriesOf(a), 0);
    t.is(await retriesOf(b), 0);
    t.is(await retriesOf(other), null);
    t.is((await c.admin.put('/engine-rest/external-task/retries', { processInstanceIds: [a.processInstanceId, b.processInstanceId], retries: 2 })).status, 204);
    t.is(await retriesOf(a), 2);
    t.is(await retriesOf(b), 2);
  });

  test.serial(t('the real camunda-external-task-client-js locks a task and loads its File variable through /execution/{id}/localVariables/{name}/data'), async (t) => {
    const content = '磁带库报告 / tape library report\n';
    const instanceId = await start('file-topic', {
      report: { type: 'File', value: Buffer.from(content).toString('base64'), valueInfo: { filename: 'report.txt', mimeType: 'text/plain' } },
    });
    const worker = new Client({
      baseUrl: `${c.server.url}/engine-rest`, workerId: 'file-robot', asyncResponseTimeout: 2000, maxTasks: 1, interval: 50, lockDuration: 10_000,
      interceptors: new BasicAuthInterceptor({ username: 'lock-robot', password: 'lock-robot-password' }),
    });
    const seen: { content?: string; filename?: string; error?: string } = {};
    worker.subscribe('file-topic', async ({ task, taskService }: any) => {
      try {
        await taskService.lock(task, 600_000);
        const file = await task.variables.get('report').load();
        seen.content = Buffer.from(file.content).toString('utf8');
        seen.filename = file.filename;
        await taskService.complete(task);
      } catch (e) {
        seen.error = String(e);
      }
    });
    try {
      await until(async () => seen.content ?? seen.error, 'the worker loaded the file');
    } finally {
      worker.stop();
    }
    t.is(seen.error, undefined);
    t.is(seen.content, content);
    t.is(seen.filename, 'report.txt');
    await until(async () => (await c.admin.get(`/engine-rest/task?processInstanceId=${instanceId}`)).body.length > 0, 'the instance moved on');

    // With no lock in the instance any more, the worker reads nothing of it; staff read by visibility.
    t.is((await c.robot.get(`/engine-rest/execution/${instanceId}/localVariables/report/data`)).status, 404);
    t.is((await c.robot.get(`/engine-rest/execution/${instanceId}/localVariables`)).status, 403, 'a worker reaches only the data path');
    const direct = await c.admin.get(`/engine-rest/execution/${instanceId}/localVariables/report/data`);
    t.is(direct.status, 200);
    t.is(direct.body, content);
  });

  test.serial(t('a worker reads File data only of an instance where its own account holds a live lock'), async (t) => {
    // A topic of its own: the client library's last poll of the test before may still be open on 'file-topic'.
    const instanceId = await start('file-lock-topic', { report: { type: 'File', value: Buffer.from('x').toString('base64'), valueInfo: { filename: 'x.txt' } } });
    const task = await taskOf(instanceId);
    const url = `/engine-rest/execution/${instanceId}/localVariables/report/data`;
    t.is((await c.robot.get(url)).status, 404);
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/lock`, { workerId: 'w1', lockDuration: 60_000 })).status, 204);
    t.is((await c.robot.get(url)).status, 200);
    t.is((await c.other.get(url)).status, 404, 'another account');
    t.is((await c.robot.get(`/engine-rest/execution/${instanceId}/localVariables/mode/data`)).status, 400, 'not a binary variable');
    t.is((await c.robot.post(`/engine-rest/external-task/${task.id}/unlock`)).status, 204);
    t.is((await c.robot.get(url)).status, 404);
  });
}

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { backends, type Backend } from './helpers/db.ts';
import { bootPatiently, tempDirs, Tail, type Running } from './helpers/child-server.ts';
import { must, send } from './helpers/crash-client.ts';
import { ADMIN } from './helpers/server.ts';

/*
 * kill -9 during an asynchronous migration batch: instances of v1 are
 * migrated to v2 by /migration/executeAsync, the server is SIGKILLed while
 * the scheduler works through the batch's jobs, and restarted. The batch
 * then finishes on its own: every instance migrated exactly once (one
 * Migrate trace row each, every job done once, the batch ended), its tasks
 * on v2, and it runs on there. The same for an asynchronous modification
 * batch (/modification/executeAsync), which runs on the same machinery: every
 * instance modified exactly once.
 */

const INSTANCES = 40;
const fixtures = path.resolve(import.meta.dirname, 'fixtures/migration');
const AUTH = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

function dbEnvFor(backend: Backend): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  if (backend.name === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-mig-crash-'));
    tempDirs.push(dataDir);
    return Promise.resolve({ env: { DATA_DIR: dataDir, PROCESSES_DIR: path.join(dataDir, 'none') }, cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) });
  }
  return backend.create({ migrate: false }).then((db) => ({ env: { DATABASE_URL: db.url!, PROCESSES_DIR: '/nonexistent-processes' }, cleanup: () => db.drop() }));
}

async function deploy(url: string, file: string): Promise<string> {
  const form = new FormData();
  form.append('deployment-name', file);
  form.append(file, new Blob([fs.readFileSync(path.join(fixtures, file))]), file);
  const res = await fetch(`${url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: AUTH } });
  if (res.status !== 200) throw new Error(`deploy: ${res.status} ${await res.text()}`);
  return Object.keys(((await res.json()) as { deployedProcessDefinitions: Record<string, unknown> }).deployedProcessDefinitions)[0]!;
}

for (const backend of backends) {
  test.serial(`${backend.name}: kill -9 during an async migration batch, restarted: every instance migrated exactly once`, async (t) => {
    t.timeout(600_000);
    const tail = new Tail();
    const { env, cleanup } = await dbEnvFor(backend);
    let running: Running | undefined;
    try {
      running = await bootPatiently(env, tail, `${backend.name}#0`);
      const v1 = await deploy(running.url, 'mig-v1.bpmn');
      const v2 = await deploy(running.url, 'mig-v2.bpmn');
      const body = { variables: { starter: { value: 'admin' }, signers: { value: '["a","b"]', type: 'Json' } } };
      const ids: string[] = [];
      for (let i = 0; i < INSTANCES; i++) ids.push((await must(running.url, 'POST', `/engine-rest/process-definition/${v1}/start`, body)).id);
      const plan = await must(running.url, 'POST', '/engine-rest/migration/generate', { sourceProcessDefinitionId: v1, targetProcessDefinitionId: v2 });
      const batch = await must(running.url, 'POST', '/engine-rest/migration/executeAsync', { migrationPlan: plan, processInstanceIds: ids });
      t.is(batch.totalJobs, INSTANCES);
      // The scheduler is announced the batch and starts on it at once: the kill lands among its jobs.
      await sleep(20 + Math.floor(Math.random() * 250));
      running.child.kill('SIGKILL');
      t.is((await running.exited).signal, 'SIGKILL');
      running = await bootPatiently(env, tail, `${backend.name}#1`);
      const url = running.url;
      // Right after the restart, before the dead server's leases run out: what had committed before the kill.
      const [atRestart] = await must(url, 'GET', `/engine-rest/batch/statistics?batchId=${batch.id}`);
      t.log(`${backend.name}: after the kill, ${atRestart?.completedJobs ?? INSTANCES} of ${INSTANCES} jobs had committed`);
      // Bounded polling, by time: jobs the killed server held wait out their lease (10 s) first.
      let ended: string | null = null;
      for (const began = Date.now(); !ended && Date.now() - began < 240_000; await sleep(250)) {
        const r = await send(url, 'GET', `/engine-rest/history/batch/${batch.id}`);
        if (!r.lost && r.status === 200) ended = r.body.endTime;
      }
      if (!ended) t.log('not ended:', JSON.stringify(await send(url, 'GET', `/engine-rest/batch/statistics?batchId=${batch.id}`)));
      t.truthy(ended, 'the batch ended after the restart');
      t.is((await send(url, 'GET', `/engine-rest/batch/${batch.id}`) as any).status, 404, 'no longer a running batch');
      for (const id of ids) {
        t.is((await must(url, 'GET', `/engine-rest/process-instance/${id}`)).definitionId, v2);
        const migrated = await must(url, 'GET', `/engine-rest/history/user-operation?operationType=Migrate&processInstanceId=${id}`);
        t.is(migrated.length, 1, `instance ${id} migrated exactly once`);
        t.is(migrated[0].details.batchId, batch.id);
        const tasks = await must(url, 'GET', `/engine-rest/task?processInstanceId=${id}`);
        t.is(tasks.length, 3);
        t.true(tasks.every((x: any) => x.processDefinitionId === v2));
      }
      // And it runs on v2: a migrated instance's review completes there.
      const [review] = await must(url, 'GET', `/engine-rest/task?processInstanceId=${ids[0]}&taskDefinitionKey=review`);
      await must(url, 'POST', `/engine-rest/task/${review.id}/complete`, {});
      t.log(`${backend.name}: batch of ${INSTANCES} finished after the restart`);
      running.child.kill('SIGTERM');
      await running.exited;
      running = undefined;
    } catch (err) {
      t.log(tail.text());
      throw err;
    } finally {
      running?.child.kill('SIGKILL');
      await running?.exited;
      await cleanup();
    }
  });

  test.serial(`${backend.name}: kill -9 during an async modification batch, restarted: every instance modified exactly once`, async (t) => {
    t.timeout(600_000);
    const tail = new Tail();
    const { env, cleanup } = await dbEnvFor(backend);
    let running: Running | undefined;
    try {
      running = await bootPatiently(env, tail, `${backend.name}#0`);
      const v1 = await deploy(running.url, 'mig-v1.bpmn');
      const body = { variables: { starter: { value: 'admin' }, signers: { value: '["a","b"]', type: 'Json' } } };
      const ids: string[] = [];
      for (let i = 0; i < INSTANCES; i++) ids.push((await must(running.url, 'POST', `/engine-rest/process-definition/${v1}/start`, body)).id);
      const instructions = [{ type: 'cancel', activityId: 'review' }, { type: 'startBeforeActivity', activityId: 'review' }];
      const batch = await must(running.url, 'POST', '/engine-rest/modification/executeAsync', { processDefinitionId: v1, processInstanceIds: ids, instructions, annotation: 'crash' });
      t.is(batch.type, 'instance-modification');
      t.is(batch.totalJobs, INSTANCES);
      // Killed once the first jobs have committed (bounded by time), so the kill lands among them, not before them.
      for (const began = Date.now(); Date.now() - began < 30_000; await sleep(5)) {
        const [stats] = await must(running.url, 'GET', `/engine-rest/batch/statistics?batchId=${batch.id}`);
        if (!stats || stats.completedJobs > 0) break;
      }
      running.child.kill('SIGKILL');
      t.is((await running.exited).signal, 'SIGKILL');
      running = await bootPatiently(env, tail, `${backend.name}#1`);
      const url = running.url;
      const [atRestart] = await must(url, 'GET', `/engine-rest/batch/statistics?batchId=${batch.id}`);
      t.log(`${backend.name}: after the kill, ${atRestart?.completedJobs ?? INSTANCES} of ${INSTANCES} modification jobs had committed`);
      let ended: string | null = null;
      for (const began = Date.now(); !ended && Date.now() - began < 240_000; await sleep(250)) {
        const r = await send(url, 'GET', `/engine-rest/history/batch/${batch.id}`);
        if (!r.lost && r.status === 200) ended = r.body.endTime;
      }
      if (!ended) t.log('not ended:', JSON.stringify(await send(url, 'GET', `/engine-rest/batch/statistics?batchId=${batch.id}`)));
      t.truthy(ended, 'the batch ended after the restart');
      for (const id of ids) {
        const modified = await must(url, 'GET', `/engine-rest/history/user-operation?operationType=ModifyProcessInstance&processInstanceId=${id}`);
        t.is(modified.length, 1, `instance ${id} modified exactly once`);
        t.is(modified[0].details.batchId, batch.id);
        // Run twice, review would have been cancelled twice: one cancelled row and one open, no more.
        const reviews = await must(url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=review`);
        t.is(reviews.length, 2, `instance ${id}: review cancelled once and started once`);
        t.is(reviews.filter((r: any) => r.canceled).length, 1);
        t.is((await must(url, 'GET', `/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=review`)).length, 1);
      }
      running.child.kill('SIGTERM');
      await running.exited;
      running = undefined;
    } catch (err) {
      t.log(tail.text());
      throw err;
    } finally {
      running?.child.kill('SIGKILL');
      await running?.exited;
      await cleanup();
    }
  });
}

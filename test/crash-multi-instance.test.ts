import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { backends, type Backend } from './helpers/db.ts';
import { bootPatiently, tempDirs, Tail, type Running } from './helpers/child-server.ts';
import { deployFixtures, must, send } from './helpers/crash-client.ts';

/*
 * kill -9 in the middle of multi-instance user tasks: instances of a
 * parallel multi-instance task (会签) have some of their tasks completed,
 * the rest are completed all at once, and the server is SIGKILLed while
 * those completions are in flight; then again in a second round. After the
 * restart every completion whose answer was lost is sent again. Nothing may
 * be lost and nothing done twice: every task completed exactly once, one
 * history row per instance of the task, the loop left exactly once.
 */

const COPIES = 6;
const INSTANCES = 3;

function dbEnvFor(backend: Backend): Promise<{ env: Record<string, string>; cleanup(): Promise<void> }> {
  if (backend.name === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-mi-crash-'));
    tempDirs.push(dataDir);
    return Promise.resolve({ env: { DATA_DIR: dataDir }, cleanup: async () => fs.rmSync(dataDir, { recursive: true, force: true }) });
  }
  return backend.create({ migrate: false }).then((db) => ({ env: { DATABASE_URL: db.url! }, cleanup: () => db.drop() }));
}

for (const backend of backends) {
  test.serial(`${backend.name}: kill -9 among concurrent completions of a multi-instance task: nothing lost, nothing twice`, async (t) => {
    t.timeout(300_000);
    const tail = new Tail();
    const { env, cleanup } = await dbEnvFor(backend);
    let running: Running | undefined;
    try {
      running = await bootPatiently(env, tail, `${backend.name}#0`);
      await deployFixtures(running.url, 'mi-crash', ['mi-cardinality']);
      const ids: string[] = [];
      for (let i = 0; i < INSTANCES; i++) {
        ids.push((await must(running.url, 'POST', '/engine-rest/process-definition/key/mi-cardinality/start', { variables: { copies: { value: COPIES, type: 'Integer' } } })).id);
      }
      const acked = new Set<string>();
      const unknown = new Set<string>();
      // Some instances of the task completed before anything goes wrong.
      for (const id of ids) {
        const tasks = await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=review`);
        t.is(tasks.length, COPIES);
        for (const task of tasks.slice(0, 2)) {
          await must(running.url, 'POST', `/engine-rest/task/${task.id}/complete`, {});
          acked.add(task.id);
        }
      }
      for (const round of [1, 2]) {
        const url = running.url;
        const open: string[] = [];
        for (const id of ids) open.push(...(await must(url, 'GET', `/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=review`)).map((x: any) => x.id));
        // Round 1 completes half of what is open, round 2 the rest: all at once, and the kill lands among them.
        const batch = round === 1 ? open.filter((_, i) => i % 2 === 0) : open;
        const sent = batch.map(async (taskId) => {
          const r = await send(url, 'POST', `/engine-rest/task/${taskId}/complete`, {});
          if (r.lost) unknown.add(taskId);
          else if (r.status === 204) acked.add(taskId);
          else throw new Error(`complete ${taskId}: ${r.status} ${JSON.stringify(r.body)}`);
        });
        await sleep(20 + Math.floor(Math.random() * 200));
        running.child.kill('SIGKILL');
        t.is((await running.exited).signal, 'SIGKILL');
        await Promise.all(sent);
        t.log(`round ${round}: ${batch.length} completions sent, ${acked.size} acknowledged in all, ${unknown.size} of unknown outcome`);
        running = await bootPatiently(env, tail, `${backend.name}#${round}`);
        // What the kill cut off is sent again: done already (404) or done now (204), never twice.
        for (const taskId of [...unknown]) {
          const r = await send(running.url, 'POST', `/engine-rest/task/${taskId}/complete`, {});
          t.false(r.lost);
          if (!r.lost) t.true([204, 404].includes(r.status), JSON.stringify(r.body));
          unknown.delete(taskId);
          acked.add(taskId);
        }
      }
      for (const id of ids) {
        const url = running.url;
        const open = await must(url, 'GET', `/engine-rest/task?processInstanceId=${id}`);
        t.deepEqual(open.map((x: any) => x.taskDefinitionKey), ['after'], 'the loop was left exactly once');
        const history = await must(url, 'GET', `/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=review`);
        t.is(history.length, COPIES, 'no task lost or created twice');
        t.true(history.every((h: any) => h.deleteReason === 'completed' && acked.has(h.id)), 'every one completed, by a completion that was sent');
        const rows = await must(url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=review`);
        t.is(rows.length, COPIES, 'one activity instance per instance of the task');
        t.true(rows.every((a: any) => a.endTime && !a.canceled));
        t.is((await must(url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=after`)).length, 1);
        await must(url, 'POST', `/engine-rest/task/${open[0].id}/complete`, {});
        t.is((await must(url, 'GET', `/engine-rest/history/process-instance?processInstanceId=${id}`))[0]?.state, 'COMPLETED');
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

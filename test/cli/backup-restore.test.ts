import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer, type Server } from '../../src/server.ts';
import { chainOf } from '../../src/services/trace.ts';
import { ADMIN, client, NO_PROCESSES, TEST_KEY_ENV } from '../helpers/server.ts';
import { fixture } from '../helpers/fixtures.ts';
import { runNpmScript } from '../helpers/npm-script.ts';

/**
 * The drill of docs/operations.md ("Backup and restore") for the embedded
 * database: stop the server, copy DATA_DIR, start it again; later restore
 * the copy into another folder and start a server there. The data is as at
 * the backup, the trace chain verifies, the chain heads exported at backup
 * time are found with their hashes, a head exported after the backup is not
 * (what a mismatch means), and an instance caught by the backup goes on.
 */
/** One user task for the administrator (ADMIN.user), process key `drill`. */
const DIAGRAM = fixture('drill.bpmn');

type Head = { chain: number; id: string; hash: string };

const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'backup-drill-'));
let running: Server | undefined;
test.after.always(async () => {
  await running?.close().catch(() => undefined);
  fs.rmSync(temp, { recursive: true, force: true });
});

async function start(dataDir: string): Promise<{ server: Server; admin: ReturnType<typeof client> }> {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ...NO_PROCESSES, ...TEST_KEY_ENV });
  running = await startServer(config, { log: pino({ level: 'silent' }) });
  return { server: running, admin: client(running.url, ADMIN.user, ADMIN.password) };
}

async function stop(server: Server): Promise<void> {
  await server.close();
  running = undefined;
}

/** `npm run verify-trace` as the drill runs it on the restored, stopped folder. */
const verifyTrace = (dataDir: string) => runNpmScript('verify-trace', { ...TEST_KEY_ENV, DATA_DIR: dataDir });

test('embedded backup drill: stop, copy DATA_DIR, restore elsewhere; the data is as at the backup, the trace verifies against the heads exported then, and an instance goes on', async (t) => {
  t.timeout(600_000);
  const live = path.join(temp, 'live');
  const backup = path.join(temp, 'backup');
  const restored = path.join(temp, 'restored');

  // Before the backup: a deployment and an instance waiting at its task.
  let { server, admin } = await start(live);
  const form = new FormData();
  form.append('deployment-name', 'drill');
  form.append('drill.bpmn', new Blob([DIAGRAM]), 'drill.bpmn');
  const deployed = await fetch(`${server.url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  t.is(deployed.status, 200);
  const instance = await admin.post('/engine-rest/process-definition/key/drill/start', { businessKey: 'DRILL-1' });
  t.is(instance.status, 200, JSON.stringify(instance.body));
  // The heads exported at backup time, as the handbook says to keep them elsewhere.
  const atBackup = await admin.get('/engine-rest/trace/verify');
  t.true(atBackup.body.ok);
  const headsAtBackup = atBackup.body.heads as Head[];
  await stop(server);
  t.false(fs.existsSync(path.join(live, 'server.pid')), 'a stopped server leaves no lock behind');
  fs.cpSync(live, backup, { recursive: true });

  // After the backup: work goes on, and a later export of the heads.
  ({ server, admin } = await start(live));
  const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${instance.body.id}`)).body;
  t.is((await admin.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
  t.is((await admin.post('/engine-rest/process-definition/key/drill/start', { businessKey: 'DRILL-2' })).status, 200);
  const later = (await admin.get('/engine-rest/trace/verify')).body.heads as Head[];
  await stop(server);

  // The restore: the copy into a new folder, checked before the server starts.
  fs.cpSync(backup, restored, { recursive: true });
  const offline = await verifyTrace(restored);
  t.is(offline.code, 0, offline.out);

  ({ server, admin } = await start(restored));
  t.true((await admin.get('/engine-rest/trace/verify')).body.ok, 'the restored chain verifies');
  // Each head kept at backup time is still there with its hash: nothing before the backup was changed.
  for (const head of headsAtBackup) {
    const [row] = await server.db('trace').where({ id: head.id }).select('hash');
    t.is(row?.hash, head.hash, `chain ${head.chain}: row ${head.id} still carries the kept hash`);
  }
  // A head kept after the backup does not match (its row is gone, or its id now holds a newer row):
  // the actions since the backup are not in the restored data.
  // DRILL-1's chain: its task was completed after the backup (other chains may have seen nothing since).
  const lost = later.filter((h) => h.chain === chainOf(instance.body.id));
  t.is(lost.length, 1);
  for (const head of lost) {
    const row = await server.db('trace').where({ id: head.id }).first('hash');
    t.not(row?.hash, head.hash, `row ${head.id} came after the backup`);
  }

  // The data is as at the backup: DRILL-1 waits at its task, DRILL-2 never started.
  t.is((await admin.get('/engine-rest/process-instance/count?businessKey=DRILL-2')).body.count, 0);
  const [again] = (await admin.get(`/engine-rest/task?processInstanceId=${instance.body.id}`)).body;
  t.is(again?.id, task.id);
  // And it goes on from there.
  t.is((await admin.post(`/engine-rest/task/${again.id}/complete`, {})).status, 204);
  t.is((await admin.get(`/engine-rest/process-instance/${instance.body.id}`)).status, 404, 'the instance ended');
  t.deepEqual((await admin.get(`/engine-rest/history/process-instance/count?processInstanceId=${instance.body.id}&completed=true`)).body, { count: 1 });
  t.true((await admin.get('/engine-rest/trace/verify')).body.ok, 'and the chain goes on from the restored heads');
  await stop(server);
});

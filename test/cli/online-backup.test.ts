import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { ManualClock } from '../../src/clock.ts';
import { loadConfig } from '../../src/config.ts';
import { startServer, type Server } from '../../src/server.ts';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { runNpmScript } from '../helpers/npm-script.ts';
import { ADMIN, client, deployBpmn, makeUser, NO_PROCESSES, startTestServer, TEST_KEY_ENV } from '../helpers/server.ts';

/**
 * Backups taken while the server runs (docs/operations.md, "Backup and
 * restore"): POST /engine-rest/backup and the schedule write the embedded
 * database and the trace heads it holds into BACKUP_DIR and keep
 * BACKUP_KEEP_DAYS; `npm run restore` puts one back, verifies the chain and
 * finds the heads, and refuses a backup whose heads do not match.
 * On PostgreSQL `npm run backup` runs pg_dump on an exported snapshot and
 * `npm run restore` loads it into an empty database only.
 */
/** One user task for the administrator (ADMIN.user), process key `drill`. */
const DIAGRAM = fixture('drill.bpmn');

const HOUR = 3_600_000;
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'online-backup-'));
let running: Server | undefined;
test.after.always(async () => {
  await running?.close().catch(() => undefined);
  fs.rmSync(temp, { recursive: true, force: true });
});

test.serial('embedded: a backup taken while the server runs, the schedule and its pruning, and a restore that verifies the heads', async (t) => {
  t.timeout(600_000);
  const live = path.join(temp, 'live');
  const folder = path.join(temp, 'backups');
  const clock = new ManualClock(new Date('2026-12-01T02:00:00Z'));
  const env = { PORT: '0', HOST: '127.0.0.1', DATA_DIR: live, BACKUP_DIR: folder, BACKUP_KEEP_DAYS: '2', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ...NO_PROCESSES, ...TEST_KEY_ENV };
  running = await startServer(loadConfig(env), { log: pino({ level: 'silent' }), clock, runScheduler: false });
  let server = running;
  const admin = client(server.url, ADMIN.user, ADMIN.password);
  const office = await makeUser(server, 'office-backup', ['office']);
  await deployBpmn(server.url, 'drill.bpmn', DIAGRAM);
  const first = await admin.post('/engine-rest/process-definition/key/drill/start', { businessKey: 'B-1' });
  t.is(first.status, 200, JSON.stringify(first.body));

  // The first scheduled backup of an empty folder waits for the server to settle.
  t.is(await server.scheduler.runDue(), 0);
  t.is((await office.post('/engine-rest/backup')).status, 403);
  const taken = await admin.post('/engine-rest/backup');
  t.is(taken.status, 200, JSON.stringify(taken.body));
  t.regex(taken.body.id, /^bpmn-20261201T020000000Z$/);
  t.true(taken.body.size > 0);
  t.true(taken.body.heads.length > 0, 'the trace heads the backup holds');
  const [row] = await server.db('trace').where({ operation: 'Create', entity_type: 'Backup' });
  t.is(row.entity_id, taken.body.id, 'the backup is traced, naming who took it');
  t.is(row.user_id, ADMIN.user);
  const archive = path.join(folder, `${taken.body.id}.tar.gz`);
  t.is(fs.statSync(archive).mode & 0o777, 0o600, 'only the server account reads a backup');
  // The operator copies it elsewhere, as the handbook says, before the schedule may prune it.
  const kept = path.join(temp, 'kept');
  fs.mkdirSync(kept);
  for (const f of [`${taken.body.id}.tar.gz`, `${taken.body.id}.heads.json`]) fs.copyFileSync(path.join(folder, f), path.join(kept, f));

  // After the backup: the task is done and a second instance starts.
  const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${first.body.id}`)).body;
  t.is((await admin.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
  t.is((await admin.post('/engine-rest/process-definition/key/drill/start', { businessKey: 'B-2' })).status, 200);

  // The schedule: nothing until the newest backup is a day old, then one; older than two days are removed.
  t.is(await server.scheduler.runDue(), 0);
  clock.advance(25 * HOUR);
  t.is(await server.scheduler.runDue(), 1);
  t.is((await admin.get('/engine-rest/backup')).body.length, 2);
  clock.advance(72 * HOUR);
  t.is(await server.scheduler.runDue(), 1);
  const listed = (await admin.get('/engine-rest/backup')).body;
  t.deepEqual(listed.map((b: { id: string }) => b.id), ['bpmn-20261205T030000000Z'], 'older than BACKUP_KEEP_DAYS are gone, the newest stays');
  t.is((await office.get('/engine-rest/backup')).status, 403);
  await server.close();
  running = undefined;

  // A backup whose recorded heads do not match is refused after loading, before anyone starts on it.
  const forged = path.join(temp, 'forged');
  fs.mkdirSync(forged);
  fs.copyFileSync(path.join(kept, `${taken.body.id}.tar.gz`), path.join(forged, `${taken.body.id}.tar.gz`));
  const heads = JSON.parse(fs.readFileSync(path.join(kept, `${taken.body.id}.heads.json`), 'utf8'));
  heads.heads[0].hash = '0'.repeat(64);
  fs.writeFileSync(path.join(forged, `${taken.body.id}.heads.json`), JSON.stringify(heads));
  const refused = await runNpmScript('restore', { ...TEST_KEY_ENV, DATA_DIR: path.join(temp, 'elsewhere') }, [path.join(forged, `${taken.body.id}.tar.gz`)]);
  t.is(refused.code, 1, refused.out);
  t.regex(refused.out, /heads recorded at backup time are missing or differ/);

  // The restore over the live folder: the old database is kept aside, the chain verifies, every head is found.
  const restored = await runNpmScript('restore', { ...TEST_KEY_ENV, DATA_DIR: live }, [path.join(kept, `${taken.body.id}.tar.gz`)]);
  t.is(restored.code, 0, restored.out);
  t.true(fs.readdirSync(live).some((f) => f.startsWith('pgdata.before-restore-')));
  running = await startServer(loadConfig({ ...env, BACKUP_INTERVAL_HOURS: '0' }), { log: pino({ level: 'silent' }), runScheduler: false });
  server = running;
  const again = client(server.url, ADMIN.user, ADMIN.password);
  t.is((await again.get('/engine-rest/process-instance/count?businessKey=B-2')).body.count, 0, 'B-2 started after the backup');
  const [open] = (await again.get(`/engine-rest/task?processInstanceId=${first.body.id}`)).body;
  t.is(open?.id, task.id, 'B-1 waits at its task again');
  t.true((await again.get('/engine-rest/trace/verify')).body.ok);
  await server.close();
  running = undefined;
});

const postgres = backends.find((b) => b.name === 'postgres');
if (postgres) {
  test.serial('postgres: npm run backup dumps a snapshot with its heads while the server runs; npm run restore loads it into an empty database only', async (t) => {
    t.timeout(600_000);
    const s = await startTestServer(postgres, NO_PROCESSES);
    const empty = await postgres.create({ migrate: false });
    try {
      const admin = client(s.url, ADMIN.user, ADMIN.password);
      await deployBpmn(s.url, 'drill.bpmn', DIAGRAM);
      const started = await admin.post('/engine-rest/process-definition/key/drill/start', { businessKey: 'PG-1' });
      t.is(started.status, 200);
      const refused = await admin.post('/engine-rest/backup');
      t.is(refused.status, 409, 'a PostgreSQL server points to pg_dump');
      t.regex(refused.body.message, /pg_dump/);
      const folder = path.join(temp, 'pg');
      const dumped = await runNpmScript('backup', { DATABASE_URL: s.testDb.url!, BACKUP_DIR: folder });
      t.is(dumped.code, 0, dumped.out);
      const [file] = fs.readdirSync(folder).filter((f) => f.endsWith('.dump'));
      const heads = JSON.parse(fs.readFileSync(path.join(folder, file.replace('.dump', '.heads.json')), 'utf8')).heads;
      const now = (await s.db('trace').select('chain').max({ id: 'id' }).groupBy('chain')).length;
      t.is(heads.length, now, 'one head for each chain in the dump');

      const restored = await runNpmScript('restore', { DATABASE_URL: empty.url! }, [path.join(folder, file)]);
      t.is(restored.code, 0, restored.out);
      const [{ count }] = await empty.db('process_instances').where({ business_key: 'PG-1' }).count({ count: '*' });
      t.is(Number(count), 1);
      const again = await runNpmScript('restore', { DATABASE_URL: empty.url! }, [path.join(folder, file)]);
      t.is(again.code, 2, again.out);
      t.regex(again.out, /not empty/);
    } finally {
      await empty.drop();
      await s.stop();
    }
  });
}

/**
 * How long 10 000 due timers take to fire: on PGlite (one process, the
 * embedded database serves one) and on PostgreSQL with 1 and 3 server
 * processes sharing the work.
 *
 *   node --import tsx bench/timers.ts        (BENCH_TIMERS=2000 for a quicker run)
 *
 * One instance waiting on a 90-day intermediate timer is started for real,
 * then cloned in SQL (instance, history, timer) to N instances, and every
 * timer is made due now. Each figure is from "all due" to "none left".
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { ADMIN, BENCH_SM4_KEY, findPostgres, freshDatabase, inProcessServer, repoRoot } from './lib.ts';

const N = Number(process.env.BENCH_TIMERS ?? 10_000);
const processesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-bench-timers-'));
fs.copyFileSync(path.join(import.meta.dirname, 'fixtures', 'deadlines.bpmn'), path.join(processesDir, 'deadlines.bpmn'));

/** N waiting instances with a timer each, all due now. */
async function armTimers(db: Knex, source: string): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw(`create temporary table clone_ids on commit drop as select g, gen_random_uuid()::text as instance_id from generate_series(1, ?) g`, [N - 1]);
    await trx.raw(`insert into process_instances (id, definition_id, definition_key, business_key, state, engine_state, rev, start_user_id, start_time)
      select c.instance_id, p.definition_id, p.definition_key, 'clone-' || c.g, p.state, p.engine_state, p.rev, p.start_user_id, now()
      from clone_ids c cross join process_instances p where p.id = ?`, [source]);
    await trx.raw(`insert into activity_instances (process_instance_id, execution_id, activity_id, activity_name, activity_type, start_time, end_time, canceled)
      select c.instance_id, a.execution_id, a.activity_id, a.activity_name, a.activity_type, a.start_time, a.end_time, a.canceled
      from clone_ids c cross join activity_instances a where a.process_instance_id = ? order by c.g, a.seq`, [source]);
    await trx.raw(`insert into timers (id, process_instance_id, definition_id, activity_id, execution_id, timer_type, expression, due_at)
      select gen_random_uuid()::text, c.instance_id, t.definition_id, t.activity_id, t.execution_id, t.timer_type, t.expression, t.due_at
      from clone_ids c cross join timers t where t.process_instance_id = ?`, [source]);
    await trx.raw('update timers set due_at = now()');
  });
}

async function left(db: Knex): Promise<number> {
  return Number((await db('timers').count({ n: '*' }))[0].n);
}

/** Spawns a server process on the database; resolves once it answers /health. */
async function child(databaseUrl: string, port: number) {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot, stdio: 'ignore',
    env: { ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, PROCESSES_DIR: processesDir, LOG_LEVEL: 'warn', SM4_KEY: BENCH_SM4_KEY },
  });
  for (let i = 0; i < 400; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return proc;
    } catch { /* booting */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error('child server did not start');
}

async function measure(label: string, databaseUrl: string | undefined, processes: number): Promise<void> {
  const database = databaseUrl ? await freshDatabase(databaseUrl) : undefined;
  // The in-process server creates the schema and the first instance; its own scheduler fires only when it is the one process.
  const setup = await inProcessServer(database?.url);
  try {
    await setup.services.deployments.deploy({ name: 'deadlines', source: 'bench', tenantId: null, duplicateFiltering: false, changedOnly: false, resources: [{ name: 'deadlines.bpmn', bytes: fs.readFileSync(path.join(processesDir, 'deadlines.bpmn')) }] });
    const first = await setup.services.instances.startByKey('long-wait', { variables: {} }, { userId: 'bench', groups: ['camunda-admin'], isAdmin: true });
    await armTimers(setup.db, first.instance.id);
    const began = performance.now();
    if (processes === 1) {
      // This process's scheduler loop and this call share the work, as two rounds of one server would.
      await setup.scheduler.runDue();
      while ((await left(setup.db)) > 0) await new Promise((r) => setTimeout(r, 50));
    } else {
      const children = await Promise.all(Array.from({ length: processes }, (_, i) => child(database!.url, 19100 + i)));
      while ((await left(setup.db)) > 0) await new Promise((r) => setTimeout(r, 50));
      children.forEach((c) => c.kill('SIGTERM'));
    }
    const seconds = (performance.now() - began) / 1000;
    const remaining = await left(setup.db);
    if (remaining) {
      const errors = await setup.db('timers').select('last_error').count({ n: '*' }).groupBy('last_error');
      console.log('timers left, by last error:', JSON.stringify(errors));
    }
    console.log(`${label.padEnd(42)} ${String(N).padStart(6)} timers  ${seconds.toFixed(1).padStart(6)} s  ${(N / seconds).toFixed(0).padStart(5)} /s${remaining ? `  (${remaining} left!)` : ''}`);
  } finally {
    await setup.stop();
    await database?.drop();
  }
}

console.log(`node ${process.version}, ${os.cpus().length} CPUs`);
await measure('PGlite, 1 process', undefined, 1);
const pgUrl = await findPostgres();
if (pgUrl) {
  await measure('PostgreSQL, 1 process', pgUrl, 1);
  await measure('PostgreSQL, 3 processes (incl. start-up)', pgUrl, 3);
} else {
  console.log('PostgreSQL not reachable: skipped');
}
console.log('PGlite, 3 processes: not possible (the embedded database serves one process)');
fs.rmSync(processesDir, { recursive: true, force: true });

/**
 * How long N due timers (10 000 by default) take to fire: on PGlite (one
 * process: the embedded database serves one) and on PostgreSQL with 1 and
 * 3 server processes sharing the work.
 *
 *   npm run bench:timers                      (BENCH_TIMERS=2000 npm run bench:timers for a quicker run;
 *                                              BENCH_SETUPS=pg3 for one figure: pglite, pg1, pg3)
 *
 * One instance waiting on a 90-day intermediate timer is started for real,
 * then cloned in SQL (instance, history, timer) to N instances. The servers
 * that are measured start while the timers are still 90 days off; only then
 * do all timers fall due at once (`due_at = now()`, announced as an armed
 * timer is). Each figure runs from that moment to the last firing, both by
 * the database's clock, so server start-up is not in it. The set-up server
 * that arms the timers runs no scheduler of its own: the PostgreSQL figures
 * count the schedulers of the 1 or 3 spawned server processes only; the
 * PGlite figure is one scheduler (the set-up server's, driven directly).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import { ADMIN, BENCH_SM4_KEY, findPostgres, freshDatabase, inProcessServer, processCpu, repoRoot } from './lib.ts';
import { TIMERS_TOPIC } from '../src/services/persist-runs.ts';

const N = Number(process.env.BENCH_TIMERS ?? 10_000);
const fixtureFile = path.join(import.meta.dirname, 'fixtures', 'deadlines.bpmn');
/** The spawned servers deploy nothing at start-up: they only fire. */
const emptyProcessesDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-bench-timers-'));
const TIMEOUT_MS = 30 * 60_000;

/** N instances waiting on their 90-day timer (the one started for real, and N - 1 clones). */
async function cloneWaitingInstances(db: Knex, source: string): Promise<void> {
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
  });
}

async function left(db: Knex): Promise<number> {
  return Number((await db('timers').count({ n: '*' }))[0].n);
}

/** Spawns a server process on the database; resolves once it answers /health (its scheduler is running by then). */
async function child(databaseUrl: string, port: number): Promise<ChildProcess> {
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot, stdio: 'ignore',
    env: {
      ...process.env, DATABASE_URL: databaseUrl, PORT: String(port), HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
      PROCESSES_DIR: emptyProcessesDir, LOG_LEVEL: 'warn', SM4_KEY: BENCH_SM4_KEY,
    },
  });
  for (let i = 0; i < 1200; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/health`)).ok) return proc;
    } catch { /* booting */ }
    await new Promise((r) => setTimeout(r, 50));
  }
  proc.kill('SIGKILL');
  throw new Error('child server did not start');
}

interface Row {
  setup: string; processes: number; timers: number; seconds: number; left: number;
  /** CPU milliseconds per firing: the firing servers (this process for PGlite, the spawned ones for PostgreSQL), and PostgreSQL's own. */
  cpuServers: number; cpuPostgres: number;
}

/**
 * One figure: N timers armed by a set-up server without a scheduler, fired
 * by `processes` spawned servers (PostgreSQL) or by the set-up server's own
 * scheduler driven directly (PGlite, `processes` = 0 spawned).
 */
async function measure(setupLabel: string, databaseUrl: string | undefined, processes: number): Promise<Row> {
  const database = databaseUrl ? await freshDatabase(databaseUrl) : undefined;
  const setup = await inProcessServer(database?.url, { runScheduler: false });
  const children: ChildProcess[] = [];
  try {
    await setup.services.deployments.deploy({
      name: 'deadlines', source: 'bench', tenantId: null, duplicateFiltering: false, changedOnly: false,
      resources: [{ name: 'deadlines.bpmn', bytes: fs.readFileSync(fixtureFile) }],
    });
    const first = await setup.services.instances.startByKey('long-wait', { variables: {} }, { userId: 'bench', groups: ['camunda-admin'], isAdmin: true });
    await cloneWaitingInstances(setup.db, first.instance.id);
    // Start-up is not measured: the servers are up and idle before anything is due.
    for (let i = 0; i < processes; i++) children.push(await child(database!.url, 19100 + i));
    const due: Date = await setup.db.transaction(async (trx) => {
      await trx('timers').update({ due_at: trx.fn.now() });
      await setup.services.notifier.announce(trx, [TIMERS_TOPIC]);
      return new Date((await trx.raw('select now() as now')).rows[0].now);
    });
    const cpuBefore = processCpu();
    const deadline = Date.now() + TIMEOUT_MS;
    if (!processes) await setup.scheduler.runDue();
    while ((await left(setup.db)) > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const remaining = await left(setup.db);
    const cpuAfter = processCpu();
    if (remaining) {
      const errors = await setup.db('timers').select('last_error').count({ n: '*' }).groupBy('last_error');
      console.error(`${setupLabel}: timers left, by last error:`, JSON.stringify(errors));
    }
    // The last firing by the database's clock: when the transaction that fired it ran.
    const [{ last }] = (await setup.db.raw(`select max(end_time) as last from activity_instances where activity_id = 'ninetyDays' and end_time is not null`)).rows;
    const servers = processes ? cpuAfter.children - cpuBefore.children : cpuAfter.self - cpuBefore.self;
    return {
      setup: setupLabel, processes: Math.max(1, processes), timers: N, seconds: (new Date(last).getTime() - due.getTime()) / 1000, left: remaining,
      cpuServers: servers / N, cpuPostgres: (cpuAfter.postgres - cpuBefore.postgres) / N,
    };
  } finally {
    children.forEach((c) => c.kill('SIGTERM'));
    await Promise.all(children.map((c) => (c.exitCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
    await setup.stop();
    await database?.drop();
  }
}

function table(rows: Row[]): void {
  const head = ['database', 'server processes', 'timers', 'due → last fired', 'timers/s', 'CPU ms/firing: servers', 'postgres', 'left'];
  const body = rows.map((r) => [
    r.setup, String(r.processes), String(r.timers), `${r.seconds.toFixed(1)} s`, (r.timers / r.seconds).toFixed(0),
    Number.isNaN(r.cpuServers) ? '–' : r.cpuServers.toFixed(1), r.setup === 'PGlite' || Number.isNaN(r.cpuPostgres) ? '–' : r.cpuPostgres.toFixed(1),
    r.left ? `${r.left} (!)` : '0',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join(' | ')} |`;
  console.log(line(head));
  console.log(`|${widths.map((w, i) => (i === 0 ? '-'.repeat(w + 2) : `${'-'.repeat(w + 1)}:`)).join('|')}|`);
  for (const b of body) console.log(line(b));
}

console.log(`node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; ${N} timers due at once`);
/** BENCH_SETUPS=pglite,pg1,pg3 (the default: all three) picks the figures to take. */
const setups = new Set((process.env.BENCH_SETUPS ?? 'pglite,pg1,pg3').split(',').map((s) => s.trim()));
const rows: Row[] = [];
if (setups.has('pglite')) rows.push(await measure('PGlite', undefined, 0));
const pgUrl = await findPostgres();
if (pgUrl) {
  if (setups.has('pg1')) rows.push(await measure('PostgreSQL', pgUrl, 1));
  if (setups.has('pg3')) rows.push(await measure('PostgreSQL', pgUrl, 3));
} else {
  console.log('PostgreSQL not reachable: skipped');
}
table(rows);
console.log('PGlite with 3 processes: not possible (the embedded database serves one process).');
fs.rmSync(emptyProcessesDir, { recursive: true, force: true });

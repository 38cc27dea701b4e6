/**
 * Throughput benchmark: process instances per second for
 *   start → complete one user task (candidate group office) → end
 * (bench/fixtures/one-task.bpmn), in one run:
 *   (a) bpmn-engine alone, in memory: execute to the wait, getState + JSON.stringify,
 *       JSON.parse + new Engine + recover + resume, signal to the end — the ceiling;
 *   (b) the real server over HTTP (in this process) on PGlite in memory;
 *   (c) the same on PostgreSQL (a fresh database, dropped afterwards);
 *   (d) the server as child processes (`node --import tsx src/main.ts`) on that
 *       PostgreSQL database: 1 process, 2 processes on two ports (the client
 *       alternates), and WORKERS=2 (node:cluster, one port).
 * HTTP units are POST …/key/one-task/start, GET /task?processInstanceId, POST /task/{id}/complete.
 *
 * Run:  npm run bench    (= node --import tsx bench/throughput.ts)
 * Env:  BENCH_N (300), BENCH_WARMUP (100), BENCH_MAX_SECONDS per measurement (20),
 *       BENCH_DATABASE_URL / DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres if reachable),
 *       BENCH_ONLY=a,b,c,d to run some scenarios (e.g. under `node --cpu-prof --import tsx bench/throughput.ts`).
 * CPU busy = share of all cores busy during the measurement (server + client + database);
 * CPU ms/inst = CPU time per instance of this process (client, plus the server when in-process),
 * of its child processes (servers of (d)), of postgres, and of anything else on the machine (noise).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import * as elements from 'bpmn-elements';
import { Engine } from 'bpmn-engine';
import { deserialize, TypeResolver } from 'moddle-context-serializer';
import { compileResource } from '../src/engine/compile.ts';
import {
  BENCH_SM4_KEY, client, createUser, findPostgres, fixture, freshDatabase, inProcessServer, oneInstance, processesDir, repoRoot,
  runLoad, USER, type Call, type LoadResult,
} from './lib.ts';

const N = Number(process.env.BENCH_N ?? 300);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 100);
const MAX_SECONDS = Number(process.env.BENCH_MAX_SECONDS ?? 20);
const CONCURRENCY = [1, 8];
const ONLY = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d').split(','));

interface Row extends LoadResult { scenario: string; concurrency: number }
const rows: Row[] = [];

async function measure(scenario: string, concurrency: number, unit: (i: number) => Promise<void>, n = N): Promise<void> {
  await runLoad(WARMUP, concurrency, unit);
  const r = await runLoad(n, concurrency, unit, MAX_SECONDS);
  rows.push({ scenario, concurrency, ...r });
  process.stderr.write(`  ${scenario} C=${concurrency}: ${r.rate.toFixed(1)}/s (${r.count} in ${r.seconds.toFixed(1)} s)\n`);
}

// ---- (a) the engine alone ------------------------------------------------------------------

const typeResolver = TypeResolver(elements);

async function engineCeiling(): Promise<void> {
  // Compiled once, like a deployment; deserialized per engine, as the server must (no shared element state).
  const [{ compiled }] = await compileResource('one-task.bpmn', fs.readFileSync(fixture, 'utf8'));
  const make = () => new Engine({ name: 'one-task', sourceContext: deserialize(JSON.parse(compiled), typeResolver) });
  const unit = async () => {
    const listener = new EventEmitter();
    const waiting = new Promise<any>((resolve) => listener.once('wait', resolve));
    const first = make();
    await first.execute({ listener });
    const { id } = await waiting;
    const saved = JSON.stringify(await first.getState());
    first.stop();
    const second = make();
    second.recover(JSON.parse(saved));
    const ended = second.waitFor('end');
    const execution = await second.resume();
    execution.signal({ id });
    await ended;
  };
  for (const c of CONCURRENCY) await measure('(a) engine alone, in memory', c, unit, N * 5);
}

// ---- (b), (c) the server in this process ----------------------------------------------------

async function inProcess(label: string, databaseUrl?: string, concurrencies = CONCURRENCY): Promise<void> {
  const server = await inProcessServer(databaseUrl);
  try {
    await createUser(server.url);
    const call = client(server.url, USER.user, USER.password);
    for (const c of concurrencies) await measure(label, c, () => oneInstance(call));
  } finally {
    await server.stop();
  }
}

// ---- (d) the server as child processes -------------------------------------------------------

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const { port } = s.address() as net.AddressInfo;
  await new Promise((resolve) => s.close(resolve));
  return port;
}

async function child(databaseUrl: string, procDir: string, workers: number): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    cwd: repoRoot, stdio: ['ignore', 'ignore', 'inherit'],
    env: { ...process.env, PORT: String(port), HOST: '127.0.0.1', DATABASE_URL: databaseUrl, PROCESSES_DIR: procDir, LOG_LEVEL: 'warn', WORKERS: String(workers), SM4_KEY: BENCH_SM4_KEY },
  });
  const url = `http://127.0.0.1:${port}`;
  for (let t = Date.now(); ; await new Promise((r) => setTimeout(r, 100))) {
    if (proc.exitCode != null) throw new Error(`server on ${port} exited with ${proc.exitCode}`);
    if (Date.now() - t > 30_000) throw new Error(`server on ${port} did not start`);
    const up = await fetch(`${url}/health`).then((r) => r.ok, () => false);
    // With WORKERS=2 wait until both workers answer (one may already listen before the other).
    if (up && workers > 1) await new Promise((r) => setTimeout(r, 1500));
    if (up) return { url, proc };
  }
}

async function stopChild(proc: ChildProcess): Promise<void> {
  if (proc.exitCode != null) return;
  const exited = new Promise((resolve) => proc.once('exit', resolve));
  proc.kill('SIGTERM');
  await exited;
}

async function childProcesses(databaseUrl: string): Promise<void> {
  const procDir = processesDir();
  const setups: [string, number[]][] = [['(d) PostgreSQL, 1 child process', [1]], ['(d) PostgreSQL, 2 child processes', [1, 1]], ['(d) PostgreSQL, WORKERS=2 (cluster)', [2]]];
  for (const [label, workers] of setups) {
    const servers: { url: string; proc: ChildProcess }[] = [];
    try {
      for (const w of workers) servers.push(await child(databaseUrl, procDir, w));
      const calls: Call[] = servers.map((s) => client(s.url, USER.user, USER.password));
      // Each instance runs wholly on one server; successive instances alternate between servers.
      for (const c of [8, 16]) await measure(label, c, (i) => oneInstance(calls[i % calls.length]!));
    } finally {
      for (const s of servers) await stopChild(s.proc);
    }
  }
  fs.rmSync(procDir, { recursive: true, force: true });
}

// ---- main -------------------------------------------------------------------------------------

function printTable(): void {
  const engine = rows.filter((r) => r.scenario.startsWith('(a)')).map((r) => r.rate);
  const ceiling = engine.length ? Math.max(...engine) : NaN;
  const head = ['scenario', 'C', 'inst/s', 'p50 ms', 'p95 ms', 'of ceiling', 'CPU busy', 'CPU ms/inst this|child|pg|other', 'n'];
  const body = rows.map((r) => [
    r.scenario, String(r.concurrency), r.rate.toFixed(1), r.p50.toFixed(2), r.p95.toFixed(2),
    `${((100 * r.rate) / ceiling).toFixed(1)} %`, `${(100 * r.busy).toFixed(0)} %`,
    [r.cpu.self, r.cpu.children, r.cpu.postgres, r.cpu.other].map((v) => v.toFixed(1)).join(' | '), String(r.count),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? '?'}), ${os.platform()} ${os.arch()}`);
  console.log(`N=${N} instances per measurement (engine alone ${N * 5}), warm-up ${WARMUP}, at most ${MAX_SECONDS} s each\n`);
  if (ONLY.has('a')) await engineCeiling();
  if (ONLY.has('b')) await inProcess('(b) server in-process, PGlite');
  const pgUrl = ONLY.has('c') || ONLY.has('d') ? await findPostgres() : undefined;
  if (!pgUrl) {
    console.log('(c), (d) skipped: no PostgreSQL reachable (set BENCH_DATABASE_URL)');
  } else {
    const db = await freshDatabase(pgUrl);
    try {
      if (ONLY.has('c')) await inProcess('(c) server in-process, PostgreSQL', db.url);
      else await inProcess('(c) setup for (d)', db.url, []); // migrates and creates the user (d) needs
      if (ONLY.has('d')) await childProcesses(db.url);
    } finally {
      await db.drop();
    }
  }
  console.log();
  printTable();
  console.log(`\ntotal ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

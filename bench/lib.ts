/**
 * Shared by bench/throughput.ts and bench/memory.ts: a lean keep-alive HTTP
 * client, the one-task fixture in a temp PROCESSES_DIR, a throw-away
 * PostgreSQL database, the in-process server, a load loop and CPU sampling.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import type { Knex } from 'knex';
import { loadConfig } from '../src/config.ts';
import { startServer, type Server } from '../src/server.ts';
import { makeDb } from '../src/store/db.ts';

export const repoRoot = path.resolve(import.meta.dirname, '..');
/** The encryption key of every server a benchmark starts: throwaway, as their databases are. */
export const BENCH_SM4_KEY = randomBytes(16).toString('hex');
export const fixture = path.join(import.meta.dirname, 'fixtures', 'one-task.bpmn');
export const PROCESS_KEY = 'one-task';
export const ADMIN = { user: 'admin', password: 'bench-admin-password' };
export const USER = { user: 'bench', password: 'bench-user-password' };

/** A PROCESSES_DIR holding only the one-task fixture. */
export function processesDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-bench-processes-'));
  fs.copyFileSync(fixture, path.join(dir, 'one-task.bpmn'));
  return dir;
}

export interface Reply { status: number; body: any }
export type Call = (method: string, url: string, body?: unknown) => Promise<Reply>;

/** node:http with a keep-alive agent: cheaper per request than fetch, so the client steals less CPU. */
export function client(baseUrl: string, user: string, password: string): Call {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const auth = `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
  return (method, url, body) => new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : JSON.stringify(body);
    const headers: Record<string, string | number> = { Authorization: auth };
    if (data !== undefined) Object.assign(headers, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(data) });
    const req = http.request(`${baseUrl}${url}`, { method, agent, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null });
      });
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(data);
  });
}

function expect(r: Reply, status: number, what: string): Reply {
  if (r.status !== status) throw new Error(`${what}: HTTP ${r.status} ${JSON.stringify(r.body)}`);
  return r;
}

/** Creates the bench user in `office` (idempotent enough for a fresh database). */
export async function createUser(baseUrl: string): Promise<void> {
  const admin = client(baseUrl, ADMIN.user, ADMIN.password);
  expect(await admin('POST', '/engine-rest/user/create', { profile: { id: USER.user, firstName: 'bench' }, credentials: { password: USER.password } }), 204, 'create user');
  expect(await admin('PUT', '/engine-rest/group/office/members/bench'), 204, 'join office');
}

/** start → find the task → complete, the unit every HTTP figure counts. */
export async function oneInstance(call: Call): Promise<void> {
  const started = expect(await call('POST', `/engine-rest/process-definition/key/${PROCESS_KEY}/start`, {}), 200, 'start');
  const tasks = expect(await call('GET', `/engine-rest/task?processInstanceId=${started.body.id}`), 200, 'task query');
  if (tasks.body.length !== 1) throw new Error(`expected one task, got ${tasks.body.length}`);
  expect(await call('POST', `/engine-rest/task/${tasks.body[0].id}/complete`, {}), 204, 'complete');
}

/**
 * The server of src/server.ts in this process, on PostgreSQL (`databaseUrl`) or else on
 * PGlite: in memory, or in `dataDir` (a folder on disk, as the server runs by default).
 * `runScheduler: false` keeps its timer scheduler loop off (bench/timers.ts measures others).
 */
export async function inProcessServer(databaseUrl?: string, options: { dataDir?: string; runScheduler?: boolean } = {}): Promise<Server & { stop(): Promise<void> }> {
  const procDir = processesDir();
  const config = loadConfig({
    PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
    PROCESSES_DIR: procDir, LOG_LEVEL: 'silent', ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    SM4_KEY: BENCH_SM4_KEY,
  });
  // PGlite in memory is passed in (no data-dir lock); PostgreSQL is opened by the server itself.
  const db: Knex | undefined = databaseUrl ? undefined : makeDb({ dataDir: options.dataDir });
  const server = await startServer(config, { db, log: pino({ level: 'silent' }), runScheduler: options.runScheduler });
  return {
    ...server,
    async stop() {
      await server.close();
      await db?.destroy();
      fs.rmSync(procDir, { recursive: true, force: true });
      if (options.dataDir) fs.rmSync(options.dataDir, { recursive: true, force: true });
    },
  };
}

/** The PostgreSQL to use, or undefined when none answers. */
export async function findPostgres(): Promise<string | undefined> {
  const url = process.env.BENCH_DATABASE_URL || process.env.DATABASE_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
  const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await c.connect();
    await c.query('select 1');
    return url;
  } catch {
    return undefined;
  } finally {
    await c.end().catch(() => undefined);
  }
}

/** A fresh database on that server; `drop` removes it (force-closing leftover connections). */
export async function freshDatabase(adminUrl: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `bpmn_bench_${process.pid}_${randomBytes(3).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: adminUrl });
    await c.connect();
    try { await c.query(sql); } finally { await c.end(); }
  };
  await admin(`create database ${name}`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`drop database if exists ${name} with (force)`) };
}

export interface LoadResult {
  count: number; seconds: number; rate: number; p50: number; p95: number; busy: number;
  /** CPU milliseconds per unit: this process, its child processes, postgres, the rest (Linux /proc; NaN elsewhere). */
  cpu: CpuSplit;
}

/**
 * Runs `n` units with `concurrency` parallel loops (stopping early after
 * `maxSeconds`), returning throughput, latency percentiles and how busy the
 * whole machine's CPUs were meanwhile (all processes: server, client, database).
 */
export async function runLoad(n: number, concurrency: number, unit: (i: number) => Promise<void>, maxSeconds = Infinity): Promise<LoadResult> {
  const latencies: number[] = [];
  let next = 0;
  const cpu0 = cpuTimes();
  const proc0 = processCpu();
  const t0 = performance.now();
  const deadline = t0 + maxSeconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < n && performance.now() < deadline) {
      const i = next++;
      const s = performance.now();
      await unit(i);
      latencies.push(performance.now() - s);
    }
  }));
  const seconds = (performance.now() - t0) / 1000;
  const cpu1 = cpuTimes();
  const proc1 = processCpu();
  const per = (k: keyof typeof proc0) => (proc1[k] - proc0[k]) / Math.max(1, latencies.length);
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? NaN;
  return {
    count: latencies.length, seconds, rate: latencies.length / seconds, p50: pct(0.5), p95: pct(0.95),
    busy: (cpu1.busy - cpu0.busy) / Math.max(1, cpu1.total - cpu0.total),
    cpu: { self: per('self'), children: per('children'), postgres: per('postgres'), other: per('other') },
  };
}

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const c of os.cpus()) {
    const t = c.times;
    busy += t.user + t.nice + t.sys + t.irq;
    total += t.user + t.nice + t.sys + t.irq + t.idle;
  }
  return { busy, total };
}

/**
 * CPU ms used so far by this process, by its descendants (servers of (d)), by
 * `postgres` processes, and by everything else (other users of the machine: noise).
 */
export function processCpu(): CpuSplit {
  const out = { self: 0, children: 0, postgres: 0, other: 0 };
  let pids: string[];
  try {
    pids = fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return { self: NaN, children: NaN, postgres: NaN, other: NaN };
  }
  const procs = new Map<number, { ppid: number; comm: string; ms: number }>();
  for (const pid of pids) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    procs.set(Number(pid), { ppid: Number(fields[1]), comm, ms: ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS });
  }
  const descends = (pid: number): boolean => {
    for (let p = procs.get(pid)?.ppid; p && p > 1; p = procs.get(p)?.ppid) if (p === process.pid) return true;
    return false;
  };
  for (const [pid, p] of procs) {
    if (pid === process.pid) out.self += p.ms;
    else if (descends(pid)) out.children += p.ms;
    else if (p.comm === 'postgres') out.postgres += p.ms;
  }
  out.other = cpuTimes().busy - out.self - out.children - out.postgres; // kernel threads, other sessions…
  return out;
}
export interface CpuSplit { self: number; children: number; postgres: number; other: number }
const CLOCK_TICKS = 100; // USER_HZ on Linux

export const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import type { Knex } from 'knex';
import { makeDb } from '../../src/store/db.ts';
import type { Backend } from './db.ts';
import { ADMIN, repoRoot, TEST_KEY_ENV } from './server.ts';

/*
 * The real server as a child process (`node --import tsx src/main.ts`), for
 * tests about what only a separate OS process shows: kill -9, several
 * processes on one database. Every child is killed when the test file ends.
 */
const children = new Set<ChildProcess>();
/** Folders removed when the test file ends. */
export const tempDirs: string[] = [];

function killAll(): void {
  for (const child of children) child.kill('SIGKILL');
}
// A crashed or timed-out test must never leave a server running.
process.once('exit', killAll);
test.after.always(async () => {
  const running = [...children];
  killAll();
  await Promise.all(running.map((c) => (c.exitCode !== null || c.signalCode !== null ? undefined : new Promise((r) => c.once('exit', r)))));
  for (const dir of tempDirs) fs.rmSync(dir, { recursive: true, force: true });
});

export interface Running {
  child: ChildProcess;
  url: string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  bootMs: number;
}

export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as net.AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

/** The last lines a child wrote, for diagnostics when something goes wrong. */
export class Tail {
  private lines: string[] = [];
  add(prefix: string, chunk: Buffer): void {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line) continue;
      this.lines.push(`${prefix} ${line}`);
      if (this.lines.length > 300) this.lines.shift();
    }
  }
  text(): string {
    return this.lines.join('\n');
  }
}

/** Spawns `node --import tsx src/main.ts` and waits until /health answers. */
export async function boot(dbEnv: Record<string, string>, tail: Tail, label: string): Promise<Running> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    PORT: String(port), HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: 'info', PROCESSES_DIR: path.join(repoRoot, 'processes'), WORKERS: '1',
    // PostgreSQL needs a key; an embedded server in its own DATA_DIR generates one there, as in production.
    ...(dbEnv.DATABASE_URL ? TEST_KEY_ENV : {}),
    ...dbEnv,
  };
  if (!dbEnv.SM4_KEY && !dbEnv.DATABASE_URL) delete env.SM4_KEY;
  if (!dbEnv.SM4_KEY_FILE) delete env.SM4_KEY_FILE;
  if (!dbEnv.DATABASE_URL) delete env.DATABASE_URL;
  if (!dbEnv.DATA_DIR) delete env.DATA_DIR;
  const began = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: repoRoot, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  tail.add(`[${label}]`, Buffer.from(`spawned pid ${child.pid} on port ${port}`));
  child.stdout!.on('data', (b: Buffer) => tail.add(`[${label} out]`, b));
  child.stderr!.on('data', (b: Buffer) => tail.add(`[${label} err]`, b));
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      children.delete(child);
      exit = { code, signal };
      tail.add(`[${label}]`, Buffer.from(`exited code=${code} signal=${signal}`));
      resolve(exit);
    });
  });
  const url = `http://127.0.0.1:${port}`;
  // Waiting for a process to boot (tsx, migrations, PGlite recovery): bounded polling, by time,
  // since a PGlite boot on a loaded machine takes most of a minute.
  while (Date.now() - began < 150_000) {
    if (exit) throw new Error(`server exited during start-up (code ${exit.code}, signal ${exit.signal})\n${tail.text()}`);
    try {
      const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const body = await res.text();
      if (res.status === 200) return { child, url, exited, bootMs: Date.now() - began };
      tail.add(`[${label} health]`, Buffer.from(`${res.status} ${body}`));
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  child.kill('SIGKILL');
  throw new Error(`server did not become healthy\n${tail.text()}`);
}

/**
 * Boots the server, trying again when it is not healthy in boot's bound: an
 * embedded database's first start (migrations, recovery) can outlast it on a
 * loaded machine. A start cut short is one more crash the data must survive.
 */
export async function bootPatiently(env: Record<string, string>, tail: Tail, label: string): Promise<Running> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await boot(env, tail, `${label}.${attempt}`);
    } catch (err) {
      if (attempt >= 4 || !String((err as Error).message).includes('did not become healthy')) throw err;
    }
  }
}

/**
 * Boots `count` server processes on `databaseUrl` (with `env` added, e.g. a
 * PROCESSES_DIR), runs `body` with them and stops them (SIGTERM, waiting for
 * each to exit). If anything fails, their last lines go to the test's log.
 */
export async function withServerProcesses<T>(
  t: ExecutionContext, databaseUrl: string, count: number, body: (servers: Running[]) => Promise<T>, env: Record<string, string> = {},
): Promise<T> {
  const tail = new Tail();
  try {
    const servers = await Promise.all(Array.from({ length: count }, (_, i) => boot({ ...env, DATABASE_URL: databaseUrl }, tail, `server-${i + 1}`)));
    const result = await body(servers);
    for (const s of servers) s.child.kill('SIGTERM');
    await Promise.all(servers.map((s) => s.exited));
    return result;
  } catch (err) {
    t.log(tail.text());
    throw err;
  }
}

/** A fresh database for the child server, and a Knex handle on it once the server has stopped. */
export async function database(backend: Backend): Promise<{ dbEnv: Record<string, string>; sql(): Promise<Knex>; cleanup(): Promise<void> }> {
  if (backend.name === 'pglite') {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-crash-'));
    tempDirs.push(dataDir);
    let db: Knex | undefined;
    return {
      dbEnv: { DATA_DIR: dataDir },
      async sql() {
        db = makeDb({ dataDir });
        return db;
      },
      async cleanup() {
        await db?.destroy();
        fs.rmSync(dataDir, { recursive: true, force: true });
      },
    };
  }
  const testDb = await backend.create({ migrate: false });
  return {
    dbEnv: { DATABASE_URL: testDb.url! },
    sql: async () => testDb.db,
    cleanup: () => testDb.drop(),
  };
}


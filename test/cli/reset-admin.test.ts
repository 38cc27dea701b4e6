import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer, type Server } from '../../src/server.ts';
import { backends, type Backend } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, repoRoot, startTestServer, TEST_KEY_ENV } from '../helpers/server.ts';

/** `npm run reset-admin [-- user]` as an operator runs it on the host, with the server's database settings. */
function resetAdmin(env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string; err: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'DATA_DIR', 'ADMIN_USER', 'ADMIN_PASSWORD'].includes(k)));
  const child = spawn('npm', ['run', '-s', 'reset-admin', ...(args.length ? ['--', ...args] : [])], { cwd: repoRoot, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (err += b.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out, err })));
}

/**
 * A server an operator resets the password of. On PostgreSQL the tool runs
 * beside the running server; the embedded database is one process's at a
 * time, so there the server stops first and starts again afterwards.
 */
interface Host {
  url(): string;
  cliEnv: Record<string, string>;
  /** Around a run of the tool: stop the server where it must be stopped, and start it again. */
  around<T>(run: () => Promise<T>): Promise<T>;
  /** The tool while the server holds the database: refused (embedded) or not (PostgreSQL). */
  holdsDatabase: boolean;
  close(): Promise<void>;
}

async function hostOn(backend: Backend): Promise<Host> {
  if (backend.name === 'postgres') {
    const s = await startTestServer(backend, NO_PROCESSES);
    return { url: () => s.url, cliEnv: { DATABASE_URL: s.testDb.url! }, around: (run) => run(), holdsDatabase: false, close: () => s.stop() };
  }
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'reset-admin-'));
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ...NO_PROCESSES, ...TEST_KEY_ENV });
  const start = () => startServer(config, { log: pino({ level: 'silent' }) });
  let server: Server | undefined = await start();
  return {
    url: () => server!.url,
    cliEnv: { DATA_DIR: dataDir },
    async around(run) {
      await server!.close();
      server = undefined;
      try {
        return await run();
      } finally {
        server = await start();
      }
    },
    holdsDatabase: true,
    async close() {
      await server?.close();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

const passwordIn = (out: string) => /new password: (\S+)/.exec(out)?.[1];

for (const backend of backends) {
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('reset-admin sets a new password for the locked-out administrator, prints it once, and leaves a trace row by system from the cli'), async (t) => {
    const host = await hostOn(backend);
    try {
      // The administrator forgot the password and locked the account guessing.
      const guessing = client(host.url(), ADMIN.user, 'not-the-password-1');
      for (let i = 0; i < 5; i++) t.is((await guessing.get('/engine-rest/version')).status, 401);
      t.is((await client(host.url(), ADMIN.user, ADMIN.password).get('/engine-rest/version')).status, 429);

      if (host.holdsDatabase) {
        const refused = await resetAdmin(host.cliEnv);
        t.is(refused.code, 2, refused.out + refused.err);
        t.is(passwordIn(refused.out), undefined);
      }
      const done = await host.around(() => resetAdmin(host.cliEnv));
      t.is(done.code, 0, done.out + done.err);
      const password = passwordIn(done.out);
      t.truthy(password);
      t.regex(done.out, new RegExp(`administrator: ${ADMIN.user}\\n`));
      t.false(done.err.includes(password!));

      t.is((await client(host.url(), ADMIN.user, ADMIN.password).get('/engine-rest/version')).status, 401);
      const admin = client(host.url(), ADMIN.user, password);
      t.is((await admin.get('/engine-rest/version')).status, 200);

      const rows = (await admin.get('/engine-rest/history/user-operation?operationType=ResetCredentials')).body as { userId: string; source: string; entityId: string; details: unknown }[];
      t.is(rows.length, 1);
      t.like(rows[0], { userId: 'system', source: 'cli', entityId: ADMIN.user });
      t.false(JSON.stringify(rows[0]).includes(password!));
      const verified = await admin.get('/engine-rest/trace/verify');
      t.true(verified.body.ok);
    } finally {
      await host.close();
    }
  });

  test.serial(t('reset-admin resets only administrators, and asks which when there are several'), async (t) => {
    const host = await hostOn(backend);
    try {
      await makeUser({ url: host.url() }, 'office-r', ['office']);
      await makeUser({ url: host.url() }, 'second-admin', ['camunda-admin']);
      const { staff, second, several } = await host.around(async () => ({
        staff: await resetAdmin(host.cliEnv, ['office-r']),
        second: await resetAdmin(host.cliEnv, ['second-admin']),
        several: await resetAdmin(host.cliEnv),
      }));
      t.is(staff.code, 1, staff.out + staff.err);
      t.regex(staff.err, /not a member of camunda-admin/);
      t.is(several.code, 1, several.out + several.err);
      t.regex(several.err, /several administrators, name one: .*admin.*second-admin|second-admin.*admin/);
      t.is(second.code, 0, second.out + second.err);
      t.is((await client(host.url(), 'second-admin', passwordIn(second.out)).get('/engine-rest/version')).status, 200);
      // The first administrator's password is untouched.
      t.is((await client(host.url(), ADMIN.user, ADMIN.password).get('/engine-rest/version')).status, 200);
    } finally {
      await host.close();
    }
  });
}

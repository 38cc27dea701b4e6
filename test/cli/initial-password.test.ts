import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import test from 'ava';
import { loadConfig } from '../../src/config.ts';
import { makeLogger } from '../../src/log.ts';
import { INITIAL_PASSWORD_FILE, startServer } from '../../src/server.ts';
import { client, NO_PROCESSES, TEST_KEY_ENV } from '../helpers/server.ts';

/*
 * Issue 19: the administrator password is never in a log. A first start
 * without ADMIN_PASSWORD and without a terminal (a service: stdout is
 * journald) leaves the generated password in a file of DATA_DIR that only
 * the server's user can read, and the log names the file, not the password.
 */
test('a first start without a terminal writes the generated password to a 0600 file in DATA_DIR, never to the log', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'initial-password-'));
  const logged: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { logged.push(chunk.toString('utf8')); done(); } });
  t.false(Boolean(process.stdout.isTTY), 'the test runs without a terminal, as a service does');
  try {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'info', ...NO_PROCESSES, ...TEST_KEY_ENV });
    const server = await startServer(config, { log: makeLogger('info', destination) });
    try {
      const file = path.join(dataDir, INITIAL_PASSWORD_FILE);
      t.is(fs.statSync(file).mode & 0o777, 0o600);
      const [user, password] = fs.readFileSync(file, 'utf8').trim().split('\n');
      t.is(user, 'admin');
      t.true(password!.length >= 12);
      t.is((await client(server.url, user, password).get('/engine-rest/user')).status, 200, 'the password in the file signs in');
      t.true(logged.some((l) => l.includes(file)), 'the log names the file');
      t.false(logged.some((l) => l.includes(password!)), 'and never the password');
    } finally {
      await server.close();
    }
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

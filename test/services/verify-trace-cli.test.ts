import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { makeDb } from '../../src/store/db.ts';
import pino from 'pino';
import { loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { ADMIN, client, NO_PROCESSES, TEST_KEY_ENV } from '../helpers/server.ts';
import { runNpmScript } from '../helpers/npm-script.ts';

/** `npm run verify-trace` as an operator runs it on an embedded DATA_DIR. */
const verifyTrace = (dataDir: string) => runNpmScript('verify-trace', { ...TEST_KEY_ENV, DATA_DIR: dataDir });

test('npm run verify-trace: 0 for a whole chain, 1 naming the first edited row, 2 while a server holds the folder', async (t) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'verify-trace-'));
  try {
    const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ...NO_PROCESSES, ...TEST_KEY_ENV });
    const server = await startServer(config, { log: pino({ level: 'silent' }) });
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    for (let i = 0; i < 3; i++) await admin.get('/engine-rest/process-definition');
    const busy = await verifyTrace(dataDir);
    await server.close();
    t.is(busy.code, 2, busy.out);

    const whole = await verifyTrace(dataDir);
    t.is(whole.code, 0, whole.out);
    t.regex(whole.out, /trace chain verified: \d+ rows/);

    // Someone edits a row in the database file behind the server's back.
    const db = makeDb({ dataDir });
    const [row] = await db('trace').orderBy('id').offset(1).limit(1);
    await db('trace').where({ id: row.id }).update({ user_id: 'nobody' });
    await db.destroy();
    const broken = await verifyTrace(dataDir);
    t.is(broken.code, 1, broken.out);
    t.regex(broken.out, new RegExp(`broken at row ${row.id}: .*edited`));
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
});

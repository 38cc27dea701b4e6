import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import pino from 'pino';
import { makeApp } from '../../src/http/app.ts';
import { makeServices } from '../../src/server.ts';
import { makeDb } from '../../src/store/db.ts';
import { testKeyring } from '../helpers/server.ts';

test('/health answers 503 with a reason when the database cannot be reached', async (t) => {
  // Port 1 on loopback: nothing listens there, so every connection is refused at once.
  const db = makeDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
  const app = makeApp({ ...makeServices(db, testKeyring()), log: pino({ level: 'silent' }), bodyLimit: 1024 * 1024, corsOrigins: [] });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/health`);
    t.is(res.status, 503);
    t.is(res.headers.get('content-type'), 'application/json');
    const body = await res.json() as { status: string; database: string; error: string };
    t.is(body.status, 'DOWN');
    t.regex(body.error, /the database does not answer/);
    t.false(body.error.includes('127.0.0.1'), 'the driver\'s message, naming host and port, is logged, not shown to whoever asks');
  } finally {
    server.close();
    await db.destroy();
  }
});

import test from 'ava';
import fs from 'node:fs';
import path from 'node:path';
import pino from 'pino';
import { ManualClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { startServer } from '../src/server.ts';
import { listOutboxMails } from '../src/store/notifications.ts';
import { backends } from './helpers/db.ts';
import { boot, database, Tail } from './helpers/child-server.ts';
import { ADMIN, client, NO_PROCESSES, TEST_KEY_ENV, vars } from './helpers/server.ts';
import { messageIdOf, startSmtpSink } from './helpers/smtp-sink.ts';

/*
 * kill -9 while sending mail: the real server as a child process mails the
 * leading group of four offered tasks through a real SMTP sink that holds the
 * fifth message (the server is waiting for its 250 reply) while the server
 * is SIGKILLed. The sink then accepts it: delivered, but the server never
 * recorded it. Restarted on the same database (in this process, with an
 * injected clock past the dead server's leases) and driven, the sender
 * delivers everything; the in-app list has each notification once; mail is
 * at least once, each resend carrying the same Message-ID, so deduplicating by
 * Message-ID gives exactly one per queued notification.
 */

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, 'fixtures/notify-offer.bpmn'));
const MEMBERS = ['lead-a', 'lead-b', 'lead-c'];
const INSTANCES = 4;

for (const backend of backends) {
  test(`${backend.name}: a server killed -9 mid-delivery sends everything after restart, none twice in-app, mail deduplicable by Message-ID`, async (t) => {
    let arrived = 0;
    let reached!: () => void;
    const atFifth = new Promise<void>((resolve) => { reached = resolve; });
    let release!: () => void;
    const released = new Promise<void>((resolve) => { release = resolve; });
    const smtp = await startSmtpSink({
      hold: () => {
        if (++arrived !== 5) return Promise.resolve();
        reached();
        return released;
      },
    });
    const env = { ...NO_PROCESSES, SMTP_URL: smtp.url(), SMTP_FROM: 'bpm@example.org', PUBLIC_BASE_URL: 'https://bpm.example.org' };
    const db = await database(backend);
    const tail = new Tail();
    try {
      // The same key for the child and the restart (an embedded child would otherwise make its own).
      const child = await boot({ ...db.dbEnv, ...env, ...TEST_KEY_ENV }, tail, 'mailer');
      const admin = client(child.url, ADMIN.user, ADMIN.password);
      for (const id of [...MEMBERS, 'office-x']) {
        const r = await admin.post('/engine-rest/user/create', { profile: { id, firstName: id, email: `${id}@example.org` }, credentials: { password: `${id}-password` } });
        t.is(r.status, 204);
        await admin.put(`/engine-rest/group/${id === 'office-x' ? 'office' : 'leading-group'}/members/${id}`);
      }
      const form = new FormData();
      form.append('deployment-name', 'notify-offer');
      form.append('notify-offer.bpmn', new Blob([FIXTURE]), 'notify-offer.bpmn');
      t.is((await fetch(`${child.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } })).status, 200);
      const office = client(child.url, 'office-x', 'office-x-password');
      for (let i = 0; i < INSTANCES; i++) {
        t.is((await office.post('/engine-rest/process-definition/key/notify-offer/start', { businessKey: `crash-${i}`, variables: vars({ filer: 'office-x' }) })).status, 200);
      }
      // The child's own scheduler sends; the sink holds the fifth message until the server is dead.
      await Promise.race([atFifth, child.exited.then(() => { throw new Error('the server died before the fifth message'); })]);
      child.child.kill('SIGKILL');
      t.is((await child.exited).signal, 'SIGKILL');
      release();

      // Restart on the same database, past the dead server's five-minute leases, and drive the sender.
      const sql = await db.sql();
      const clock = new ManualClock(new Date(Date.now() + 10 * 60_000));
      const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'silent', ...TEST_KEY_ENV, ...env });
      const server = await startServer(config, { db: sql, clock, runScheduler: false, log: pino({ level: 'silent' }) });
      try {
        for (let i = 0; i < 3; i++) await server.scheduler.runDue();
        const queued = await listOutboxMails(sql);
        t.is(queued.length, INSTANCES * MEMBERS.length, 'an offer mail per task and member (the candidate user cand-user has no account, so no address)');
        t.true(queued.every((m) => m.sent_at && !m.failed_at), 'every message delivered and recorded');
        const ids = smtp.received.map((m) => messageIdOf(m.raw)!);
        t.true(ids.every(Boolean));
        const wanted = new Set(queued.map((m) => `<${m.idempotency_key.replace(/[^A-Za-z0-9.-]/g, '.')}@notifications.bpm>`));
        t.deepEqual([...new Set(ids)].sort(), [...wanted].sort(), 'deduplicated by Message-ID: exactly one per notification');
        t.true(ids.length > wanted.size, 'the message in flight at the kill was sent again, with the same Message-ID');
        for (const u of MEMBERS) {
          const inApp = (await client(server.url, u, `${u}-password`).get('/engine-rest/notification?type=task-offered')).body as { taskId: string }[];
          t.is(inApp.length, INSTANCES, u);
          t.is(new Set(inApp.map((n) => n.taskId)).size, INSTANCES, `${u}: none twice`);
        }
      } finally {
        await server.close();
      }
    } catch (err) {
      t.log(tail.text());
      throw err;
    } finally {
      await smtp.down().catch(() => undefined);
      await db.cleanup();
    }
  });
}

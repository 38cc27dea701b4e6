import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

/*
 * Per-user preferences (docs/notifications.md): email off stops mail, not
 * the in-app notice; quiet hours hold mail until they end, by the injected
 * clock, and then send it once.
 */
for (const backend of backends) {
  // 23:00 in Beijing.
  const clock = new ManualClock(new Date('2026-12-01T15:00:00Z'));
  let server!: TestServer;
  let smtp!: SmtpSink;
  const c: Record<string, Client> = {};
  test.before(async () => {
    smtp = await startSmtpSink();
    server = await startTestServer(backend, { ...NO_PROCESSES, SMTP_URL: smtp.url(), SMTP_FROM: 'bpm@example.org', PUBLIC_BASE_URL: 'https://bpm.example.org' }, { clock, runScheduler: false });
    await server.services.deployments.deploy(oneResource('notify-offer.bpmn', fixture('notify-offer.bpmn')));
    const admin = client(server.url, ADMIN.user, ADMIN.password);
    for (const [id, group] of [['lead-a', 'leading-group'], ['lead-b', 'leading-group'], ['lead-c', 'leading-group'], ['office-x', 'office']]) {
      await admin.post('/engine-rest/user/create', { profile: { id, firstName: id, email: `${id}@example.org` }, credentials: { password: `${id}-password` } });
      await admin.put(`/engine-rest/group/${group}/members/${id}`);
      c[id] = client(server.url, id, `${id}-password`);
    }
  });
  test.after.always(async () => {
    await server?.stop();
    await smtp?.down().catch(() => undefined);
  });
  const t = (title: string) => `${backend.name}: ${title}`;
  const mailedTo = () => smtp.received.map((m) => m.to).sort();

  test.serial(t('preferences: defaults, own only, bad input is 400 naming the field and changes nothing'), async (t) => {
    t.deepEqual((await c['lead-a'].get('/engine-rest/notification/preferences')).body, { inApp: true, email: true, quietHours: null });
    const bad: [unknown, RegExp][] = [
      [{ inApp: false, email: true }, /inApp/], [{ email: 'yes' }, /email/], [{ email: true, quietHours: { start: '25:00', end: '07:00' } }, /quietHours.start/],
      [{ email: true, quietHours: { start: '22:00', end: '22:00' } }, /differ/], [{ email: true, quietHours: { start: '22:00', end: '07:00', timeZone: 'Mars/Base' } }, /timeZone/],
      [{ email: true, sms: true }, /sms/],
    ];
    for (const [body, says] of bad) {
      const r = await c['lead-a'].put('/engine-rest/notification/preferences', body);
      t.is(r.status, 400, JSON.stringify(body));
      t.regex(r.body.message, says);
    }
    t.deepEqual((await c['lead-a'].get('/engine-rest/notification/preferences')).body, { inApp: true, email: true, quietHours: null });
    const quiet = await c['lead-a'].put('/engine-rest/notification/preferences', { email: true, quietHours: { start: '22:00', end: '07:00' } });
    t.is(quiet.status, 200);
    t.deepEqual(quiet.body, { inApp: true, email: true, quietHours: { start: '22:00', end: '07:00', timeZone: 'Asia/Shanghai' } });
    t.is((await c['lead-b'].put('/engine-rest/notification/preferences', { email: false })).status, 200);
    t.deepEqual((await c['lead-c'].get('/engine-rest/notification/preferences')).body.quietHours, null, 'another\'s are their own');
  });

  test.serial(t('email off: in-app only; quiet hours: mail held until they end, then sent once'), async (t) => {
    const r = await c['office-x'].post('/engine-rest/process-definition/key/notify-offer/start', { variables: vars({ filer: 'office-x' }) });
    t.is(r.status, 200);
    for (const u of ['lead-a', 'lead-b', 'lead-c']) t.is((await c[u].get('/engine-rest/notification/count?unread=true')).body.count, 1, u);
    await server.scheduler.runDue();
    t.deepEqual(mailedTo(), ['lead-c@example.org'], 'lead-a is in quiet hours, lead-b turned email off');
    clock.set(new Date('2026-12-01T22:59:00Z')); // 06:59 in Beijing
    await server.scheduler.runDue();
    t.deepEqual(mailedTo(), ['lead-c@example.org']);
    clock.set(new Date('2026-12-01T23:00:00Z')); // 07:00
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    t.deepEqual(mailedTo(), ['lead-a@example.org', 'lead-c@example.org'], 'held, not dropped; sent once');
    const [row] = (await server.db('notification_outbox').where({ user_id: 'lead-a' }));
    t.is(row.attempts, 1, 'holding is not a failed attempt');
  });

  test.serial(t('email turned off while mail is held: it is given up, never sent'), async (t) => {
    smtp.received.length = 0;
    clock.set(new Date('2026-12-02T15:00:00Z')); // 23:00 in Beijing, lead-a's quiet hours again
    const r = await c['office-x'].post('/engine-rest/process-definition/key/notify-offer/start', { variables: vars({ filer: 'office-x' }) });
    t.is(r.status, 200);
    await server.scheduler.runDue();
    t.false(mailedTo().includes('lead-a@example.org'), 'held');
    const off = await c['lead-a'].put('/engine-rest/notification/preferences', { email: false, quietHours: null });
    t.is(off.status, 200, JSON.stringify(off.body));
    clock.set(new Date('2026-12-02T23:30:00Z'));
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    t.false(mailedTo().includes('lead-a@example.org'), 'not sent after email was turned off');
    const rows = await server.db('notification_outbox').where({ user_id: 'lead-a' }).whereNull('sent_at');
    t.is(rows.length, 1);
    t.truthy(rows[0].failed_at);
    t.regex(rows[0].last_error, /turned email off/);
  });
}

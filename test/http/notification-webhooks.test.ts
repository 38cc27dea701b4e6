import test from 'ava';
import { createHmac } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { Writable } from 'node:stream';
import { parseKeySpec } from '../../src/crypto/keyring.ts';
import { makeLogger } from '../../src/log.ts';
import { makeDefinitionService } from '../../src/services/definitions.ts';
import { makeNotificationWebhookService } from '../../src/services/notification-webhooks.ts';
import { reencryptVariables } from '../../src/services/reencrypt.ts';
import { makeVariableVault } from '../../src/services/sealed-variables.ts';
import { makeTraceService } from '../../src/services/trace.ts';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, TEST_SM4_KEY, vars, type Client, type TestServer } from '../helpers/server.ts';

interface Received { path: string; query: URLSearchParams; headers: http.IncomingHttpHeaders; body: any }

/**
 * A real HTTP receiver on a loopback port standing in for 企业微信, 钉钉 and a
 * JSON endpoint. `answer` decides each reply (default: 200 `{errcode:0}`);
 * only requests answered with success count as `delivered`. `down()` closes
 * the port, `up()` listens on it again.
 */
async function startReceiver() {
  const all: Received[] = [];
  const delivered: Received[] = [];
  let answer = (_r: Received): [number, unknown] => [200, { errcode: 0, errmsg: 'ok' }];
  let port = 0;
  let server: http.Server;
  const listen = async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const url = new URL(req.url!, 'http://x');
        const r: Received = { path: url.pathname, query: url.searchParams, headers: req.headers, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
        all.push(r);
        const [status, body] = answer(r);
        if (status === 200 && (body as { errcode?: number }).errcode === 0) delivered.push(r);
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
      });
    });
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  };
  await listen();
  return {
    all, delivered, url: (p: string) => `http://127.0.0.1:${port}${p}`,
    set answer(f: (r: Received) => [number, unknown]) { answer = f; },
    down: () => new Promise<void>((resolve) => { server.close(() => resolve()); server.closeAllConnections(); }),
    up: listen,
  };
}

const FIXTURE = fs.readFileSync(path.resolve(import.meta.dirname, '../fixtures/notify-offer.bpmn'));
const WECOM_KEY = 'wecom-robot-key-7f3a';
const DING_TOKEN = 'ding-access-token-91c2';
const DING_SECRET = 'SECd1n9-s3cr3t-value';
const GLOBAL_TOKEN = 'global-hook-token-55e1';

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  let receiver!: Awaited<ReturnType<typeof startReceiver>>;
  let admin!: Client;
  let office!: Client;
  const hooks: Record<string, string> = {};
  /** What the server logged, line by line (the secrets must never be among it). */
  const logged: string[] = [];
  const destination = new Writable({ write(chunk: Buffer, _enc, done) { logged.push(...chunk.toString('utf8').split('\n').filter(Boolean)); done(); } });
  test.before(async () => {
    receiver = await startReceiver();
    server = await startTestServer(backend, {
      ...NO_PROCESSES, NOTIFY_WEBHOOK_URL: receiver.url(`/global?token=${GLOBAL_TOKEN}`), PUBLIC_BASE_URL: 'https://bpm.example.org',
    }, { clock, runScheduler: false, log: makeLogger('debug', destination) });
    admin = client(server.url, ADMIN.user, ADMIN.password);
    office = await makeUser(server, 'office-w', ['office']);
    for (const id of ['lead-w1', 'lead-w2', 'lead-w3']) await makeUser(server, id, ['leading-group']);
    await makeUser(server, 'cand-user', ['office']);
    const form = new FormData();
    form.append('deployment-name', 'notify-offer');
    form.append('notify-offer.bpmn', new Blob([FIXTURE]), 'notify-offer.bpmn');
    const d = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } });
    if (d.status !== 200) throw new Error(`deploy: ${d.status} ${await d.text()}`);
  });
  test.after.always(async () => {
    await server?.stop();
    await receiver?.down().catch(() => undefined);
  });
  const t = (title: string) => `${backend.name}: ${title}`;
  const start = async (businessKey: string) => {
    const r = await office.post('/engine-rest/process-definition/key/notify-offer/start', { businessKey, variables: vars({ filer: 'office-w' }) });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  };
  const noSecrets = (t: { false(v: boolean, m?: string): void }, body: unknown, what: string) => {
    const text = JSON.stringify(body);
    for (const s of [WECOM_KEY, DING_TOKEN, DING_SECRET]) t.false(text.includes(s), `${what} must not show ${s}`);
  };

  test.serial(t('administrators add role webhooks; URL and secret are write-only, stored sealed, and every change is traced'), async (t) => {
    const wecom = await admin.post('/engine-rest/notification-webhook', {
      name: '领导小组企业微信群', groupId: 'leading-group', format: 'wecom', url: receiver.url(`/wecom/send?key=${WECOM_KEY}`),
    });
    t.is(wecom.status, 200, JSON.stringify(wecom.body));
    t.like(wecom.body, { name: '领导小组企业微信群', groupId: 'leading-group', format: 'wecom', hasSecret: false, enabled: true });
    t.regex(wecom.body.urlMasked, /^http:\/\/127\.0\.0\.1:\d+\/…$/);
    const ding = await admin.post('/engine-rest/notification-webhook', {
      name: '领导小组钉钉群', groupId: 'leading-group', format: 'dingtalk', url: receiver.url(`/ding/robot/send?access_token=${DING_TOKEN}`), secret: DING_SECRET,
    });
    t.is(ding.status, 200);
    t.true(ding.body.hasSecret);
    hooks.wecom = wecom.body.id;
    hooks.ding = ding.body.id;
    noSecrets(t, [wecom.body, ding.body], 'create');
    const list = await admin.get('/engine-rest/notification-webhook');
    t.is(list.status, 200);
    t.deepEqual(list.body.map((w: { id: string }) => w.id).sort(), [hooks.wecom, hooks.ding].sort());
    noSecrets(t, list.body, 'list');
    noSecrets(t, (await admin.get(`/engine-rest/notification-webhook/${hooks.ding}`)).body, 'get');
    t.is((await admin.get('/engine-rest/notification-webhook/count?groupId=leading-group')).body.count, 2);
    // Stored sealed: neither the robot's key nor the secret is in the row.
    const rows = await server.db('notification_webhooks').select('*');
    noSecrets(t, rows, 'the stored rows');
    t.true(rows.every((r) => r.key_id && r.url.alg === 'SM4-CTR+HMAC-SM3'));
    // A change that names neither keeps both; the trace never holds them.
    t.is((await admin.put(`/engine-rest/notification-webhook/${hooks.ding}`, { name: '钉钉群' })).status, 204);
    t.like((await admin.get(`/engine-rest/notification-webhook/${hooks.ding}`)).body, { name: '钉钉群', hasSecret: true, format: 'dingtalk' });
    const ops = (await admin.get('/engine-rest/history/user-operation?entityType=NotificationWebhook')).body as { operationType: string; entityId: string; userId: string }[];
    const changes = ops.filter((o) => o.operationType !== 'Read').map((o) => `${o.operationType} ${o.entityId}`).sort();
    t.deepEqual(changes, [`Create ${hooks.ding}`, `Create ${hooks.wecom}`, `Update ${hooks.ding}`].sort());
    t.true(ops.every((o) => o.userId === ADMIN.user));
    t.true(ops.some((o) => o.operationType === 'Read'), 'reads of the webhooks are traced too');
    noSecrets(t, await server.db('trace').select('*'), 'the trace');
  });

  test.serial(t('bad input is 400 naming the field; only administrators; an unknown id is 404'), async (t) => {
    const base = { groupId: 'leading-group', format: 'wecom', url: 'https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=x' };
    const cases: [Record<string, unknown>, string][] = [
      [{ ...base, format: 'slack' }, 'format'],
      [{ ...base, url: 'ftp://example.org/hook' }, 'url'],
      [{ ...base, url: 'not a url' }, 'url'],
      [{ groupId: 'leading-group', format: 'json' }, 'url'],
      [{ ...base, groupId: 'no-such-group' }, 'groupId'],
      [{ ...base, secret: 'SECx' }, 'secret'],
      [{ ...base, enabled: 'yes' }, 'enabled'],
      [{ ...base, colour: 'red' }, 'colour'],
    ];
    for (const [body, field] of cases) {
      const r = await admin.post('/engine-rest/notification-webhook', body);
      t.is(r.status, 400, field);
      t.true(r.body.message.startsWith(`${field}:`), `${field}: ${r.body.message}`);
    }
    t.is((await admin.put(`/engine-rest/notification-webhook/${hooks.ding}`, { format: 'wecom' })).status, 400, 'a kept secret with a format that takes none');
    t.is((await admin.put(`/engine-rest/notification-webhook/${hooks.ding}`, { url: 'file:///etc/passwd' })).status, 400);
    t.is((await office.get('/engine-rest/notification-webhook')).status, 403);
    t.is((await office.post('/engine-rest/notification-webhook', base)).status, 403);
    t.is((await office.delete(`/engine-rest/notification-webhook/${hooks.ding}`)).status, 403);
    t.is((await admin.get('/engine-rest/notification-webhook/nope')).status, 404);
    t.is((await admin.get('/engine-rest/notification-webhook')).body.length, 2, 'nothing half-written');
  });

  test.serial(t('a task offered to leading-group: one 企业微信 message, one signed 钉钉 message, one JSON per event to the global webhook'), async (t) => {
    const instanceId = await start('hook-1');
    t.is(receiver.all.length, 0, 'nothing is posted inside the request');
    const task = (await admin.get(`/engine-rest/task?processInstanceId=${instanceId}`)).body;
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    const wecom = receiver.delivered.filter((r) => r.path === '/wecom/send');
    const ding = receiver.delivered.filter((r) => r.path === '/ding/robot/send');
    const global = receiver.delivered.filter((r) => r.path === '/global');
    t.is(wecom.length, 1, 'one robot message for the role, not one per member');
    t.is(ding.length, 1);
    t.is(global.length, 1, 'one JSON for the one event');
    t.is(wecom[0].query.get('key'), WECOM_KEY);
    t.is(wecom[0].body.msgtype, 'markdown');
    t.regex(wecom[0].body.markdown.content, /待办：领导小组审阅/);
    t.true(wecom[0].body.markdown.content.includes('https://bpm.example.org/task/'));
    // 钉钉: timestamp and sign = base64(HMAC-SHA256(secret, timestamp + "\n" + secret)), URL-encoded.
    const { query } = ding[0];
    t.is(query.get('access_token'), DING_TOKEN);
    const timestamp = query.get('timestamp')!;
    t.regex(timestamp, /^\d{13}$/);
    const expected = createHmac('sha256', DING_SECRET).update(`${timestamp}\n${DING_SECRET}`).digest('base64');
    t.is(query.get('sign'), expected, 'a valid 钉钉 signature');
    t.is(ding[0].body.msgtype, 'markdown');
    t.truthy(ding[0].body.markdown.title);
    const json = global[0].body;
    t.like(json, { event: 'task-offered', processInstanceId: instanceId, taskId: json.taskId });
    t.true(task.some((x: { id: string }) => x.id === json.taskId));
    t.deepEqual([...json.recipients].sort(), ['cand-user', 'lead-w1', 'lead-w2', 'lead-w3']);
    t.is(json.link, `https://bpm.example.org/task/${json.taskId}`);
    t.is(global[0].headers['idempotency-key'], json.idempotencyKey);
    t.regex(json.idempotencyKey, /^webhook:global:task-offered:/);
    t.is(receiver.all.length, 3, 'nothing else was posted');
    await server.scheduler.runDue();
    t.is(receiver.all.length, 3, 'each once');
    // A personal event (an urge of the task once claimed) goes to the global
    // webhook only: the role's chat is not told of one member's work.
    const lead = client(server.url, 'lead-w1', 'lead-w1-password');
    t.is((await lead.post(`/engine-rest/task/${json.taskId}/claim`, { userId: 'lead-w1' })).status, 204);
    t.is((await admin.post(`/engine-rest/task/${json.taskId}/urge`, { message: '请今天审阅' })).status, 200);
    await server.scheduler.runDue();
    t.deepEqual(receiver.all.slice(3).map((r) => r.path), ['/global']);
    t.like(receiver.all[3].body, { event: 'task-urged', recipients: ['lead-w1'] });
    // Two 抄送 actions on one task, to different people: each is an event of its own for the global webhook.
    t.deepEqual((await lead.post(`/engine-rest/task/${json.taskId}/cc`, { userIds: ['lead-w2'] })).body, { copied: 1 });
    t.deepEqual((await lead.post(`/engine-rest/task/${json.taskId}/cc`, { userIds: ['lead-w3'] })).body, { copied: 1 });
    await server.scheduler.runDue();
    const copies = receiver.all.slice(4).filter((r) => r.body.event === 'instance-cc');
    t.deepEqual(copies.map((r) => r.body.recipients.join()).sort(), ['lead-w2', 'lead-w3'], 'the order of two messages due at once is not fixed');
    t.not(copies[0].body.idempotencyKey, copies[1].body.idempotencyKey);
    t.deepEqual(receiver.all.slice(4).map((r) => r.path), ['/global', '/global'], 'a personal copy goes to no role robot');
  });

  test.serial(t('receivers down: the request succeeds, delivery waits, retries an errcode, and delivers exactly once when they are back'), async (t) => {
    receiver.all.length = 0;
    receiver.delivered.length = 0;
    await receiver.down();
    const instanceId = await start('hook-2');
    t.truthy(instanceId, 'the user\'s request succeeds while every receiver is down');
    await server.scheduler.runDue();
    const pending = await server.db('notification_outbox').where({ channel: 'webhook' }).whereNull('sent_at').select('*');
    t.is(pending.length, 3);
    t.true(pending.every((r) => r.attempts === 1 && r.last_error && r.failed_at === null));
    noSecrets(t, pending.map((r) => r.last_error), 'errors recorded');
    // Back, but 企业微信 refuses with an error code and the global endpoint answers 500: still failures.
    await receiver.up();
    receiver.answer = (r) => (r.path === '/wecom/send' ? [200, { errcode: 45009, errmsg: 'api freq out of limit' }] : r.path === '/global' ? [500, { error: 'boom' }] : [200, { errcode: 0 }]);
    clock.advance(1500);
    await server.scheduler.runDue();
    t.is(receiver.delivered.filter((r) => r.path === '/ding/robot/send').length, 1);
    const retried = await server.db('notification_outbox').where({ channel: 'webhook' }).whereNull('sent_at').select('*');
    t.deepEqual(retried.map((r) => r.address).sort(), ['global', hooks.wecom].sort());
    t.true(retried.some((r) => /errcode 45009/.test(r.last_error)), 'an errcode is a failure to retry');
    t.true(retried.some((r) => /HTTP 500/.test(r.last_error)));
    receiver.answer = () => [200, { errcode: 0, errmsg: 'ok' }];
    await server.scheduler.runDue();
    t.is(receiver.delivered.length, 1, 'the backoff holds until its time');
    clock.advance(2500);
    await server.scheduler.runDue();
    await server.scheduler.runDue();
    t.deepEqual(receiver.delivered.map((r) => r.path).sort(), ['/ding/robot/send', '/global', '/wecom/send']);
    clock.advance(3600_000);
    await server.scheduler.runDue();
    t.is(receiver.delivered.length, 3, 'exactly once each');
  });

  test.serial(t('messages queued for a robot since disabled or deleted are given up at once; later events queue none for them; deletion is traced'), async (t) => {
    receiver.delivered.length = 0;
    await start('hook-3');
    t.is(await server.db('notification_outbox').where({ channel: 'webhook' }).whereNull('sent_at').count({ n: '*' }).then(([r]) => Number(r.n)), 3);
    t.is((await admin.put(`/engine-rest/notification-webhook/${hooks.wecom}`, { enabled: false })).status, 204);
    t.is((await admin.delete(`/engine-rest/notification-webhook/${hooks.ding}`)).status, 204);
    t.is((await admin.get(`/engine-rest/notification-webhook/${hooks.ding}`)).status, 404);
    await server.scheduler.runDue();
    t.deepEqual(receiver.delivered.map((r) => r.path), ['/global']);
    const given = await server.db('notification_outbox').where({ channel: 'webhook' }).whereNull('sent_at').select('*');
    t.deepEqual(given.map((r) => r.address).sort(), [hooks.ding, hooks.wecom].sort());
    t.true(given.every((r) => r.failed_at !== null && r.attempts === 1), 'not retried');
    t.true(given.some((r) => /deleted/.test(r.last_error)) && given.some((r) => /disabled/.test(r.last_error)));
    receiver.delivered.length = 0;
    await start('hook-4');
    t.is(await server.db('notification_outbox').where({ channel: 'webhook' }).whereNull('sent_at').whereNull('failed_at').count({ n: '*' }).then(([r]) => Number(r.n)), 1, 'only the global one');
    await server.scheduler.runDue();
    t.deepEqual(receiver.delivered.map((r) => r.path), ['/global']);
    const ops = (await admin.get(`/engine-rest/history/user-operation?entityType=NotificationWebhook&entityId=${hooks.ding}`)).body as { operationType: string }[];
    t.true(ops.some((o) => o.operationType === 'Delete'));
  });

  test.serial(t('a task that ends takes its unsent webhook messages with it'), async (t) => {
    await receiver.down();
    const instanceId = await start('hook-5');
    const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${instanceId}`)).body;
    const pending = () => server.db('notification_outbox').where({ channel: 'webhook', task_id: task.id }).whereNull('sent_at').whereNull('failed_at').count({ n: '*' }).then(([r]) => Number(r.n));
    t.is(await pending(), 1);
    const lead = client(server.url, 'lead-w1', 'lead-w1-password');
    t.is((await lead.post(`/engine-rest/task/${task.id}/claim`, { userId: 'lead-w1' })).status, 204);
    t.is((await lead.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
    t.is(await pending(), 0);
    await receiver.up();
  });

  test.serial(t('the log holds no robot key, secret or global webhook token, though failed deliveries were logged'), (t) => {
    t.true(logged.some((l) => /webhook unreachable|HTTP 500|errcode 45009/.test(l)), 'the failures above were logged');
    const leaks = logged.filter((l) => [WECOM_KEY, DING_TOKEN, DING_SECRET, GLOBAL_TOKEN].some((s) => l.includes(s)));
    t.deepEqual(leaks, []);
  });

  test.serial(t('key rotation: npm run reencrypt reseals the robots\' addresses and secrets under the new key'), async (t) => {
    const created = await admin.post('/engine-rest/notification-webhook', { groupId: 'office', format: 'dingtalk', url: receiver.url(`/ding2?access_token=${DING_TOKEN}`), secret: DING_SECRET });
    t.is(created.status, 200);
    const k2 = 'c0ffee00112233445566778899aabbcc';
    const rotated = parseKeySpec(`k2:${k2},k1:${TEST_SM4_KEY}`);
    const result = await reencryptVariables(server.db, makeVariableVault(rotated), makeDefinitionService(server.db));
    t.is(result.remaining, 0);
    t.deepEqual((await server.db('notification_webhooks').select('key_id')).map((r) => r.key_id), ['k2', 'k2']);
    // Only the new key is needed now.
    const onlyK2 = makeNotificationWebhookService(server.db, clock, parseKeySpec(`k2:${k2}`), makeTraceService(server.db));
    t.like(await onlyK2.open(created.body.id), { url: receiver.url(`/ding2?access_token=${DING_TOKEN}`), secret: DING_SECRET });
    const ops = (await admin.get('/engine-rest/history/user-operation?operationType=Reencrypt&entityType=NotificationWebhook')).body;
    t.is(ops.length, 1);
    noSecrets(t, ops, 'the reencrypt trace');
  });
}

import http from 'node:http';
import type { AddressInfo } from 'node:net';
import test from 'ava';
import pino from 'pino';
import { makeApp } from '../../src/http/app.ts';
import { makeServices } from '../../src/server.ts';
import { makeDb } from '../../src/store/db.ts';
import { ManualClock } from '../../src/clock.ts';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, testKeyring, vars, type Client, type TestServer } from '../helpers/server.ts';

const TOKEN = 'metrics-token-0123456789abcdef';

/** One sample: its name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
const LABEL = `[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*"`;
// prom-client writes NaN as `Nan`; Prometheus reads values with Go's ParseFloat, which takes any case.
const SAMPLE_LINE = new RegExp(`^(${NAME})(?:\\{((?:${LABEL})(?:,${LABEL})*)?\\})? (-?(?:[0-9]+(?:\\.[0-9]+)?(?:e[+-]?[0-9]+)?|[+-]Inf|NaN|Nan))$`);
const TYPE_LINE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`);
const HELP_LINE = new RegExp(`^# HELP (${NAME}) .*$`);

/**
 * The Prometheus text format (0.0.4), strictly: every line is a HELP, a
 * TYPE or a sample, and every sample belongs to a family TYPE announced.
 * Throws naming the first line that is none of them.
 */
function parseExposition(text: string): Sample[] {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const type = TYPE_LINE.exec(line);
    if (type) {
      types.set(type[1], type[2]);
      continue;
    }
    if (HELP_LINE.test(line)) continue;
    const m = SAMPLE_LINE.exec(line);
    if (!m) throw new Error(`not a metrics line: ${JSON.stringify(line)}`);
    const family = m[1].replace(/_(bucket|sum|count)$/, '');
    if (!types.has(m[1]) && !types.has(family)) throw new Error(`sample without a TYPE: ${m[1]}`);
    const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2].replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c))]));
    samples.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return samples;
}

/** The value of the one sample `name` with (at least) `labels`, or undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)}: ${found.length} samples`);
  return found[0]?.value;
}

async function scrape(url: string, token: string | null = TOKEN): Promise<Sample[]> {
  const res = await fetch(`${url}/metrics`, { headers: token ? { Authorization: `Bearer ${token}` } : {} });
  if (res.status !== 200) throw new Error(`/metrics: ${res.status} ${await res.text()}`);
  if (!res.headers.get('content-type')?.startsWith('text/plain; version=0.0.4')) throw new Error(`content type ${res.headers.get('content-type')}`);
  return parseExposition(await res.text());
}

test('METRICS_PORT must differ from the other ports, METRICS_TOKEN must not be guessable, METRICS_HOST binds the host by default', (t) => {
  t.throws(() => loadConfig({ PORT: '8080', METRICS_PORT: '8080' }), { instanceOf: ConfigError, message: /METRICS_PORT: must differ/ });
  t.throws(() => loadConfig({ PORT: '8080', PUBLIC_PORT: '8081', METRICS_PORT: '8081' }), { instanceOf: ConfigError, message: /METRICS_PORT: must differ/ });
  t.throws(() => loadConfig({ METRICS_TOKEN: 'short' }), { instanceOf: ConfigError, message: /METRICS_TOKEN: at least 16 characters/ });
  t.deepEqual(loadConfig({ METRICS_PORT: '9464' }).metrics, { port: 9464, host: '127.0.0.1', token: undefined, cacheMs: 5000 });
});

test('with the database unreachable the process is live but not ready, and says the database is down', async (t) => {
  // Port 1 on loopback: nothing listens there, so every connection is refused at once.
  const db = makeDb({ databaseUrl: 'postgres://postgres@127.0.0.1:1/none' });
  const services = makeServices(db, testKeyring());
  services.health.setSchedulerStarted(true);
  const app = makeApp({ ...services, log: pino({ level: 'silent' }), bodyLimit: 1024 * 1024, corsOrigins: [] });
  const server = http.createServer(app.callback()).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    t.is((await fetch(`${base}/health/live`)).status, 200);
    const ready = await fetch(`${base}/health/ready`);
    t.is(ready.status, 503);
    t.like(await ready.json(), { status: 'DOWN', database: 'DOWN', migrations: 'UNKNOWN', scheduler: 'STARTED' });
  } finally {
    server.close();
    await db.destroy();
  }
});

for (const backend of backends) {
  const t = (title: string) => `${backend.name}: ${title}`;
  // A: the token on the main port, a metrics listener, no cache, a clock the test moves, the scheduler driven by hand.
  let a!: { server: TestServer; clock: ManualClock; admin: Client; data: Client; worker: Client };
  // B: neither token nor listener, the scheduler running, a long cache.
  let b!: TestServer;
  test.before(async () => {
    const clock = new ManualClock(new Date());
    const server = await startTestServer(backend, { ...NO_PROCESSES, METRICS_TOKEN: TOKEN, METRICS_PORT: '0', METRICS_CACHE_MS: '0' }, { clock, runScheduler: false });
    await server.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
    await server.services.deployments.deploy(oneResource('timer-end.bpmn', fixture('timer-end.bpmn')));
    a = {
      server, clock, admin: client(server.url, ADMIN.user, ADMIN.password),
      data: await makeUser(server, 'data-m', ['data-security']), worker: await makeUser(server, 'robot-m', ['workers']),
    };
    b = await startTestServer(backend, { ...NO_PROCESSES, METRICS_CACHE_MS: '600000' });
  });
  test.after.always(async () => {
    await a?.server.stop();
    await b?.stop();
  });

  const start = async (key: string, values: Record<string, unknown> = {}) => {
    const r = await a.admin.post(`/engine-rest/process-definition/key/${key}/start`, { variables: vars(values) });
    if (r.status !== 200) throw new Error(`start ${key}: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.id as string;
  };
  const fetchLocked = async () => {
    const r = await a.worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'robot-m', maxTasks: 1, topics: [{ topicName: 'backup-check', lockDuration: 60_000 }] });
    if (r.status !== 200 || r.body.length !== 1) throw new Error(`fetchAndLock: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body[0].id as string;
  };

  test.serial(t('the main port serves /metrics only with the bearer token; the metrics listener too, and nothing else'), async (t) => {
    t.is((await fetch(`${a.server.url}/metrics`)).status, 401);
    const wrong = await fetch(`${a.server.url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}x` } });
    t.is(wrong.status, 401);
    t.is(wrong.headers.get('www-authenticate'), 'Bearer realm="metrics"');
    // A staff member's Basic credentials are not the token.
    t.is((await fetch(`${a.server.url}/metrics`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } })).status, 401);
    t.truthy(valueOf(await scrape(a.server.url), 'process_cpu_user_seconds_total') !== undefined);

    t.truthy(a.server.metricsUrl);
    t.true(a.server.metricsUrl!.startsWith('http://127.0.0.1:'));
    t.is((await fetch(`${a.server.metricsUrl}/metrics`)).status, 401);
    const viaListener = await scrape(a.server.metricsUrl!);
    t.is(valueOf(viaListener, 'bpmn_database_up'), 1);
    const other = await fetch(`${a.server.metricsUrl}/engine-rest/version`);
    t.is(other.status, 404);
    t.is((await other.json() as { type: string }).type, 'NotFoundError');
  });

  test.serial(t('without METRICS_TOKEN the main port has no /metrics (404, not the web page), and no metrics listener opens'), async (t) => {
    const res = await fetch(`${b.url}/metrics`);
    t.is(res.status, 404);
    t.regex(res.headers.get('content-type') ?? '', /^application\/json/);
    t.is(b.metricsUrl, undefined);
  });

  test.serial(t('a started instance, an open task per role, a completed task and a failing external task move the figures'), async (t) => {
    const before = await scrape(a.server.url);
    const started0 = valueOf(before, 'bpmn_process_instances_started', { process_definition_key: 'external-check' }) ?? 0;

    const ok = await start('external-check', { mode: 'ok', urgency: 1 });
    const failing = await start('external-check', { mode: 'fail', urgency: 1 });
    let s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_process_instances_started', { process_definition_key: 'external-check' }), started0 + 2);
    t.is(valueOf(s, 'bpmn_process_instances_running', { process_definition_key: 'external-check' }), 2);
    t.is(valueOf(s, 'bpmn_external_tasks', { topic: 'backup-check', state: 'waiting' }), 2);
    t.is(valueOf(s, 'bpmn_external_tasks', { topic: 'backup-check', state: 'locked' }), 0);

    // The ok instance's external task: locked, then completed, which opens a review task for data-security.
    const first = await fetchLocked();
    s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_external_tasks', { topic: 'backup-check', state: 'locked' }), 1);
    t.is(valueOf(s, 'bpmn_external_tasks', { topic: 'backup-check', state: 'waiting' }), 1);
    const locked = (await a.admin.get(`/engine-rest/external-task/${first}`)).body.processInstanceId as string;
    const okTask = locked === ok ? first : undefined;
    const failTask = locked === failing ? first : await fetchLocked();
    const okId = okTask ?? await fetchLocked();
    t.is((await a.worker.post(`/engine-rest/external-task/${okId}/complete`, { workerId: 'robot-m' })).status, 204);
    t.is((await a.worker.post(`/engine-rest/external-task/${failTask}/failure`, { workerId: 'robot-m', errorMessage: '备份设备无响应 / backup appliance not responding', retries: 0, retryTimeout: 0 })).status, 204);
    s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_tasks_open', { candidate_group: 'data-security' }), 1);
    t.is(valueOf(s, 'bpmn_external_tasks', { topic: 'backup-check', state: 'failed' }), 1);
    t.is(valueOf(s, 'bpmn_external_tasks', { topic: 'backup-check', state: 'locked' }), 0);
    t.is(valueOf(s, 'bpmn_incidents_open', { incident_type: 'failedExternalTask' }), 1);

    const [review] = (await a.data.get(`/engine-rest/task?processInstanceId=${ok}`)).body as { id: string }[];
    t.is((await a.data.post(`/engine-rest/task/${review.id}/claim`, { userId: 'data-m' })).status, 204);
    t.is((await a.data.post(`/engine-rest/task/${review.id}/complete`, {})).status, 204);
    s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_tasks_open', { candidate_group: 'data-security' }), undefined);
    t.is(valueOf(s, 'bpmn_process_instances_ended', { process_definition_key: 'external-check', state: 'COMPLETED' }), 1);
    t.is(valueOf(s, 'bpmn_process_instances_running', { process_definition_key: 'external-check' }), 1);

    // Requests are counted by route pattern, never by a path with an id in it.
    t.true((valueOf(s, 'bpmn_http_requests_total', { method: 'POST', route: '/engine-rest/task/:id/complete', status: '204' }) ?? 0) >= 1);
    t.true((valueOf(s, 'bpmn_http_request_duration_seconds_count', { method: 'POST', route: '/engine-rest/process-definition/key/:key/start', status: '200' }) ?? 0) >= 2);
    t.deepEqual(s.filter((x) => x.labels.route?.includes(review.id) || x.labels.route?.includes(ok)), []);

    // Scrapes at the same time each see the figures once, not added to each other's.
    const together = await Promise.all(Array.from({ length: 4 }, () => scrape(a.server.url)));
    t.deepEqual(together.map((x) => valueOf(x, 'bpmn_process_instances_started', { process_definition_key: 'external-check' })), Array(4).fill(started0 + 2));
  });

  test.serial(t('a due timer shows with its lag until the scheduler fires it'), async (t) => {
    const pi = await start('timer-end');
    let s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_timers_due', { kind: 'timer' }), 0);
    t.is(valueOf(s, 'bpmn_timers_due_lag_seconds', { kind: 'timer' }), 0);
    // Due after two hours; three hours on, it has been due for one.
    a.clock.advance(3 * 3600_000);
    s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_timers_due', { kind: 'timer' }), 1);
    t.is(valueOf(s, 'bpmn_timers_due_lag_seconds', { kind: 'timer' }), 3600);
    await a.server.scheduler.runDue();
    s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_timers_due', { kind: 'timer' }), 0);
    t.is(valueOf(s, 'bpmn_timers_due_lag_seconds', { kind: 'timer' }), 0);
    t.is(valueOf(s, 'bpmn_process_instances_ended', { process_definition_key: 'timer-end', state: 'COMPLETED' }), 1);
    t.is((await a.admin.get(`/engine-rest/history/process-instance?processInstanceId=${pi}`)).body[0].state, 'COMPLETED');
  });

  test.serial(t('the trace, its last verification, the outboxes and the database pool are reported'), async (t) => {
    let s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_trace_verification_ok'), undefined);
    const lastId = valueOf(s, 'bpmn_trace_last_row_id')!;
    t.true(lastId > 0);
    const verified = await a.admin.get('/engine-rest/trace/verify');
    t.is(verified.status, 200);
    s = await scrape(a.server.url);
    t.is(valueOf(s, 'bpmn_trace_verification_ok'), 1);
    t.is(valueOf(s, 'bpmn_trace_verification_rows'), verified.body.rows);
    // The verification is a read, traced like any other.
    t.true(valueOf(s, 'bpmn_trace_last_row_id')! > lastId);
    t.is(valueOf(s, 'bpmn_notification_outbox', { state: 'pending' }), 0);
    t.is(valueOf(s, 'bpmn_notification_outbox', { state: 'failed' }), 0);
    t.is(valueOf(s, 'bpmn_message_outbox_pending'), 0);
    t.is(valueOf(s, 'bpmn_db_pool_connections', { state: 'max' }), backend.name === 'pglite' ? 1 : 10);
    t.true(valueOf(s, 'bpmn_db_pool_connections', { state: 'used' })! >= 0);
    t.is(valueOf(s, 'bpmn_db_pool_connections', { state: 'pending_acquires' }), 0);
  });

  test.serial(t('the database figures are read once per cache period, whatever the number of scrapes'), async (t) => {
    const key = 'timer-end';
    await b.services.deployments.deploy(oneResource('timer-end.bpmn', fixture('timer-end.bpmn')));
    const admin = client(b.url, ADMIN.user, ADMIN.password);
    // B has no token: its figures are read through the same service a listener would serve.
    const read = async () => parseExposition((await b.metrics.render()).body);
    const first = await read();
    t.is(valueOf(first, 'bpmn_process_instances_started', { process_definition_key: key }), undefined);
    t.is((await admin.post(`/engine-rest/process-definition/key/${key}/start`, {})).status, 200);
    t.is(valueOf(await read(), 'bpmn_process_instances_started', { process_definition_key: key }), undefined);
  });

  test.serial(t('/health/live answers without asking the database; /health/ready says why it is not ready'), async (t) => {
    const live = await fetch(`${a.server.url}/health/live`);
    t.is(live.status, 200);
    t.deepEqual(await live.json(), { status: 'UP' });
    // A runs no scheduler loop (the test drives it): up, but not ready for work.
    const notReady = await fetch(`${a.server.url}/health/ready`);
    t.is(notReady.status, 503);
    t.is(notReady.headers.get('retry-after'), '5');
    const why = await notReady.json() as Record<string, string>;
    t.like(why, { status: 'DOWN', database: 'UP', migrations: 'APPLIED', scheduler: 'STOPPED' });
    t.regex(why.reason, /scheduler/);
    const ready = await fetch(`${b.url}/health/ready`);
    t.is(ready.status, 200);
    t.deepEqual(await ready.json(), { status: 'UP', database: 'UP', migrations: 'APPLIED', scheduler: 'STARTED' });
  });
}

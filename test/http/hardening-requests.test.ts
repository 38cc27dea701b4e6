import net from 'node:net';
import { gzipSync } from 'node:zlib';
import test from 'ava';
import { makeDb } from '../../src/store/db.ts';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { openTasks, scenarioSuite, STAFF_IDS } from '../helpers/scenario.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, vars } from '../helpers/server.ts';

/*
 * Issue 13, findings 3, 7, 8 and 9, each written as the attack an outsider
 * or a careless client makes, over real HTTP on both databases: each must
 * answer 4xx with a Camunda error body naming what is wrong (or 503 while
 * the database is away), never 500, and the server must go on serving.
 */

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
const ADMIN_AUTH = basic(ADMIN.user, ADMIN.password);

/** Sends `head` and `body` on a raw socket and returns the status of the answer (0 when none came). */
function rawRequest(url: string, head: string, body: Buffer | string, options: { hangUp?: boolean } = {}): Promise<number> {
  const { port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write(head.replace(/\n/g, '\r\n') + '\r\n');
      socket.write(body);
      // A client that hangs up midway: there is no answer to read.
      if (options.hangUp) socket.destroy();
    });
    let answer = '';
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('close', () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(answer)?.[1] ?? 0)));
    socket.on('error', (err) => (options.hangUp ? resolve(0) : reject(err)));
  });
}

/** A multipart deployment body cut off inside its file: no closing boundary ever comes. */
function truncatedDeployment(): { head: (length: number) => string; body: Buffer } {
  const boundary = '----cut-off-upload';
  const diagram = fixture('parallel-review.bpmn');
  const body = Buffer.concat([
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="deployment-name"\r\n\r\ncut\r\n`),
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="cut.bpmn"; filename="cut.bpmn"\r\nContent-Type: application/octet-stream\r\n\r\n`),
    diagram.subarray(0, diagram.length >> 1),
  ]);
  const head = (length: number) => `POST /engine-rest/deployment/create HTTP/1.1
Host: 127.0.0.1
Authorization: ${ADMIN_AUTH}
Content-Type: multipart/form-data; boundary=${boundary}
Content-Length: ${length}
Connection: close
`;
  return { head, body };
}

scenarioSuite((s, t) => {
  const admin = () => s.staff.admin;
  /** An open task of a fresh parallel review, offered to network-security: its id. */
  async function reviewTask(): Promise<string> {
    const started = await admin().post('/engine-rest/process-definition/key/parallel-review/start', {});
    if (started.status !== 200) throw new Error(`start: ${started.status} ${JSON.stringify(started.body)}`);
    const task = (await openTasks(s.staff.network, started.body.id)).find((x) => x.taskDefinitionKey === 'networkCheck')!;
    const claim = await s.staff.network.post(`/engine-rest/task/${task.id}/claim`, { userId: STAFF_IDS.network });
    if (claim.status !== 204) throw new Error(`claim: ${claim.status}`);
    return task.id;
  }
  /** The server still answers an ordinary call. */
  const stillServing = async () => (await admin().get('/engine-rest/version')).status;
  /** `r` is a client error in Camunda's shape whose message matches `what`. */
  const refused = (tt: import('ava').ExecutionContext, r: { status: number; body: any }, status: number, what: RegExp) => {
    tt.is(r.status, status, JSON.stringify(r.body));
    tt.is(typeof r.body?.type, 'string');
    tt.regex(String(r.body?.message), what);
  };

  test.serial.before(async () => {
    await s.server.services.deployments.deploy(oneResource('parallel-review.bpmn', fixture('parallel-review.bpmn')));
  });

  test.serial(t('finding 3: a multipart upload cut off before its closing boundary is 400, and the server stays up'), async (t) => {
    const { head, body } = truncatedDeployment();
    t.is(await rawRequest(s.server.url, head(body.length), body), 400);
    // A client that declares more than it sends and hangs up inside the file.
    await rawRequest(s.server.url, head(body.length + 5000), body, { hangUp: true });
    t.is(await stillServing(), 200);
    t.is((await admin().get('/engine-rest/deployment/count?name=cut')).body.count, 0, 'nothing was deployed');
  });

  test.serial(t('finding 7: a body that is not application/json is 415, and the task is not completed without its variables'), async (t) => {
    const id = await reviewTask();
    const body = JSON.stringify({ variables: vars({ networkOk: true }) });
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'application/json; charset=iso-8859-1', 'multipart/form-data; boundary=x']) {
      const r = await s.staff.network.raw('POST', `/engine-rest/task/${id}/complete`, body, { 'Content-Type': type });
      refused(t, r, 415, /application\/json|UTF-8/);
    }
    const untyped = await fetch(`${s.server.url}/engine-rest/task/${id}/complete`, { method: 'POST', body: new Blob([body]), headers: { Authorization: basic(STAFF_IDS.network, `${STAFF_IDS.network}-password`) } });
    t.is(untyped.status, 415, 'a body with no Content-Type at all');
    t.is((await admin().get(`/engine-rest/task/${id}`)).status, 200, 'the task is still open');
    // The deployment route takes multipart only: JSON there is 415 too, not a quiet 400 after reading.
    refused(t, await admin().post('/engine-rest/deployment/create', { a: 1 }), 415, /multipart\/form-data/);
    const done = await s.staff.network.raw('POST', `/engine-rest/task/${id}/complete`, body, { 'Content-Type': 'Application/JSON ; charset="UTF-8"' });
    t.is(done.status, 204, 'application/json with charset UTF-8 is read');
    t.is((await admin().get(`/engine-rest/task/${id}`)).status, 404);
    // A call without a body needs no type.
    t.is((await fetch(`${s.server.url}/engine-rest/task/count`, { method: 'POST', headers: { Authorization: ADMIN_AUTH, 'Content-Length': '0' } })).status, 200);
  });

  test.serial(t('finding 8: a gzip header on a body that is not gzip is 400; an unknown coding is 415; real gzip is read'), async (t) => {
    const json = Buffer.from(JSON.stringify({ nameLike: '%' }));
    const post = (body: Buffer, coding: string) => fetch(`${s.server.url}/engine-rest/task`, {
      method: 'POST', body: new Uint8Array(body), headers: { Authorization: ADMIN_AUTH, 'Content-Type': 'application/json', 'Content-Encoding': coding },
    });
    const fake = await post(json, 'gzip');
    t.is(fake.status, 400);
    t.regex((await fake.json() as { message: string }).message, /gzip/);
    for (const coding of ['compress', 'zstd', 'gzip, gzip']) {
      const r = await post(json, coding);
      t.is(r.status, 415, coding);
      t.regex((await r.json() as { message: string }).message, /Content-Encoding/);
    }
    t.is((await post(gzipSync(json), 'gzip')).status, 200);
    // A small gzip body that grows past the body limit is refused by what it grows to.
    t.is((await post(gzipSync(Buffer.alloc(32 * 1024 * 1024, 0x20)), 'gzip')).status, 413);
    t.is(await stillServing(), 200);
  });

  test.serial(t('finding 8: NUL, lone surrogates and bytes that are not UTF-8 in ids, query values, user names and variables are 400 naming the field'), async (t) => {
    refused(t, await admin().get('/engine-rest/task/ab%00cd'), 400, /path segment 3 contains a NUL/);
    refused(t, await admin().get('/engine-rest/process-instance/%FF%FE'), 400, /path segment 3 is not valid UTF-8/);
    refused(t, await admin().get('/engine-rest/process-instance/x/variables/a%00b'), 400, /path segment 5 contains a NUL/);
    refused(t, await admin().get('/engine-rest/task?nameLike=%00'), 400, /parameter nameLike contains a NUL/);
    // An encoded surrogate (CESU-8) is not UTF-8 either.
    refused(t, await admin().get('/engine-rest/task?processInstanceId=%ED%A0%80'), 400, /parameter processInstanceId is not valid UTF-8/);
    refused(t, await admin().get('/engine-rest/history/process-instance?businessKey=%C3'), 400, /parameter businessKey is not valid UTF-8/);
    // User names: in the Basic header (before any lookup), in a JSON body.
    for (const user of ['ad\0min', 'admin\0']) {
      const r = await client(s.server.url).raw('GET', '/engine-rest/task', undefined, { Authorization: basic(user, ADMIN.password) });
      refused(t, r, 400, /Basic user name contains a NUL/);
    }
    const notUtf8 = await fetch(`${s.server.url}/engine-rest/task`, { headers: { Authorization: `Basic ${Buffer.from([0x61, 0xff, 0x3a, 0x62]).toString('base64')}` } });
    t.is(notUtf8.status, 400);
    refused(t, await admin().post('/engine-rest/user/create', { profile: { id: 'eve\u0000' }, credentials: { password: 'a-long-password-1' } }), 400, /request body member profile\.id contains a NUL/);
    // Variable names and values, as JSON escapes: the parsed text holds the NUL or the lone surrogate.
    const id = await reviewTask();
    const complete = (raw: string) => s.staff.network.raw('POST', `/engine-rest/task/${id}/complete`, raw);
    refused(t, await complete('{"variables":{"networkOk":{"value":true},"note":{"value":"a\\u0000b"}}}'), 400, /request body member variables\.note\.value contains a NUL/);
    refused(t, await complete('{"variables":{"networkOk":{"value":true},"note":{"value":"\\ud800"}}}'), 400, /variables\.note\.value contains a lone surrogate/);
    refused(t, await complete('{"variables":{"networkOk":{"value":true},"n\\udc00":{"value":1}}}'), 400, /a member name in request body variables contains a lone surrogate/);
    const badBytes = await fetch(`${s.server.url}/engine-rest/task/${id}/complete`, {
      method: 'POST', headers: { Authorization: basic(STAFF_IDS.network, `${STAFF_IDS.network}-password`), 'Content-Type': 'application/json' },
      body: new Uint8Array(Buffer.concat([Buffer.from('{"variables":{"note":{"value":"'), Buffer.from([0xc3, 0x28]), Buffer.from('"}}}')])),
    });
    t.is(badBytes.status, 400);
    t.regex((await badBytes.json() as { message: string }).message, /not valid UTF-8/);
    t.is((await admin().get(`/engine-rest/task/${id}`)).status, 200, 'the task is still open');
    // The public start takes the same rules.
    const pub = client(s.server.publicUrl!);
    refused(t, await pub.post('/public/process/credit-objection/start', { variables: { applicantName: { value: '张\u0000三' } } }), 400, /variables\.applicantName\.value contains a NUL/);
    refused(t, await pub.raw('POST', '/public/process/credit-objection/start', '{"variables":{"applicantName":{"value":"\\udfff"}}}'), 400, /lone surrogate/);
    refused(t, await pub.raw('POST', '/public/process/credit-objection/start', '{"variables":{}}', { 'Content-Type': 'text/plain' }), 415, /application\/json/);
    refused(t, await pub.get('/public/process/credit%00objection'), 400, /path segment 3 contains a NUL/);
    t.is(await stillServing(), 200);
  });

  test.serial(t('finding 8: a LIKE parameter ending in a backslash is taken literally, not a 500'), async (t) => {
    for (const url of [
      '/engine-rest/task?nameLike=%5C', '/engine-rest/task?nameLike=abc%5C%5C%5C', '/engine-rest/process-definition?nameLike=%5C', '/engine-rest/process-definition?keyLike=x%5C',
      '/engine-rest/deployment?nameLike=%5C', '/engine-rest/process-instance?businessKeyLike=%5C', '/engine-rest/history/process-instance?processInstanceBusinessKeyLike=%5C', '/engine-rest/history/variable-instance?variableNameLike=%5C',
    ]) {
      const r = await admin().get(url);
      t.true(r.status === 200 || r.status === 400, `${url}: ${r.status} ${JSON.stringify(r.body)}`);
    }
    t.is((await admin().post('/engine-rest/task', { orQueries: [{ nameLike: '\\' }] })).status, 200);
    // Escaped, the backslash matches itself: `网络\` matches no task named 网络验收.
    t.is((await admin().get('/engine-rest/task/count?nameLike=%E7%BD%91%E7%BB%9C%5C')).body.count, 0);
    t.true((await admin().get('/engine-rest/task/count?nameLike=%E7%BD%91%E7%BB%9C%25')).body.count > 0);
  });

  test.serial(t('or-queries are bounded: each may look a user up and is a clause of the statement'), async (t) => {
    refused(t, await admin().post('/engine-rest/task', { orQueries: Array.from({ length: 51 }, () => ({ candidateUser: 'x' })) }), 400, /at most 50 orQueries/);
    t.is((await admin().post('/engine-rest/task', { orQueries: Array.from({ length: 50 }, () => ({ candidateUser: 'x' })) })).status, 200);
    t.is(await stillServing(), 200);
  });

  test.serial(t('finding 8: a variable nested 10 000 deep is 400, and the server stays up'), async (t) => {
    const id = await reviewTask();
    const deep = '['.repeat(10_000) + ']'.repeat(10_000);
    const r = await s.staff.network.raw('POST', `/engine-rest/task/${id}/complete`, `{"variables":{"networkOk":{"value":true},"deep":{"value":${deep},"type":"Json"}}}`);
    refused(t, r, 400, /request body member variables\.deep\.value(\[0\])* is nested deeper than 64 levels/);
    // A Json variable sent as text is parsed by the server: the same limit holds for what the text holds.
    const asText = JSON.stringify({ variables: { networkOk: { value: true }, deep: { type: 'Json', value: deep } } });
    refused(t, await s.staff.network.raw('POST', `/engine-rest/task/${id}/complete`, asText), 400, /the value of variable deep( member (\[0\])+)? is nested deeper than 64 levels/);
    const nulText = JSON.stringify({ variables: { networkOk: { value: true }, doc: { type: 'Json', value: '{"a":"\\u0000"}' } } });
    refused(t, await s.staff.network.raw('POST', `/engine-rest/task/${id}/complete`, nulText), 400, /the value of variable doc member a contains a NUL/);
    t.is((await admin().get(`/engine-rest/task/${id}`)).status, 200, 'the task is still open');
    // Depth 60 is an ordinary (if odd) value: the limit is not in the way of real JSON.
    const ok = await s.staff.network.raw('PUT', `/engine-rest/task/${id}/localVariables/deep60`, `{"type":"Json","value":${'['.repeat(60)}${']'.repeat(60)}}`);
    t.is(ok.status, 204, JSON.stringify(ok.body));
  });

  test.serial(t('finding 9: upper-case /ENGINE-REST/... is authenticated as /engine-rest/... is, before any handler'), async (t) => {
    const stranger = client(s.server.url);
    for (const path of ['/ENGINE-REST/task', '/Engine-Rest/task/count', '/ENGINE-REST/user', '/eNgInE-rEsT/process-instance']) {
      refused(t, await stranger.get(path), 401, /authentication required|需要登录/);
      refused(t, await stranger.post(path, {}), 401, /authentication required|需要登录/);
    }
    // And the machine-only rule holds whatever the case: a worker is kept to its own paths.
    t.is((await s.staff.worker.get('/ENGINE-REST/task')).status, 403);
    t.is((await admin().get('/ENGINE-REST/version')).status, 200, 'the same route, reached after authentication');
  });
}, { PUBLIC_PORT: '0' });

/*
 * The database going away under a running server. PostgreSQL only: PGlite
 * runs inside the server's own process, so it cannot become unreachable
 * while the server runs (only closing it at shutdown ends it).
 */
for (const backend of backends) {
  if (backend.name !== 'postgres') {
    test(`${backend.name}: while the database is unreachable the API answers 503 with Retry-After (PostgreSQL only: the embedded database cannot become unreachable)`, (t) => {
      t.pass();
    });
    continue;
  }
  test(`${backend.name}: finding 8: while the database is unreachable every API call answers 503 with Retry-After, and serves again once it is back`, async (t) => {
    const server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    const name = new URL(server.testDb.url!).pathname.slice(1);
    const pg = makeDb({ databaseUrl: process.env.TEST_DATABASE_URL });
    const c = client(server.url, ADMIN.user, ADMIN.password);
    try {
      t.is((await c.get('/engine-rest/task')).status, 200);
      await pg.raw(`alter database ${name} allow_connections false`);
      await pg.raw('select pg_terminate_backend(pid) from pg_stat_activity where datname = ? and pid <> pg_backend_pid()', [name]);
      for (const [method, url] of [['GET', '/engine-rest/task'], ['GET', '/engine-rest/process-definition'], ['POST', '/engine-rest/task/count'], ['GET', '/engine-rest/user']]) {
        const r = await c.raw(method, url, method === 'POST' ? {} : undefined);
        t.is(r.status, 503, `${method} ${url}: ${JSON.stringify(r.body)}`);
        t.is(r.headers.get('Retry-After'), '5');
        t.is(r.body.type, 'ServiceUnavailable');
        t.regex(r.body.message, /database cannot be reached/);
      }
      const health = await fetch(`${server.url}/health`);
      t.is(health.status, 503);
      t.is(health.headers.get('Retry-After'), '5');
      await pg.raw(`alter database ${name} allow_connections true`);
      t.is((await c.get('/engine-rest/task')).status, 200, 'serving again');
    } finally {
      await pg.raw(`alter database ${name} allow_connections true`).catch(() => undefined);
      await pg.destroy();
      await server.stop();
    }
  });
}

import { createHash } from 'node:crypto';
import { once } from 'node:events';
import net, { type AddressInfo } from 'node:net';
import test from 'ava';
import pino from 'pino';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { startServer } from '../../src/server.ts';
import { normalizeReference } from '../../src/services/public-requests.ts';
import { backends } from '../helpers/db.ts';
import { privateAppRoutes, publicAppRoutes } from '../helpers/routes.ts';
import { oneResource } from '../helpers/fixtures.ts';
import { instancesOf, openKeys, scenarioSuite, step } from '../helpers/scenario.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, TEST_KEY_ENV, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The two zones of the charter: staff on the private listener (PORT), the
 * public on its own listener (PUBLIC_PORT), which serves public processes
 * and the status of one's own request by a secret reference, nothing else.
 */

const KEY = 'credit-objection';
const objection = {
  applicantName: '张三', idNumber: '120106199001011234', contact: '13800000000',
  recordObjected: 'HQ-XZCF-2026-0456 行政处罚记录', objectionReason: '该处罚决定已于2025年被依法撤销，记录应已删除。',
};
const REFERENCE = /^[0-9A-HJKMNP-TV-Z]{4}(-[0-9A-HJKMNP-TV-Z]{4}){7}$/;

/** Every method and path the private app routes, parameters filled in (a public key where one is asked for). */
function privateRoutes(): { method: string; path: string }[] {
  return privateAppRoutes().map((r) => {
    const [method, path] = r.split(' ');
    return { method, path: path.replace(/:key\b/g, KEY).replace(/:\w+/g, 'x') };
  });
}

/**
 * Every route of the public listener: what a call needs, and the trace rows
 * (`Operation Entity`, all by `public` from the caller's address, naming the
 * request's instance) a successful call leaves; `refused` is a call the
 * route must turn down leaving no row. A public route without a case fails
 * the suite.
 */
interface PublicCase {
  route: string;
  call: (reference: () => Promise<string>) => Promise<{ path: string; body?: unknown }>;
  /** Listing public processes and their forms reads no process data: no row, as for /version. */
  trace: string[];
  /** A call the route must turn down (not public, not there). */
  refused?: { path: string; body?: unknown; status: number };
}
const publicCases: PublicCase[] = [
  { route: 'GET /public/process', call: async () => ({ path: '/public/process' }), trace: [] },
  { route: 'GET /public/process/:key', call: async () => ({ path: `/public/process/${KEY}` }), trace: [], refused: { path: '/public/process/security-plan-approval', status: 404 } },
  {
    route: 'POST /public/process/:key/start', trace: ['Create ProcessInstance', 'Read PublicRequest'],
    call: async () => ({ path: `/public/process/${KEY}/start`, body: { variables: vars(objection) } }),
    refused: { path: '/public/process/security-plan-approval/start', body: { variables: vars({ title: '规划', planType: 'plan' }) }, status: 404 },
  },
  {
    route: 'POST /public/request/status', trace: ['Read PublicRequest'],
    call: async (reference) => ({ path: '/public/request/status', body: { reference: await reference() } }),
    refused: { path: '/public/request/status', body: { reference: '0000-0000-0000-0000-0000-0000-0000-0000' }, status: 404 },
  },
];

/** `METHOD /path` of every route the public application routes, HEAD included. */
const publicRoutes = publicAppRoutes;

test('every route of the public listener is in its table, once', (t) => {
  const routed = publicRoutes();
  const listed = publicCases.map((c) => c.route);
  // HEAD comes with each GET, answered by it without a body; checked with the GET case.
  t.deepEqual(routed.filter((r) => !r.startsWith('HEAD ') && !listed.includes(r)), [], 'public routes without a case');
  t.deepEqual(routed.filter((r) => r.startsWith('HEAD ') && !listed.includes(r.replace(/^HEAD /, 'GET '))), [], 'HEAD routes without a GET case');
  t.deepEqual(listed.filter((r) => !routed.includes(r)), [], 'cases without a route');
  t.is(new Set(listed).size, listed.length);
});

/** A one-task process whose `public` property is `flag`. */
function publicDiagram(id: string, flag: string): Buffer {
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="${id}" name="公众试办" isExecutable="true">
    <bpmn:extensionElements><camunda:properties><camunda:property name="public" value="${flag}" /></camunda:properties></bpmn:extensionElements>
    <bpmn:startEvent id="start" name="开始" />
    <bpmn:userTask id="work" name="办理" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f" sourceRef="start" targetRef="work" />
  </bpmn:process>
</bpmn:definitions>`);
}

/** Listening TCP servers of this process (ava runs each file in its own process). */
function listeningServers(): number {
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles.filter((h) => h instanceof net.Server && h.listening).length;
}

test('PUBLIC_PORT is optional, must be a port, and cannot be the private one', (t) => {
  t.is(loadConfig({}).publicPort, undefined);
  t.like(loadConfig({ PUBLIC_PORT: '8443' }), { publicPort: 8443, publicHost: '0.0.0.0' });
  t.is(loadConfig({ PUBLIC_PORT: '8443', PUBLIC_HOST: '10.1.2.3' }).publicHost, '10.1.2.3');
  t.regex(t.throws(() => loadConfig({ PUBLIC_PORT: 'https' }), { instanceOf: ConfigError }).message, /PUBLIC_PORT/);
  t.regex(t.throws(() => loadConfig({ PORT: '8080', PUBLIC_PORT: '8080' }), { instanceOf: ConfigError }).message, /PUBLIC_PORT: must differ from PORT/);
});

test('each listener believes X-Forwarded-For only from its own zone\'s proxies', async (t) => {
  t.deepEqual(loadConfig({ PUBLIC_TRUSTED_PROXIES: ' 10.30.0.2, 10.30.0.3 ' }).publicTrustedProxies, ['10.30.0.2', '10.30.0.3']);
  t.deepEqual(loadConfig({}).publicTrustedProxies, []);
  /** Starts the probe publicly with an X-Forwarded-For, then reads its status; the sources of the rows `public` left. */
  const startPublicly = async (s: TestServer, forwardedFor: string) => {
    const [{ last }] = await s.db('trace').max({ last: 'id' });
    const r = await client(s.publicUrl!).raw('POST', '/public/process/xff-probe/start', { variables: {} }, { 'X-Forwarded-For': forwardedFor });
    t.is(r.status, 200);
    t.is((await client(s.publicUrl!).raw('POST', '/public/request/status', { reference: r.body.reference }, { 'X-Forwarded-For': forwardedFor })).status, 200);
    const rows = await s.db('trace').where('id', '>', last ?? 0).andWhere({ user_id: 'public' }).orderBy('id');
    return rows.map((x: { operation: string; entity_type: string; source: string }) => `${x.operation} ${x.entity_type} ${x.source}`);
  };
  const privateSource = async (s: TestServer) => {
    await client(s.url, ADMIN.user, ADMIN.password).raw('GET', '/engine-rest/process-definition', undefined, { 'X-Forwarded-For': '198.51.100.4' });
    return (await s.db('trace').where({ user_id: ADMIN.user, operation: 'Read' }).orderBy('id', 'desc').first()).source;
  };
  const withServer = async (env: Record<string, string>, body: (s: TestServer) => Promise<void>) => {
    const s = await startTestServer(backends[0], { ...NO_PROCESSES, PUBLIC_PORT: '0', ...env });
    try {
      await s.services.deployments.deploy(oneResource('xff-probe.bpmn', publicDiagram('xff-probe', 'true')));
      await body(s);
    } finally {
      await s.stop();
    }
  };
  // The private zone's proxy is no proxy of the public listener.
  await withServer({ TRUSTED_PROXIES: '127.0.0.1' }, async (s) => {
    t.deepEqual(await startPublicly(s, '203.0.113.7'), ['Create ProcessInstance 127.0.0.1', 'Read PublicRequest 127.0.0.1', 'Read PublicRequest 127.0.0.1']);
    t.is(await privateSource(s), '198.51.100.4');
  });
  // The internet zone's proxy names the citizen on the public listener, read from the right, and nowhere else.
  await withServer({ PUBLIC_TRUSTED_PROXIES: '127.0.0.1' }, async (s) => {
    t.deepEqual(await startPublicly(s, '192.0.2.1, 203.0.113.7'), ['Create ProcessInstance 203.0.113.7', 'Read PublicRequest 203.0.113.7', 'Read PublicRequest 203.0.113.7']);
    t.is(await privateSource(s), '127.0.0.1');
  });
});

scenarioSuite((s, t, backend) => {
  let pub!: Client;
  test.serial.before(() => {
    pub = client(s.server.publicUrl!);
  });

  /** Starts a credit objection on the public listener; returns its reference. */
  async function objectPublicly(values: Record<string, unknown> = objection): Promise<string> {
    const r = await pub.post(`/public/process/${KEY}/start`, { variables: vars(values) });
    if (r.status !== 200) throw new Error(`public start: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body.reference;
  }
  const statusOf = (reference: unknown) => pub.post('/public/request/status', { reference });
  /** The instance behind a reference, as only the database can tell (staff never see references). */
  async function instanceOf(reference: string): Promise<string> {
    const digest = createHash('sm3').update(normalizeReference(reference)!).digest('hex');
    return (await s.server.db('public_requests').where({ reference_hash: digest }).first()).process_instance_id;
  }

  for (const pc of publicCases) {
    test.serial(t(`${pc.route}: answers the public and leaves exactly its trace rows; what it refuses leaves none`), async (t) => {
      const rowsAfter = async (last: unknown) => (await s.server.db('trace').where('id', '>', last ?? 0).orderBy('id'))
        .map((r: { user_id: string; operation: string; entity_type: string; source: string; process_instance_id: string | null }) => r);
      const send = (path: string, body?: unknown) => pub.raw(body === undefined ? 'GET' : 'POST', path, body);
      const call = await pc.call(objectPublicly);
      const [{ last }] = await s.server.db('trace').max({ last: 'id' });
      const r = await send(call.path, call.body);
      t.is(r.status, 200, JSON.stringify(r.body));
      const rows = await rowsAfter(last);
      t.deepEqual(rows.map((x) => `${x.operation} ${x.entity_type}`), pc.trace);
      const reference = r.body?.reference ?? (call.body as { reference?: string } | undefined)?.reference;
      for (const x of rows) {
        t.is(x.user_id, 'public');
        t.regex(String(x.source), /127\.0\.0\.1/);
        t.is(x.process_instance_id, await instanceOf(reference), 'the row names the request\'s instance');
        t.false(JSON.stringify(x).includes(reference), 'never the reference');
      }
      if (pc.route.startsWith('GET ')) {
        const head = await fetch(`${s.server.publicUrl}${call.path}`, { method: 'HEAD' });
        t.is(head.status, 200, 'HEAD answers as GET does, without a body');
        t.is((await rowsAfter(last)).length, rows.length, 'and leaves no row');
      }
      if (!pc.refused) return;
      const [{ last: before }] = await s.server.db('trace').max({ last: 'id' });
      t.is((await send(pc.refused.path, pc.refused.body)).status, pc.refused.status);
      t.deepEqual(await rowsAfter(before), [], 'a refused call leaves no row');
    });
  }

  test.serial(t('without PUBLIC_PORT nothing listens for the public'), async (t) => {
    const before = listeningServers();
    const server = await startTestServer(backend);
    try {
      t.is(server.publicUrl, undefined);
      t.is(listeningServers(), before + 1, 'the private listener only');
    } finally {
      await server.stop();
    }
    t.is(listeningServers(), before);
  });

  test.serial(t('a public port in use stops the start and leaves nothing listening'), async (t) => {
    const blocker = net.createServer().listen(0, '127.0.0.1');
    await once(blocker, 'listening');
    const before = listeningServers();
    const testDb = await backend.create({ migrate: false });
    try {
      const config = loadConfig({
        PORT: '0', HOST: '127.0.0.1', PUBLIC_PORT: String((blocker.address() as AddressInfo).port), PUBLIC_HOST: '127.0.0.1',
        ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, ...NO_PROCESSES, ...TEST_KEY_ENV,
      });
      await t.throwsAsync(startServer(config, { db: testDb.db, log: pino({ level: 'silent' }) }), { code: 'EADDRINUSE' });
      t.is(listeningServers(), before, 'the private listener was closed again');
    } finally {
      blocker.close();
      await testDb.drop();
    }
  });

  test.serial(t('the public listener answers 404 to every route of the private one, credentials or not'), async (t) => {
    const routes = privateRoutes();
    t.true(routes.length > 90, `${routes.length} private routes enumerated`);
    t.true(routes.some((r) => r.method === 'POST' && r.path === `/engine-rest/process-definition/key/${KEY}/start`));
    const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
    for (const { method, path } of routes) {
      const body = method === 'GET' || method === 'HEAD' ? undefined : '{}';
      for (const headers of [{}, { Authorization: basic }] as Record<string, string>[]) {
        const r = await pub.raw(method, path, body, body ? { ...headers, 'Content-Type': 'application/json' } : headers);
        t.is(r.status, 404, `${method} ${path}`);
        if (method !== 'HEAD') t.is(r.body?.type, 'NotFound', `${method} ${path} answers Camunda's error body`);
      }
    }
    t.is((await s.staff.admin.get('/engine-rest/version')).status, 200, 'the same route answers on the private listener');
  });

  test.serial(t('the public listener has no /health, no root, and nothing beside its own routes and methods'), async (t) => {
    for (const [method, path] of [
      ['GET', '/health'], ['GET', '/'], ['GET', '/public'], ['DELETE', '/public/process'], ['PUT', `/public/process/${KEY}/start`],
      ['GET', `/public/process/${KEY}/start`], ['GET', '/public/request/status'], ['OPTIONS', '/public/process'], ['GET', '/engine-rest'],
    ] as const) {
      const r = await pub.raw(method, path);
      t.is(r.status, 404, `${method} ${path}`);
    }
    const r = await pub.get('/health');
    t.is(r.headers.get('content-type'), 'application/json');
    t.is(r.headers.get('cache-control'), 'no-store');
    t.regex(r.body.message, /^未找到 \/ /, 'Chinese first');
  });

  test.serial(t('the public sees the public processes and their start forms, and only those'), async (t) => {
    const r = await pub.get('/public/process');
    t.is(r.status, 200);
    const keys: string[] = r.body.map((p: { key: string }) => p.key);
    t.true(keys.includes(KEY));
    t.deepEqual(keys.filter((k) => k.startsWith('security-') || k === 'catalogue-registration'), [], 'staff procedures are not listed');
    const p = r.body.find((x: { key: string }) => x.key === KEY);
    t.is(p.name, '信用信息异议申请');
    t.deepEqual(p.startForm.map((f: { id: string }) => f.id), ['applicantName', 'idNumber', 'contact', 'recordObjected', 'objectionReason']);
    t.like(p.startForm[1], { label: '身份证号码 / ID-card number', type: 'string', required: true, minLength: 15, maxLength: 18, options: null });
    t.false(JSON.stringify(r.body).includes('sensitive'), 'field properties are the server\'s business');
    t.deepEqual((await pub.get(`/public/process/${KEY}`)).body, p);
    t.is((await pub.get('/public/process/security-plan-approval')).status, 404);
  });

  test.serial(t('starting a process that is not public, or not there, is 404 and starts nothing'), async (t) => {
    const before = (await instancesOf(s.staff.admin, 'security-plan-approval')).length;
    const r = await pub.post('/public/process/security-plan-approval/start', { variables: vars({ title: '规划', planType: 'plan' }) });
    t.is(r.status, 404);
    const none = await pub.post('/public/process/no-such-process/start', { variables: {} });
    t.is(none.status, 404);
    t.is(r.body.message.replaceAll('security-plan-approval', 'K'), none.body.message.replaceAll('no-such-process', 'K'), 'alike: the public learns no process names');
    t.is((await instancesOf(s.staff.admin, 'security-plan-approval')).length, before);
  });

  test.serial(t('a public start returns a reference once, starts as public, and offers the first task to the data group'), async (t) => {
    const r = await pub.post(`/public/process/${KEY}/start`, { variables: vars(objection) });
    t.is(r.status, 200);
    t.regex(r.body.reference, REFERENCE);
    t.like(r.body.status, { processDefinitionKey: KEY, processName: '信用信息异议申请', state: 'running', stateName: '办理中', endTime: null, outcome: null });
    t.deepEqual(r.body.status.stepsDone, []);
    t.deepEqual(r.body.status.currentSteps, ['核查异议信息']);
    t.regex(r.body.status.startTime, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+0800$/);

    const id = await instanceOf(r.body.reference);
    t.is((await instancesOf(s.staff.admin, KEY)).find((i) => i.id === id)?.startUserId, 'public', 'history names the start user public');
    t.deepEqual(await openKeys(s.staff.data, id), ['verifyObjection']);
    const variables = (await s.staff.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(variables.idNumber.value, objection.idNumber);
    t.is(variables.applicantName.type, 'String');
  });

  test.serial(t('the start form is the whole contract: unknown variables, missing fields and other members are refused'), async (t) => {
    const before = (await instancesOf(s.staff.admin, KEY)).length;
    const unknown = await pub.post(`/public/process/${KEY}/start`, { variables: vars({ ...objection, decision: 'upheld', assignee: 'me' }) });
    t.is(unknown.status, 400);
    t.is(unknown.body.type, 'FormFieldValidationException');
    t.regex(unknown.body.message, /decision, assignee/);
    const { idNumber: _omit, ...noId } = objection;
    const missing = await pub.post(`/public/process/${KEY}/start`, { variables: vars(noId) });
    t.is(missing.status, 400);
    t.regex(missing.body.message, /身份证号码 \/ ID-card number \(idNumber\) 为必填项/);
    const tooLong = await pub.post(`/public/process/${KEY}/start`, { variables: vars({ ...objection, idNumber: '1'.repeat(19) }) });
    t.regex(tooLong.body.message, /idNumber/);
    const businessKey = await pub.post(`/public/process/${KEY}/start`, { variables: vars(objection), businessKey: 'MINE' });
    t.is(businessKey.status, 400);
    t.regex(businessKey.body.message, /businessKey/);
    const typed = await pub.post(`/public/process/${KEY}/start`, { variables: { ...vars(objection), contact: { value: { phone: 1 }, type: 'Json' } } });
    t.is(typed.status, 400);
    t.is((await instancesOf(s.staff.admin, KEY)).length, before, 'nothing was started');
  });

  test.serial(t('a body beyond 16 KiB or not JSON is refused before anything runs'), async (t) => {
    const big = await pub.post(`/public/process/${KEY}/start`, { variables: vars({ ...objection, objectionReason: '理'.repeat(8000) }) });
    t.is(big.status, 413);
    t.regex(big.body.message, /请求体过大/);
    const bad = await pub.post(`/public/process/${KEY}/start`, '{"variables":', {});
    t.is(bad.status, 400);
  });

  test.serial(t('the status by reference follows the staff\'s work on the private listener, and shows no data or people'), async (t) => {
    const reference = await objectPublicly();
    const id = await instanceOf(reference);
    const { data, office } = s.staff;
    await step(data, 'data-1', id, 'verifyObjection', {
      recordId: 'HQ-XZCF-2026-0456', sourceDepartment: '区市场监管局', verificationFinding: 'inaccurate', verificationNote: '来源部门确认处罚已撤销',
    });
    let r = await statusOf(reference);
    t.is(r.status, 200);
    t.deepEqual([r.body.stepsDone, r.body.currentSteps], [['核查异议信息'], ['审定异议']]);
    await step(office, 'office-1', id, 'decideObjection', { decision: 'upheld', decisionReason: '处罚决定已撤销，记录应撤下' });
    await step(data, 'data-1', id, 'correctRecord', { correctionAction: 'withdrawn', correctionNote: '已撤下该记录并告知来源部门', sourceConfirmed: true });
    r = await statusOf(reference);
    t.deepEqual([r.body.stepsDone, r.body.currentSteps], [['核查异议信息', '审定异议', '更正信用记录'], ['答复申请人']]);
    await step(office, 'office-1', id, 'replyApplicant', { replyMethod: 'sms', replyDate: '2026-12-05T10:00:00.000+0800', replySummary: '您的异议成立，记录已撤下' });
    r = await statusOf(reference);
    t.like(r.body, { state: 'completed', stateName: '已办结', outcome: '异议成立，记录已更正', currentSteps: [] });
    t.deepEqual(r.body.stepsDone, ['核查异议信息', '审定异议', '更正信用记录', '答复申请人']);
    t.truthy(r.body.endTime);
    const text = JSON.stringify(r.body);
    for (const secret of ['张三', objection.idNumber, objection.contact, '区市场监管局', '您的异议成立', 'data-1', 'office-1', 'public', id, 'verifyObjection']) {
      t.false(text.includes(secret), `the status does not show ${secret}`);
    }
    t.deepEqual(Object.keys(r.body).sort(), ['currentSteps', 'endTime', 'outcome', 'processDefinitionKey', 'processName', 'startTime', 'state', 'stateName', 'stepsDone']);
  });

  test.serial(t('a request an administrator deleted shows as closed, with no step waiting'), async (t) => {
    const reference = await objectPublicly();
    t.is((await s.staff.admin.delete(`/engine-rest/process-instance/${await instanceOf(reference)}`)).status, 204);
    t.like((await statusOf(reference)).body, { state: 'closed', stateName: '已终止', currentSteps: [], stepsDone: [], outcome: null });
  });

  test.serial(t('a reference is typed as people type it: any case, without dashes, O for 0'), async (t) => {
    const reference: string = await objectPublicly();
    for (const typed of [reference.toLowerCase(), reference.replace(/-/g, ''), ` ${reference.replace(/-/g, ' ')} `, reference.replace(/0/g, 'O').replace(/1/g, 'l')]) {
      t.is((await statusOf(typed)).status, 200, typed);
    }
  });

  test.serial(t('a wrong, guessed or malformed reference is 404; none at all is 400'), async (t) => {
    const reference: string = await objectPublicly();
    const last = reference.at(-1)!;
    const oneOff = reference.slice(0, -1) + (last === 'Z' ? 'Y' : String.fromCharCode(last.charCodeAt(0) === 57 ? 65 : last.charCodeAt(0) + 1));
    for (const wrong of [oneOff, '0000-0000-0000-0000-0000-0000-0000-0000', reference.slice(0, -5), `${reference}-0000`, 'x', '../../engine-rest/version']) {
      const r = await statusOf(wrong);
      t.is(r.status, 404, wrong);
      t.is(r.body.message, '查询编号无效 / unknown reference');
    }
    t.is((await statusOf(undefined)).status, 400);
    t.is((await statusOf(12345)).status, 400);
    t.is((await pub.post('/public/request/status', { reference, instanceId: 'x' })).status, 400);
  });

  test.serial(t('a reference is 160 random bits and only its SM3 digest is stored, so the database cannot answer for it'), async (t) => {
    const references = await Promise.all([objectPublicly(), objectPublicly()]);
    t.not(references[0], references[1]);
    const rows: { reference_hash: string }[] = await s.server.db('public_requests').select('*');
    const stored = JSON.stringify(rows);
    for (const reference of references) {
      const normalized = normalizeReference(reference)!;
      t.is(normalized.length * 5, 160);
      t.false(stored.includes(normalized) || stored.includes(reference), 'the reference itself is nowhere');
      t.true(rows.some((row) => row.reference_hash === createHash('sm3').update(normalized).digest('hex')));
    }
  });

  test.serial(t('only the latest version of a public process may be started publicly'), async (t) => {
    const diagram = (flag: string) => publicDiagram('zone-probe', flag);
    await s.server.services.deployments.deploy(oneResource('zone-probe.bpmn', diagram('true')));
    t.is((await pub.post('/public/process/zone-probe/start', { variables: {} })).status, 200);
    t.true((await pub.get('/public/process')).body.some((p: { key: string }) => p.key === 'zone-probe'));
    await s.server.services.deployments.deploy(oneResource('zone-probe.bpmn', diagram('false')));
    t.is((await pub.post('/public/process/zone-probe/start', { variables: {} })).status, 404, 'version 2 withdrew it');
    t.false((await pub.get('/public/process')).body.some((p: { key: string }) => p.key === 'zone-probe'));
    t.is((await s.staff.office.post('/engine-rest/process-definition/key/zone-probe/start', { variables: {} })).status, 200, 'staff still may');
  });

  test.serial(t('the private listener is unchanged: no /public routes, /health open, the API behind a login'), async (t) => {
    const priv = client(s.server.url);
    t.is((await priv.get('/public/process')).status, 404);
    t.is((await priv.post(`/public/process/${KEY}/start`, { variables: vars(objection) })).status, 404);
    t.is((await priv.get('/health')).status, 200);
    t.is((await priv.get('/engine-rest/version')).status, 401);
    t.not(s.server.url, s.server.publicUrl);
  });

  test.serial(t('nobody may be called public: the name is the internet zone\'s'), async (t) => {
    const r = await s.staff.admin.post('/engine-rest/user/create', { profile: { id: 'public' }, credentials: { password: 'public-password-1' } });
    t.is(r.status, 400);
    t.regex(r.body.message, /reserved/);
  });
}, { PUBLIC_PORT: '0' });

import { Writable } from 'node:stream';
import test, { type ExecutionContext } from 'ava';
import fc from 'fast-check';
import pino from 'pino';
import { backends } from '../helpers/db.ts';
import { adminPrincipal, fixture, oneResource } from '../helpers/fixtures.ts';
import { diagram, type Diagram } from '../helpers/fuzz-bpmn.ts';
import { body, describe, headers, queryString, send, urlValue, type FuzzRequest, type Outcome } from '../helpers/fuzz-http.ts';
import { privateAppRoutes, publicAppRoutes } from '../helpers/routes.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type TestServer } from '../helpers/server.ts';

/*
 * Property-based fuzzing of the whole HTTP surface (issue 13, item 6). Every
 * route the routers have (found as the route-table test finds them) gets
 * generated requests: hostile path parameters, query strings, headers and
 * bodies, as an administrator and as an office user (the public routes
 * without credentials). Generated small diagrams go to deployment. The
 * property: every request is answered within a bounded time, never with a
 * 5xx, and the server is healthy afterwards. A failure prints the smallest
 * request fast-check could shrink it to, the answer, and what the server
 * logged meanwhile (its stack trace, for a 500).
 *
 * The default run is bounded and seeded, so CI sees the same requests each
 * time: FUZZ_RUNS requests per route (default 4) and ten times as many
 * diagrams. `npm run fuzz` runs 100 per route and 1 000 diagrams (some
 * minutes); FUZZ_SEED picks another seed (a failure prints its seed).
 *
 * PGlite only by default: it is real PostgreSQL (the same parser, types and
 * errors such as NUL in text), and what this test finds lives in the HTTP
 * layer and the argument checks, which do not depend on the backend; a
 * second backend would double the file's time for little. FUZZ_ALL_BACKENDS=1
 * (set by `npm run fuzz`) adds PostgreSQL when TEST_DATABASE_URL is set.
 */

const SEED = Number(process.env.FUZZ_SEED ?? 20_261_306);
const RUNS = Number(process.env.FUZZ_RUNS ?? 4);
const DIAGRAM_RUNS = RUNS * 10;
/** Generous on a loaded 2-core machine: a request not answered by then is a hang. */
const REQUEST_TIMEOUT_MS = 15_000;
const fuzzBackends = process.env.FUZZ_ALL_BACKENDS ? backends : backends.filter((b) => b.name === 'pglite');

/** A seed per route from its name, so a new route does not change the requests of the others. */
function seedOf(route: string): number {
  let h = SEED | 0;
  for (let i = 0; i < route.length; i++) h = Math.imul(h ^ route.charCodeAt(i), 0x01000193);
  return h;
}

/** The server's log lines (warn and above), so a 500 can be shown with its stack trace. */
function captureLog() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { log: pino({ level: 'warn' }, stream), lines };
}

/** What a path parameter names, by the route's noun: real ids of that kind reach past the lookup into the handler. */
type Kind = 'deployment' | 'resource' | 'definition' | 'key' | 'instance' | 'task' | 'externalTask' | 'job' | 'variable' | 'token' | 'group' | 'any';

/** The kind of thing parameter `param` of route path `template` names. */
function kindOf(template: string, param: string): Kind {
  if (param === ':name') return 'variable';
  if (param === ':resourceId') return 'resource';
  if (param === ':key') return 'key';
  if (param === ':userId') return 'any';
  const noun = /\/(engine-rest|public)\/([a-z-]+)/.exec(template)?.[2];
  const byNoun: Record<string, Kind> = {
    deployment: 'deployment', 'process-definition': 'definition', 'process-instance': 'instance', task: 'task', 'external-task': 'externalTask',
    job: 'job', token: 'token', group: 'group',
  };
  return byNoun[noun ?? ''] ?? 'any';
}

interface Subject {
  s: TestServer;
  auth: Record<'admin' | 'office', string>;
  /** Real ids and keys on the server by kind: instances, tasks, external tasks, jobs, fodder deployments, definitions, keys, variable names. */
  known: Record<Kind, string[]>;
  logLines: string[];
}

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/** Starts the server (both listeners, scheduler off: a generated timer never fires) and makes things for ids to point at. */
async function prepare(backend: (typeof backends)[number]): Promise<Subject> {
  const { log, lines } = captureLog();
  const s = await startTestServer(backend, { PUBLIC_PORT: '0' }, { runScheduler: false, log });
  await s.services.deployments.deploy(oneResource('external-check.bpmn', fixture('external-check.bpmn')));
  await s.services.deployments.deploy(oneResource('deadlines.bpmn', fixture('deadlines.bpmn')));
  const office = await makeUser(s, 'office-fuzz', ['office']);
  const known: Record<Kind, string[]> = {
    deployment: [], resource: [], definition: [], instance: [], task: [], externalTask: [], job: [], token: [],
    key: ['security-plan-approval', 'credit-objection', 'external-check', 'long-wait', 'no-match'],
    variable: ['title', 'manifest', 'note', 'planType'],
    // Groups whose members the fuzz may change: never the administrators' or office's, which the health checks sign in with.
    group: ['data-security', 'network-security'],
    any: [],
  };
  for (let i = 0; i < 3; i++) {
    // Fodder deployments: a DELETE drawing one of these ids removes nothing the other routes need.
    const d = await s.services.deployments.deploy(oneResource(`fuzz-fodder-${i}.bpmn`, Buffer.from(fixture('no-match.bpmn').toString('utf8').replace('</bpmn:definitions>', `<!-- ${i} --></bpmn:definitions>`))));
    const [resource] = await s.db('resources').where({ deployment_id: d.deployment.id });
    known.deployment.push(d.deployment.id);
    known.resource.push(resource.id);
    const pi = (await office.post('/engine-rest/process-definition/key/security-plan-approval/start', { variables: vars({ title: '规划', planType: 'plan' }) })).body.id;
    const [task] = await s.services.tasks.list({ processInstanceId: pi }, adminPrincipal);
    const { instance } = await s.services.instances.startByKey('external-check', { variables: { mode: { type: 'String', value: 'ok' } } }, adminPrincipal);
    const [ext] = await s.db('external_tasks').where({ process_instance_id: instance.id });
    const wait = await s.services.instances.startByKey('long-wait', { variables: {} }, adminPrincipal);
    const [timer] = await s.db('timers').where({ process_instance_id: wait.instance.id });
    known.instance.push(pi, instance.id);
    known.task.push(task.id);
    known.externalTask.push(ext.id);
    known.job.push(timer.id);
    known.token.push((await office.post('/engine-rest/token', { name: `fuzz-${i}` })).body.id);
  }
  for (const def of await s.db('process_definitions').select('id')) known.definition.push(def.id);
  known.any = Object.values(known).flat();
  return { s, auth: { admin: basic(ADMIN.user, ADMIN.password), office: basic('office-fuzz', 'office-fuzz-password') }, known, logLines: lines };
}

/**
 * The request on the wire, named on stderr if the process dies of an
 * uncaught exception meanwhile (the server runs in this process: an error
 * nobody listens for takes the test down with it, and ava's report alone
 * would not say which request did it).
 */
let inFlight: string | undefined;
process.prependListener('uncaughtException', () => {
  if (inFlight) process.stderr.write(`\nuncaught exception while the fuzz was sending: ${inFlight}\n`);
});

/** A 501 naming a Camunda endpoint the server does not have (not-implemented.ts) is an answer, not a failure. */
const isRefusal = (o: Outcome) => !('failed' in o) && o.status === 501 && /"type":"RestException"/.test(o.text) && /"camunda":/.test(o.text);
/**
 * GET /health/ready's 503 says "not ready" (here: the fuzz server runs no scheduler); it is the
 * endpoint's answer, with its reason, not a failure.
 */
const isNotReady = (o: Outcome) => !('failed' in o) && o.status === 503 && /^\{"status":"DOWN",.*"reason":/.test(o.text);
const isFailure = (o: Outcome) => 'failed' in o || (o.status >= 500 && !isRefusal(o) && !isNotReady(o));

/** The report of one failing request: what was sent, what came back, what the server logged. */
function report(what: string, o: Outcome, log: string[]): string {
  const answer = 'failed' in o ? `no answer: ${o.failed}` : `${o.status} ${o.text.slice(0, 600)}`;
  const camunda = 'failed' in o ? '' : (() => {
    try {
      const b = JSON.parse(o.text);
      return o.status < 500 || (typeof b?.type === 'string' && typeof b?.message === 'string') ? '' : ' (NOT a Camunda error body)';
    } catch {
      return o.status < 500 ? '' : ' (NOT a Camunda error body)';
    }
  })();
  return `${what}\n  → ${answer}${camunda}\n${log.map((l) => `  server log: ${l.trim().slice(0, 3000)}`).join('\n')}`;
}

/** Runs `property` with fast-check's seed and count; on failure, fails `t` with the shrunk counterexample's report. */
async function check<T>(t: ExecutionContext, arb: fc.Arbitrary<T>, seed: number, numRuns: number, attempt: (v: T) => Promise<string | null>) {
  let lastFailure = '';
  const details = await fc.check(fc.asyncProperty(arb, async (v) => {
    const failure = await attempt(v);
    if (failure) lastFailure = failure;
    return failure === null;
  }), { seed, numRuns });
  if (details.failed) {
    t.fail(`${lastFailure}\n  (seed ${details.seed}, path "${details.counterexamplePath}", shrunk ${details.numShrinks} times${details.errorInstance ? `; thrown: ${String(details.errorInstance).slice(0, 300)}` : ''})`);
  } else {
    t.pass();
  }
}

for (const backend of fuzzBackends) {
  let subject!: Subject;
  test.before(async () => {
    subject = await prepare(backend);
  });
  test.after.always(async () => subject?.s.stop());

  /** GET /health and one ordinary call of each kind of caller. */
  async function healthy(t: ExecutionContext, after: string) {
    const { s } = subject;
    const health = await fetch(`${s.url}/health`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    t.is(health.status, 200, `GET /health after ${after}`);
    const count = await client(s.url, ADMIN.user, ADMIN.password).get('/engine-rest/process-definition/count');
    t.is(count.status, 200, `an administrator's call after ${after}: ${JSON.stringify(count.body)}`);
    t.true(count.body.count > 0);
    t.is((await client(s.url, 'office-fuzz', 'office-fuzz-password').get('/engine-rest/task')).status, 200, `an office user's call after ${after}`);
  }

  const routes = [
    ...privateAppRoutes().map((r) => ({ route: r, listener: 'private' as const })),
    ...publicAppRoutes().map((r) => ({ route: r, listener: 'public' as const })),
  ].filter(({ route }) => !route.startsWith('HEAD ')); // HEAD answers 405 before anything runs (route-table.test.ts)

  test(`${backend.name}: the fuzz covers every route of both listeners`, (t) => {
    t.true(routes.length > 90, `${routes.length} routes`);
    t.true(routes.some((r) => r.route === 'POST /engine-rest/deployment/create'));
    t.true(routes.some((r) => r.route === 'POST /public/process/:key/start'));
  });

  for (const { route, listener } of routes) {
    const [method, template] = route.split(' ');
    const params = template.match(/:\w+/g) ?? [];
    test.serial(`${backend.name}: fuzz ${route}: every generated request is answered, never with a 5xx`, async (t) => {
      const { s, auth, known, logLines } = subject;
      const base = listener === 'public' ? s.publicUrl! : s.url;
      const arb = fc.record({
        values: fc.tuple(...params.map((p) => urlValue(known[kindOf(template, p)]))),
        query: queryString(known.any),
        headers,
        body: method === 'GET' ? fc.constant(null) : body,
        as: listener === 'public' ? fc.constant('public' as const) : fc.constantFrom('admin' as const, 'office' as const),
      });
      await check(t, arb, seedOf(route), RUNS, async (v) => {
        let i = 0;
        const path = template.replace(/:\w+/g, () => v.values[i++]);
        const req: FuzzRequest = {
          method, url: `${path}${v.query ? `?${v.query}` : ''}`, headers: v.headers, body: v.body,
          auth: v.as === 'public' ? undefined : auth[v.as], as: v.as,
        };
        const mark = logLines.length;
        inFlight = describe(req);
        const outcome = await send(base, req, REQUEST_TIMEOUT_MS);
        inFlight = undefined;
        return isFailure(outcome) ? report(describe(req), outcome, logLines.slice(mark)) : null;
      });
      await healthy(t, route);
    });
  }

  test.serial(`${backend.name}: fuzz deployment: generated diagrams are deployed or refused with a 4xx, and a refused one leaves no deployment`, async (t) => {
    t.timeout(Math.max(120_000, DIAGRAM_RUNS * 3_000));
    const { s, auth, logLines } = subject;
    const admin = client(s.url, ADMIN.user, ADMIN.password);
    const count = async () => (await admin.get('/engine-rest/deployment/count')).body.count as number;
    const arb = fc.record({ d: diagram, name: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }) });
    await check(t, arb, seedOf('deployment'), DIAGRAM_RUNS, async ({ d, name }: { d: Diagram; name?: string }) => {
      const before = await count();
      const form = new FormData();
      form.append('deployment-name', name ?? 'fuzz');
      form.append('data', new Blob([d.bytes]), d.name);
      const mark = logLines.length;
      const shown = `POST /engine-rest/deployment/create ${d.name} (${d.bytes.length} bytes): ${d.shown}`;
      inFlight = shown;
      let outcome: Outcome;
      try {
        const res = await fetch(`${s.url}/engine-rest/deployment/create`, { method: 'POST', headers: { Authorization: auth.admin }, body: form, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        outcome = { status: res.status, text: await res.text() };
      } catch (err) {
        outcome = { failed: String(err) };
      }
      inFlight = undefined;
      if (isFailure(outcome)) return report(shown, outcome, logLines.slice(mark));
      const after = await count();
      const expected = 'status' in outcome && outcome.status < 300 ? before + 1 : before;
      if (after !== expected) return report(`${shown}\n  deployment count ${before} → ${after}, expected ${expected}`, outcome, logLines.slice(mark));
      return null;
    });
    await healthy(t, 'the deployments');
  });

  test.serial(`${backend.name}: the server is healthy after the whole fuzz`, async (t) => {
    await healthy(t, 'the whole fuzz');
    const pub = await fetch(`${subject.s.publicUrl}/public/process`, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
    t.is(pub.status, 200, 'the public listener still answers');
  });
}

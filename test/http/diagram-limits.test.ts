import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { MAX_FLOW_ELEMENTS, MAX_SUBPROCESS_DEPTH } from '../../src/engine/check-size.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';
import { timerDiagram } from '../helpers/timer-diagrams.ts';

/*
 * Issue 13, findings 2, 8 and 10 as an administrator would cause them: a
 * diagram too large or too deep, and timers that would hang or never be
 * valid, are refused at deployment with a 400 naming what is wrong; a timer
 * value resolved at run time fails that run cleanly. The server keeps serving.
 */

const HOUR = 3_600_000;

function definitions(body: string, key = 'big'): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="x"><process id="${key}" isExecutable="true">${body}</process></definitions>`;
}

/** `n` tasks after a start event, each on its own sequence flow. */
function manyElements(n: number): string {
  const parts = ['<startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="t0"/>'];
  for (let i = 0; i < n; i++) parts.push(`<task id="t${i}"/>`, i + 1 < n ? `<sequenceFlow id="f${i}" sourceRef="t${i}" targetRef="t${i + 1}"/>` : '');
  return definitions(parts.join(''));
}

/** A ring of `n` tasks joined by `n` sequence flows, entered from a start event. */
function flowCycle(n: number): string {
  const parts = ['<startEvent id="s"/><sequenceFlow id="in" sourceRef="s" targetRef="t0"/>'];
  for (let i = 0; i < n; i++) parts.push(`<task id="t${i}"/><sequenceFlow id="f${i}" sourceRef="t${i}" targetRef="t${(i + 1) % n}"/>`);
  return definitions(parts.join(''));
}

/** Sub-processes nested `depth` deep, each holding the next. */
function nested(depth: number): string {
  let inner = '<startEvent id="innermost-start"/>';
  for (let i = depth - 1; i >= 0; i--) inner = `<subProcess id="sub${i}">${inner}</subProcess>`;
  return definitions(`<startEvent id="s"/><sequenceFlow id="f" sourceRef="s" targetRef="sub0"/>${inner}`);
}

/** Two timers in a row: a literal hour, then one whose cycle comes from the variable `cycle`. */
const twoTimers = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="x">
  <bpmn:process id="two-timers" isExecutable="true">
    <bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="hour" />
    <bpmn:intermediateCatchEvent id="hour"><bpmn:timerEventDefinition><bpmn:timeDuration xsi:type="bpmn:tFormalExpression">PT1H</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="hour" targetRef="spin" />
    <bpmn:intermediateCatchEvent id="spin"><bpmn:timerEventDefinition><bpmn:timeCycle xsi:type="bpmn:tFormalExpression">\${cycle}</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="end" /><bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

for (const backend of backends) {
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  let server!: TestServer;
  let admin!: Client;
  test.before(async () => {
    server = await startTestServer(backend, NO_PROCESSES, { clock, runScheduler: false });
    admin = client(server.url, ADMIN.user, ADMIN.password);
  });
  test.after.always(async () => server?.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

  async function deploy(name: string, xml: string): Promise<{ status: number; body: any }> {
    const form = new FormData();
    form.append('deployment-name', name);
    form.append(name, new Blob([xml]), name);
    const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic } });
    return { status: res.status, body: await res.json() };
  }
  /** The first problem of a refused deployment, after checking the Camunda error shape. */
  function firstProblem(tt: { is: (a: unknown, b: unknown, m?: string) => void; true: (a: boolean, m?: string) => void }, name: string, r: { status: number; body: any }) {
    tt.is(r.status, 400, JSON.stringify(r.body).slice(0, 300));
    tt.is(r.body.type, 'ParseException');
    tt.true(r.body.message.startsWith('ENGINE-09005'), r.body.message);
    return r.body.details[name].errors[0] as { message: string; mainElementId: string | null };
  }
  async function healthy(tt: { is: (a: unknown, b: unknown, m?: string) => void }) {
    tt.is((await fetch(`${server.url}/health`)).status, 200);
    tt.is((await admin.get('/engine-rest/deployment/count')).status, 200);
  }

  test.serial(t('a 100 000-element diagram is refused at deployment with a 400 saying so, and the server stays healthy'), async (t) => {
    const before = (await admin.get('/engine-rest/deployment/count')).body.count;
    const problem = firstProblem(t, 'huge.bpmn', await deploy('huge.bpmn', manyElements(100_000)));
    t.regex(problem.message, new RegExp(`more than ${MAX_FLOW_ELEMENTS} flow elements`));
    t.truthy(problem.mainElementId, 'the element at which the limit was passed is named');
    t.is((await admin.get('/engine-rest/deployment/count')).body.count, before, 'nothing was stored');
    t.is((await admin.get('/engine-rest/process-definition/count?key=big')).body.count, 0);
    await healthy(t);
  });

  test.serial(t('a cycle of 10 000 sequence flows is refused at deployment with a 400, before it is parsed or run'), async (t) => {
    const problem = firstProblem(t, 'ring.bpmn', await deploy('ring.bpmn', flowCycle(10_000)));
    t.regex(problem.message, /flow elements/);
    await healthy(t);
  });

  test.serial(t('sub-processes nested deeper than the limit are refused, naming the sub-process; the limit itself deploys'), async (t) => {
    const problem = firstProblem(t, 'deep.bpmn', await deploy('deep.bpmn', nested(MAX_SUBPROCESS_DEPTH + 1)));
    t.regex(problem.message, new RegExp(`nested more than ${MAX_SUBPROCESS_DEPTH} deep`));
    t.is(problem.mainElementId, `sub${MAX_SUBPROCESS_DEPTH}`);
    // Five thousand levels once overflowed the stack of the checks that walk the model: a 500.
    firstProblem(t, 'deeper.bpmn', await deploy('deeper.bpmn', nested(5000)));
    t.is((await deploy('deep-ok.bpmn', nested(MAX_SUBPROCESS_DEPTH))).status, 200);
    t.is((await deploy('ring-ok.bpmn', flowCycle(100))).status, 200, 'a diagram within the limits deploys');
    await healthy(t);
  });

  test.serial(t('R/PT0S, R/PT0.001S, banana, P999999999Y and a date in year +099999 are refused at deployment, naming the timer'), async (t) => {
    const cases = [
      ['intermediate', 'timeCycle', 'R/PT0S', 'wait'], ['boundary', 'timeCycle', 'R/PT0S', 'late'], ['start', 'timeCycle', 'R/PT0S', 'tick'],
      ['start', 'timeCycle', 'R/PT0.001S', 'tick'], ['intermediate', 'timeDuration', 'banana', 'wait'],
      ['boundary', 'timeDuration', 'P999999999Y', 'late'], ['intermediate', 'timeDate', '+099999-01-01T00:00:00Z', 'wait'],
      ['start', 'timeDate', '+099999-01-01T00:00:00Z', 'tick'],
    ] as const;
    for (const [kind, type, value, element] of cases) {
      const problem = firstProblem(t, 'timed.bpmn', await deploy('timed.bpmn', timerDiagram(kind, type, value)));
      t.is(problem.mainElementId, element, `${kind} ${type} ${value}`);
      t.true(problem.message.includes(JSON.stringify(value)), problem.message);
    }
    t.is((await admin.get('/engine-rest/process-definition/count?key=timed')).body.count, 0);
    await healthy(t);
  });

  test.serial(t('a timer expression resolving to R/PT0S fails the start with a 400 naming the timer; reached by a timer firing, it becomes an incident'), async (t) => {
    t.is((await deploy('two-timers.bpmn', twoTimers)).status, 200);
    const [def] = (await admin.get('/engine-rest/process-definition?key=two-timers')).body;
    t.is((await deploy('spin.bpmn', timerDiagram('intermediate', 'timeCycle', '${cycle}', 'spin-now'))).status, 200);
    // A person waits on the request: a clean 400, nothing started.
    const refused = await admin.post('/engine-rest/process-definition/key/spin-now/start', { variables: vars({ cycle: 'R/PT0S' }) });
    t.is(refused.status, 400);
    t.is(refused.body.type, 'ProcessEngineException');
    t.regex(refused.body.message, /wait/);
    t.regex(refused.body.message, /at least one second/);
    t.is((await admin.get('/engine-rest/process-instance/count?processDefinitionKey=spin-now')).body.count, 0);
    // Reached when an earlier timer fires: the firing fails, and after its retries an incident names the cause.
    const started = await admin.post(`/engine-rest/process-definition/${def.id}/start`, { variables: vars({ cycle: 'R/PT0S' }) });
    t.is(started.status, 200);
    const id = started.body.id;
    clock.advance(HOUR);
    for (let attempt = 0; attempt < 3; attempt++) {
      t.is(await server.scheduler.runDue(), 0, 'the firing does not succeed');
      await healthy(t);
      clock.advance(2000 * 2 ** attempt);
    }
    const [incident] = (await admin.get(`/engine-rest/incident?processInstanceId=${id}`)).body;
    t.like(incident, { incidentType: 'failedJob' });
    t.regex(incident.incidentMessage, /spin/);
    t.regex(incident.incidentMessage, /at least one second/);
  });

  test.serial(t('a due date in year +099999 for a job is a 400, not a 500'), async (t) => {
    const started = await admin.post('/engine-rest/process-definition/key/two-timers/start', { variables: vars({ cycle: 'R/PT1H' }) });
    const [job] = (await admin.get(`/engine-rest/job?processInstanceId=${started.body.id}`)).body;
    const r = await admin.put(`/engine-rest/job/${job.id}/duedate`, { duedate: '+099999-01-01T00:00:00.000+0800' });
    t.is(r.status, 400);
    t.regex(r.body.message, /duedate/);
  });
}

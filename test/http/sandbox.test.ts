import { once } from 'node:events';
import { existsSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { sandboxEvents } from '../../src/engine/sandbox.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

// The attacks of issue 13, finding 1, over HTTP: a diagram's script is the attacker.

const marker = path.join(os.tmpdir(), `sandbox-http-escape-${process.pid}`);

function diagram(key: string, body: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d-${key}" targetNamespace="t">
  <bpmn:process id="${key}" isExecutable="true">${body}</bpmn:process>
</bpmn:definitions>`;
}

const script = (key: string, code: string, attributes = '') => diagram(key, `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="spin" />
    <bpmn:scriptTask id="spin" scriptFormat="javascript" ${attributes}><bpmn:script><![CDATA[${code}]]></bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="spin" targetRef="wait" />
    <bpmn:userTask id="wait" />`);

const timerThenLoop = diagram('timer-loop', `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="later" />
    <bpmn:intermediateCatchEvent id="later"><bpmn:timerEventDefinition><bpmn:timeDuration>PT1M</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>
    <bpmn:sequenceFlow id="f2" sourceRef="later" targetRef="spin" />
    <bpmn:scriptTask id="spin" scriptFormat="javascript"><bpmn:script>while (true) {}</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f3" sourceRef="spin" targetRef="wait" />
    <bpmn:userTask id="wait" />`);

const cycle = diagram('cycle', `
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="count" />
    <bpmn:scriptTask id="count" scriptFormat="javascript"><bpmn:script>execution.setVariable('n', (execution.getVariable('n') || 0) + 1)</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="f2" sourceRef="count" targetRef="gw" />
    <bpmn:exclusiveGateway id="gw" default="back" />
    <bpmn:sequenceFlow id="back" sourceRef="gw" targetRef="count" />
    <bpmn:sequenceFlow id="out" sourceRef="gw" targetRef="end">
      <bpmn:conditionExpression xsi:type="bpmn:tFormalExpression" language="javascript">execution.getVariable('n') &lt; 0</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:endEvent id="end" />`);

const PENDING = Symbol('pending');
/** Whether `p` has not settled yet: a settled promise wins a race against an already resolved sentinel. */
const stillPending = async (p: Promise<unknown>) => (await Promise.race([p.then(() => null, () => null), Promise.resolve(PENDING)])) === PENDING;

/** From now until the next script's outcome is known: true while it has not been. Told synchronously, so no turn is missed. */
function whileRunning(): () => boolean {
  let settled = false;
  sandboxEvents.once('settled', () => { settled = true; });
  return () => !settled;
}

for (const backend of backends) {
  let server!: TestServer;
  let admin!: Client;
  const clock = new ManualClock(new Date('2026-12-01T01:00:00Z'));
  const t = (title: string) => `${backend.name}: ${title}`;
  const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
  const deploy = async (name: string, xml: string) => {
    const form = new FormData();
    form.append('deployment-name', name);
    form.append(`${name}.bpmn`, new Blob([xml]), `${name}.bpmn`);
    const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic } });
    return { status: res.status, body: await res.json() as any };
  };
  const start = (key: string, variables: Record<string, unknown> = {}) => admin.post(`/engine-rest/process-definition/key/${key}/start`, { variables });

  test.before(async () => {
    // The loop tests answer the other requests within one script's limit: 2 s leaves a loaded
    // CI machine room for that, where 500 ms did not always.
    server = await startTestServer(backend, { ...NO_PROCESSES, SCRIPT_TIMEOUT_MS: '2000', ENGINE_RUN_STEPS: '300' }, { clock, runScheduler: false });
    admin = client(server.url, ADMIN.user, ADMIN.password);
    for (const [key, xml] of [
      ['loop', script('loop', 'while (true) {}')],
      ['bomb', script('bomb', `let a = []; while (true) a.push('x'.repeat(1e6))`)],
      ['escape', script('escape', `
        var p = this.constructor.constructor('return process')();
        p.mainModule.require('fs').writeFileSync(${JSON.stringify(marker)}, 'escaped');
        execution.setVariable('env', p.env);`)],
      ['compute', script('compute', `execution.setVariable('total', execution.getVariable('price') * execution.getVariable('count')); 'priced ' + execution.getProcessBusinessKey()`, 'camunda:resultVariable="summary"')],
      ['timer-loop', timerThenLoop],
      ['cycle', cycle],
    ] as const) {
      const r = await deploy(key, xml);
      if (r.status !== 200) throw new Error(`deploy ${key}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
  test.after.always(async () => server?.stop());

  test.serial(t('an infinite loop on a person\'s start answers 400 naming the element; requests sent while it runs are answered before it'), async (t) => {
    const running = once(sandboxEvents, 'dispatch');
    const spinning = whileRunning();
    const started = start('loop');
    t.is((await running)[0], 'bpmn:ScriptTask/spin');
    // The script is now spinning on its thread; the server answers others meanwhile.
    const [version, tasks, health] = await Promise.all([admin.get('/engine-rest/version'), admin.get('/engine-rest/task'), fetch(`${server.url}/health`)]);
    t.is(version.status, 200);
    t.is(tasks.status, 200);
    t.is(health.status, 200);
    t.true(spinning(), 'the others were answered while the script was still running');
    t.true(await stillPending(started), 'the start had not answered when the others had');
    const r = await started;
    t.is(r.status, 400);
    t.is(r.body.type, 'ProcessEngineException');
    t.regex(r.body.message, /spin/);
    t.regex(r.body.message, /2000 ms/);
    t.is((await admin.get('/engine-rest/process-instance?processDefinitionKey=loop')).body.length, 0, 'nothing was saved');
    t.is((await admin.get('/engine-rest/process-definition?key=loop')).status, 200);
  });

  test.serial(t('a memory bomb answers 400 and the server keeps serving'), async (t) => {
    const r = await start('bomb');
    t.is(r.status, 400);
    t.regex(r.body.message, /spin/);
    t.regex(r.body.message, /limit/);
    t.is((await start('compute', { price: { value: 3, type: 'Integer' }, count: { value: 4, type: 'Integer' } })).status, 200);
  });

  test.serial(t('the escape through the Function constructor touches no process: no file, no environment, nothing saved'), async (t) => {
    rmSync(marker, { force: true });
    const r = await start('escape');
    t.is(r.status, 400);
    t.regex(r.body.message, /process.*not defined/);
    t.false(existsSync(marker));
    t.is((await admin.get('/engine-rest/process-instance?processDefinitionKey=escape')).body.length, 0);
  });

  test.serial(t('a script computes variables as Camunda says, and its last expression lands in camunda:resultVariable'), async (t) => {
    const r = await admin.post('/engine-rest/process-definition/key/compute/start', {
      businessKey: 'ORDER-9', variables: { price: { value: 25, type: 'Integer' }, count: { value: 4, type: 'Integer' } },
    });
    t.is(r.status, 200);
    const vars = (await admin.get(`/engine-rest/process-instance/${r.body.id}/variables`)).body;
    t.is(vars.total.value, 100);
    t.is(vars.summary.value, 'priced ORDER-9');
  });

  test.serial(t('a cycle that never waits answers 400 from the step budget, and the server keeps serving'), async (t) => {
    const r = await start('cycle');
    t.is(r.status, 400);
    t.regex(r.body.message, /300/);
    t.regex(r.body.message, /stopped at (count|gw)/);
    t.is((await fetch(`${server.url}/health`)).status, 200);
  });

  test.serial(t('an infinite loop behind a timer becomes an incident naming the element; requests sent while it runs are answered before it'), async (t) => {
    const started = await start('timer-loop');
    t.is(started.status, 200);
    let incidents: any[] = [];
    // Each failed firing uses up a retry and backs off; move the clock past each backoff.
    for (let attempt = 0; attempt < 6 && incidents.length === 0; attempt++) {
      clock.advance(3_600_000);
      const running = once(sandboxEvents, 'dispatch');
      const spinning = whileRunning();
      const firing = server.scheduler.runDue();
      // Every firing reaches the script (the clock passed each backoff): none may finish first.
      await Promise.race([running, firing]);
      t.true(await stillPending(firing), 'the firing started its script');
      const [tasks, health] = await Promise.all([admin.get('/engine-rest/task'), fetch(`${server.url}/health`)]);
      t.is(tasks.status, 200);
      t.is(health.status, 200);
      t.true(spinning(), 'the others were answered while the script was still running');
      t.true(await stillPending(firing), 'the firing had not finished when the others were answered');
      await firing;
      incidents = (await admin.get(`/engine-rest/incident?processInstanceId=${started.body.id}`)).body;
    }
    t.is(incidents.length, 1);
    t.is(incidents[0].incidentType, 'failedJob');
    t.regex(incidents[0].incidentMessage, /spin/);
    t.is((await admin.get(`/engine-rest/process-instance/${started.body.id}`)).status, 200, 'the instance still waits at its timer');
    t.is((await fetch(`${server.url}/health`)).status, 200);
  });

  test.serial(t('groovy is refused at deployment with the element named'), async (t) => {
    const r = await deploy('groovy', script('groovy', 'println "hello"').replace('scriptFormat="javascript"', 'scriptFormat="groovy"'));
    t.is(r.status, 400);
    t.is(r.body.type, 'ParseException');
    t.regex(r.body.message, /element spin/);
    t.regex(r.body.message, /groovy/);
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * History time to live of process and decision definitions (PUT, read back
 * through the definition GETs), a process's diagram image, its statically
 * called process definitions, and GET /deployment/registered.
 */

const callee = (version: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="d" targetNamespace="t">
  <bpmn:process id="settings-callee" isExecutable="true">
    <bpmn:startEvent id="s" /><bpmn:sequenceFlow id="f" sourceRef="s" targetRef="e" /><bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions><!-- ${version} -->`;

const CALLER = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="settings-caller" isExecutable="true" camunda:historyTimeToLive="30">
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="callLatest" />
    <bpmn:callActivity id="callLatest" calledElement="settings-callee" />
    <bpmn:sequenceFlow id="f2" sourceRef="callLatest" targetRef="callFirst" />
    <bpmn:callActivity id="callFirst" calledElement="settings-callee" camunda:calledElementBinding="version" camunda:calledElementVersion="1" />
    <bpmn:sequenceFlow id="f3" sourceRef="callFirst" targetRef="callAgain" />
    <bpmn:callActivity id="callAgain" calledElement="settings-callee" />
    <bpmn:sequenceFlow id="f4" sourceRef="callAgain" targetRef="callMissing" />
    <bpmn:callActivity id="callMissing" calledElement="settings-nobody" />
    <bpmn:sequenceFlow id="f5" sourceRef="callMissing" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions>`;

const PNG = Buffer.from('89504e470d0a1a0a0000000d4948445200000001000000010806000000', 'hex');

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; caller: string; v1: string; v2: string; decision: string };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    const v1 = (await server.services.deployments.deploy(oneResource('settings-callee.bpmn', Buffer.from(callee('1'))))).definitions[0]!.id;
    const v2 = (await server.services.deployments.deploy(oneResource('settings-callee.bpmn', Buffer.from(callee('2'))))).definitions[0]!.id;
    const deployed = await server.services.deployments.deploy({
      ...oneResource('settings-caller.bpmn', Buffer.from(CALLER)), resources: [{ name: 'settings-caller.bpmn', bytes: Buffer.from(CALLER) }, { name: 'settings-caller.png', bytes: PNG }],
    });
    const dish = await server.services.deployments.deploy(oneResource('settings-dish.dmn', fixture('dmn-rest/dish.dmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-ds', ['office']),
      caller: deployed.definitions[0]!.id, v1, v2, decision: dish.decisions.decisions[0].id,
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;

  test.serial(t('history time to live: parsed at deployment, set by id and by key (latest version), null clears it; administrators only, traced'), async (t) => {
    t.is((await c.admin.get(`/engine-rest/process-definition/${c.caller}`)).body.historyTimeToLive, 30, 'camunda:historyTimeToLive read at deployment');
    t.is((await c.office.put(`/engine-rest/process-definition/${c.caller}/history-time-to-live`, { historyTimeToLive: 5 })).status, 403);
    for (const bad of [-1, 1.5, '5']) {
      const r = await c.admin.put(`/engine-rest/process-definition/${c.caller}/history-time-to-live`, { historyTimeToLive: bad });
      t.is(r.status, 400);
      t.regex(r.body.message, /historyTimeToLive/);
    }
    t.is((await c.admin.put('/engine-rest/process-definition/no-such/history-time-to-live', { historyTimeToLive: 5 })).status, 404);
    t.is((await c.admin.put(`/engine-rest/process-definition/${c.caller}/history-time-to-live`, { historyTimeToLive: 7 })).status, 204);
    t.is((await c.admin.get(`/engine-rest/process-definition/${c.caller}`)).body.historyTimeToLive, 7);
    t.is((await c.admin.put('/engine-rest/process-definition/key/settings-callee/history-time-to-live', { historyTimeToLive: 3 })).status, 204);
    t.is((await c.admin.get(`/engine-rest/process-definition/${c.v2}`)).body.historyTimeToLive, 3);
    t.is((await c.admin.get(`/engine-rest/process-definition/${c.v1}`)).body.historyTimeToLive, null, 'only the latest version');
    t.is((await c.admin.put(`/engine-rest/process-definition/${c.caller}/history-time-to-live`, { historyTimeToLive: null })).status, 204);
    t.is((await c.admin.get(`/engine-rest/process-definition/${c.caller}`)).body.historyTimeToLive, null);
    const [op] = (await c.admin.get(`/engine-rest/history/user-operation?operationType=UpdateHistoryTimeToLive&entityType=ProcessDefinition`)).body;
    t.like(op, { userId: 'admin' });

    t.is((await c.office.put(`/engine-rest/decision-definition/${c.decision}/history-time-to-live`, { historyTimeToLive: 5 })).status, 403);
    t.is((await c.admin.put(`/engine-rest/decision-definition/${c.decision}/history-time-to-live`, { historyTimeToLive: 11 })).status, 204);
    t.is((await c.admin.get(`/engine-rest/decision-definition/${c.decision}`)).body.historyTimeToLive, 11);
    const key = (await c.admin.get(`/engine-rest/decision-definition/${c.decision}`)).body.key;
    t.is((await c.admin.put(`/engine-rest/decision-definition/key/${key}/history-time-to-live`, { historyTimeToLive: 12 })).status, 204);
    t.is((await c.admin.get(`/engine-rest/decision-definition/${c.decision}`)).body.historyTimeToLive, 12);
    t.is((await c.admin.put('/engine-rest/decision-definition/key/no-such/history-time-to-live', { historyTimeToLive: 1 })).status, 404);
  });

  test.serial(t('diagram: the image deployed beside the process, by id and key; 204 when none'), async (t) => {
    for (const url of [`/engine-rest/process-definition/${c.caller}/diagram`, '/engine-rest/process-definition/key/settings-caller/diagram']) {
      const r = await fetch(`${c.server.url}${url}`, { headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } });
      t.is(r.status, 200);
      t.is(r.headers.get('content-type'), 'image/png');
      t.deepEqual(Buffer.from(await r.arrayBuffer()), PNG);
    }
    t.is((await c.admin.get(`/engine-rest/process-definition/${c.v1}/diagram`)).status, 204);
    t.is((await c.admin.get('/engine-rest/process-definition/no-such/diagram')).status, 404);
  });

  test.serial(t('static-called-process-definitions: each bound definition once with its calling activities; an unbound key left out'), async (t) => {
    const r = await c.admin.get(`/engine-rest/process-definition/${c.caller}/static-called-process-definitions`);
    t.is(r.status, 200);
    const byId = Object.fromEntries(r.body.map((d: { id: string }) => [d.id, d]));
    t.deepEqual(Object.keys(byId).sort(), [c.v1, c.v2].sort());
    t.like(byId[c.v2], { key: 'settings-callee', version: 2, calledFromActivityIds: ['callAgain', 'callLatest'], callingProcessDefinitionId: c.caller });
    t.like(byId[c.v1], { version: 1, calledFromActivityIds: ['callFirst'] });
    t.deepEqual((await c.admin.get(`/engine-rest/process-definition/${c.v1}/static-called-process-definitions`)).body, []);
    t.is((await c.admin.get('/engine-rest/process-definition/no-such/static-called-process-definitions')).status, 404);
  });

  test.serial(t('deployment/registered: every deployment'), async (t) => {
    const r = await c.admin.get('/engine-rest/deployment/registered');
    t.is(r.status, 200);
    const all = (await c.admin.get('/engine-rest/deployment')).body.map((d: { id: string }) => d.id);
    t.deepEqual([...r.body].sort(), [...all].sort());
    t.is(r.body.length, 4, 'before the redeploy test');
  });

  test.serial(t('deployment/{id}/redeploy: a new deployment of the named resources (all by default), new versions; unknown resources 404'), async (t) => {
    const deploymentId = (await c.admin.get(`/engine-rest/process-definition/${c.caller}`)).body.deploymentId;
    const resources = (await c.admin.get(`/engine-rest/deployment/${deploymentId}/resources`)).body as { id: string; name: string }[];
    t.is((await c.office.post(`/engine-rest/deployment/${deploymentId}/redeploy`, {})).status, 403);
    t.is((await c.admin.post('/engine-rest/deployment/no-such/redeploy', {})).status, 404);
    t.is((await c.admin.post(`/engine-rest/deployment/${deploymentId}/redeploy`, { resourceNames: ['nothing.bpmn'] })).status, 404);
    t.is((await c.admin.post(`/engine-rest/deployment/${deploymentId}/redeploy`, { resourceIds: 'x' })).status, 400);
    const all = await c.admin.post(`/engine-rest/deployment/${deploymentId}/redeploy`, { source: 'again' });
    t.is(all.status, 200, JSON.stringify(all.body));
    t.like(all.body, { source: 'again' });
    t.not(all.body.id, deploymentId);
    const [def] = Object.values(all.body.deployedProcessDefinitions) as { key: string; version: number; id: string }[];
    t.like(def, { key: 'settings-caller', version: 2 });
    t.deepEqual((await c.admin.get(`/engine-rest/deployment/${all.body.id}/resources`)).body.map((r: { name: string }) => r.name).sort(), resources.map((r) => r.name).sort());
    const png = resources.find((r) => r.name.endsWith('.png'))!;
    const one = await c.admin.post(`/engine-rest/deployment/${deploymentId}/redeploy`, { resourceIds: [png.id] });
    t.is(one.status, 200);
    t.deepEqual((await c.admin.get(`/engine-rest/deployment/${one.body.id}/resources`)).body.map((r: { name: string }) => r.name), ['settings-caller.png']);
    t.is(one.body.deployedProcessDefinitions, null);
  });
}

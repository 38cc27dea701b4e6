import test from 'ava';
import { backends } from '../helpers/db.ts';
import { oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * DELETE /process-definition/{id} and /key/{key}: refused while instances
 * exist unless cascade; with cascade the instances go too; where running
 * instances have listeners this delete does not run, skipCustomListeners
 * must say to skip them.
 */

const process = (key: string, tag: string, listener = false) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="t">
  <bpmn:process id="${key}" isExecutable="true">
    <bpmn:startEvent id="s" />
    <bpmn:sequenceFlow id="f1" sourceRef="s" targetRef="work" />
    <bpmn:userTask id="work" camunda:candidateGroups="office">${listener ? `
      <bpmn:extensionElements><camunda:executionListener event="end"><camunda:script scriptFormat="javascript">execution.setVariable('x', 1)</camunda:script></camunda:executionListener></bpmn:extensionElements>` : ''}
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="e" />
    <bpmn:endEvent id="e" />
  </bpmn:process>
</bpmn:definitions><!-- ${tag} -->`;

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false });
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-dd', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const deploy = async (key: string, tag: string, listener = false) => (await c.server.services.deployments.deploy(oneResource(`${key}.bpmn`, Buffer.from(process(key, tag, listener))))).definitions[0]!.id;

  test.serial(t('by id: refused while instances exist without cascade; with cascade the instances go, the deployment stays, the version before is the latest again'), async (t) => {
    const v1 = await deploy('dd-one', '1');
    const v2 = await deploy('dd-one', '2');
    const pi = (await c.admin.post(`/engine-rest/process-definition/${v2}/start`, {})).body.id;
    t.is((await c.office.delete(`/engine-rest/process-definition/${v2}`)).status, 403);
    t.is((await c.admin.delete('/engine-rest/process-definition/no-such')).status, 404);
    const refused = await c.admin.delete(`/engine-rest/process-definition/${v2}`);
    t.is(refused.status, 409);
    t.regex(refused.body.message, /cascade/);
    t.is((await c.admin.get(`/engine-rest/process-definition/${v2}`)).status, 200, 'nothing deleted');
    const deploymentId = (await c.admin.get(`/engine-rest/process-definition/${v2}`)).body.deploymentId;
    t.is((await c.admin.delete(`/engine-rest/process-definition/${v2}?cascade=true`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/process-definition/${v2}`)).status, 404);
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${pi}`)).body.length, 0, 'its instances go with it');
    t.is((await c.admin.get(`/engine-rest/deployment/${deploymentId}`)).status, 200, 'the deployment stays');
    t.is((await c.admin.get('/engine-rest/process-definition/key/dd-one')).body.id, v1);
    const [op] = (await c.admin.get(`/engine-rest/history/user-operation?operationType=Delete&entityType=ProcessDefinition`)).body.filter((o: { entityId: string }) => o.entityId === v2);
    t.like(op, { userId: 'admin' });
    // No instances: no cascade needed.
    t.is((await c.admin.delete(`/engine-rest/process-definition/${v1}`)).status, 204);
    t.is((await c.admin.get('/engine-rest/process-definition/key/dd-one')).status, 404);
  });

  test.serial(t('by key: every version; running instances with custom listeners need skipCustomListeners'), async (t) => {
    const a = await deploy('dd-key', '1', true);
    const b = await deploy('dd-key', '2');
    await c.admin.post(`/engine-rest/process-definition/${a}/start`, {});
    t.is((await c.admin.delete('/engine-rest/process-definition/key/no-such-key?cascade=true')).status, 404);
    const listeners = await c.admin.delete('/engine-rest/process-definition/key/dd-key?cascade=true');
    t.is(listeners.status, 400);
    t.regex(listeners.body.message, /skipCustomListeners/);
    t.is((await c.admin.get(`/engine-rest/process-definition/${b}`)).status, 200, 'nothing deleted');
    t.is((await c.admin.delete('/engine-rest/process-definition/key/dd-key?cascade=true&skipCustomListeners=true')).status, 204);
    for (const id of [a, b]) t.is((await c.admin.get(`/engine-rest/process-definition/${id}`)).status, 404);
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { deployDmn } from '../helpers/decisions.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Decision history and deleting deployments, as Camunda 7 does: without
 * cascade a deployment's decisions go and their history stays; with cascade
 * their history goes too, and so does the decision history of the process
 * instances a cascade deletes.
 */

const string = (value: unknown) => ({ value, type: 'String' });
const integer = (value: unknown) => ({ value, type: 'Integer' });

const ordering = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="order-dish-defs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="order-dish" isExecutable="true" camunda:historyTimeToLive="30">
    <bpmn:startEvent id="start" />
    <bpmn:businessRuleTask id="choose" camunda:decisionRef="dish" camunda:mapDecisionResult="singleEntry" camunda:resultVariable="dish" />
    <bpmn:userTask id="serve" camunda:candidateGroups="office" />
    <bpmn:endEvent id="end" />
    <bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="choose" />
    <bpmn:sequenceFlow id="f1" sourceRef="choose" targetRef="serve" />
    <bpmn:sequenceFlow id="f2" sourceRef="serve" targetRef="end" />
  </bpmn:process>
</bpmn:definitions>
`);

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-del', ['office']) };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const count = async (query: string) => (await c.admin.get(`/engine-rest/history/decision-instance/count?${query}`)).body.count as number;
  const evaluate = (variables: Record<string, unknown>) => c.office.post('/engine-rest/decision-definition/key/dish/evaluate', { variables });

  test.serial(t('without cascade a deployment\'s decisions go and their history stays; with cascade it goes, with the decision history of the instances deleted'), async (t) => {
    const dmn = await deployDmn(c.server, 'dish', ['dish.dmn']);
    t.is(dmn.status, 200, JSON.stringify(dmn.body));
    const [def] = Object.values<any>(dmn.body.deployedDecisionDefinitions);
    t.is((await evaluate({ season: string('Winter'), guestCount: integer(3) })).status, 200);
    const bpmn = await deployDmn(c.server, 'order-dish', [['order-dish.bpmn', ordering]]);
    t.is(bpmn.status, 200, JSON.stringify(bpmn.body));
    const started = await c.admin.post('/engine-rest/process-definition/key/order-dish/start', { variables: { season: string('Winter'), guestCount: integer(3) } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const instance = started.body.id as string;
    t.is(await count(`processInstanceId=${instance}`), 1, 'the business rule task left its evaluation in history');
    t.is(await count('decisionDefinitionKey=dish'), 2);

    // Without cascade: the decision goes, its history (both evaluations) stays, as in Camunda.
    t.is((await c.admin.delete(`/engine-rest/deployment/${dmn.body.id}`)).status, 204);
    t.is((await c.admin.get(`/engine-rest/decision-definition/${def.id}`)).status, 404);
    const kept = (await c.admin.get('/engine-rest/history/decision-instance?decisionDefinitionKey=dish&includeOutputs=true')).body;
    t.is(kept.length, 2);
    t.true(kept.every((h: any) => h.decisionDefinitionId === def.id && h.outputs[0].value === 'Roastbeef'));
    const [deleted] = await c.server.db('trace').where({ operation: 'Delete', entity_type: 'Deployment', entity_id: dmn.body.id });
    t.like(deleted.details, { cascade: false, definitions: [], decisions: ['dish'] });

    // The process deployment with cascade: its instance goes, and the decision history it made with it.
    t.is((await c.admin.delete(`/engine-rest/deployment/${bpmn.body.id}?cascade=true`)).status, 204);
    t.is(await count(`processInstanceId=${instance}`), 0);
    t.is(await count('decisionDefinitionKey=dish'), 1, 'the evaluation over REST is no instance\'s: it stays');

    // A decision deployment with cascade: its history goes, older versions' history stays.
    const again = await deployDmn(c.server, 'dish-again', ['dish.dmn']);
    const [def2] = Object.values<any>(again.body.deployedDecisionDefinitions);
    t.is((await evaluate({ season: string('Summer'), guestCount: integer(2) })).status, 200);
    t.is(await count(`decisionDefinitionId=${def2.id}`), 1);
    t.is((await c.admin.delete(`/engine-rest/deployment/${again.body.id}?cascade=true`)).status, 204);
    t.is(await count(`decisionDefinitionId=${def2.id}`), 0);
    t.is(await count(`decisionDefinitionId=${def.id}`), 1);
    const [cascaded] = await c.server.db('trace').where({ operation: 'Delete', entity_type: 'Deployment', entity_id: again.body.id });
    t.like(cascaded.details, { cascade: true, decisions: ['dish'] });
  });
}

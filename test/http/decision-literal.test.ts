import fs from 'node:fs';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { deployDmn } from '../helpers/decisions.ts';
import { client, ADMIN, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Decision literal expressions and requirements graphs over Camunda 7's REST
 * (issue 15): evaluated by id and key with typed results, inside a process
 * through business rule tasks under each result mapping, and in history as
 * Camunda records them (no inputs, one output with no clause and no rule,
 * required decisions pointing at their root).
 */

const literalDmn = fs.readFileSync(new URL('../fixtures/dmn/literal.dmn', import.meta.url));

// Four business rule tasks over the `menu` literal expression, one per result mapping.
const menuProcess = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="menu-defs" targetNamespace="http://example.com/menu">
  <bpmn:process id="menuPlanning" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="asEntry" />
    <bpmn:businessRuleTask id="asEntry" camunda:decisionRef="menu" camunda:resultVariable="entry" camunda:mapDecisionResult="singleEntry" />
    <bpmn:sequenceFlow id="f2" sourceRef="asEntry" targetRef="asResult" />
    <bpmn:businessRuleTask id="asResult" camunda:decisionRef="menu" camunda:resultVariable="result" camunda:mapDecisionResult="singleResult" />
    <bpmn:sequenceFlow id="f3" sourceRef="asResult" targetRef="asEntries" />
    <bpmn:businessRuleTask id="asEntries" camunda:decisionRef="menu" camunda:resultVariable="entries" camunda:mapDecisionResult="collectEntries" />
    <bpmn:sequenceFlow id="f4" sourceRef="asEntries" targetRef="asList" />
    <bpmn:businessRuleTask id="asList" camunda:decisionRef="menu" camunda:resultVariable="list" />
    <bpmn:sequenceFlow id="f5" sourceRef="asList" targetRef="look" />
    <bpmn:userTask id="look" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f6" sourceRef="look" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
`);

const integer = (value: unknown) => ({ value, type: 'Integer' });
const out = (value: unknown, type: string) => ({ value, type, valueInfo: {} });

for (const backend of backends) {
  let c!: { server: TestServer; office: Client; admin: Client };
  test.before(async () => {
    const server = await startTestServer(backend, NO_PROCESSES);
    c = { server, office: await makeUser(server, 'office-lit', ['office']), admin: client(server.url, ADMIN.user, ADMIN.password) };
    const r = await deployDmn(server, 'literal', [['literal.dmn', literalDmn], ['menu.bpmn', menuProcess]]);
    if (r.status !== 200) throw new Error(`deploy: ${r.status} ${JSON.stringify(r.body)}`);
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const evaluate = (key: string, variables: Record<string, unknown>) => c.office.post(`/engine-rest/decision-definition/key/${key}/evaluate`, { variables });

  test.serial(t('a literal expression over REST: one result named by the variable, typed as Camunda types it (Integer, Double, String, Long untyped)'), async (t) => {
    const portions = await evaluate('portions', { guests: integer(4) });
    t.is(portions.status, 200, JSON.stringify(portions.body));
    t.deepEqual(portions.body, [{ portions: out(8, 'Integer') }]);
    t.deepEqual((await evaluate('ratio', { guests: integer(6) })).body, [{ ratio: out(1.5, 'Double') }]);
    // No typeRef: FEEL's whole number is a Long in Camunda (its value mapper), never an Integer.
    t.deepEqual((await evaluate('raw', { guests: integer(6) })).body, [{ raw: out(7, 'Long') }]);
    const [raw] = (await c.office.get('/engine-rest/history/decision-instance?decisionDefinitionKey=raw&includeOutputs=true')).body;
    t.deepEqual(raw.outputs.map((o: any) => [o.variableName, o.type, o.value]), [['raw', 'Long', 7]], 'history types it as the result does');
    t.deepEqual((await evaluate('season', { month: integer(7) })).body, [{ season: out('Summer', 'String') }]);
    const [def] = (await c.office.get('/engine-rest/decision-definition?key=greeting')).body;
    const byId = await c.office.post(`/engine-rest/decision-definition/${def.id}/evaluate`, { variables: { name: { value: 'wang', type: 'String' } } });
    t.deepEqual(byId.body, [{ greeting: out('Hello, WANG', 'String') }]);
    // A null value is still the one entry.
    t.deepEqual((await evaluate('portions', {})).body, [{ portions: { value: null, type: 'Null', valueInfo: {} } }]);
  });

  test.serial(t('a value the typeRef cannot take, or a JUEL name that is no variable, is a 400 naming the decision; nothing recorded'), async (t) => {
    const before = (await c.admin.get('/engine-rest/history/decision-instance/count')).body.count;
    const r = await evaluate('portions', { guests: { value: 1.25, type: 'Double' } });
    t.is(r.status, 400);
    t.regex(r.body.message, /DMN-01005/);
    const juel = await evaluate('season', {});
    t.is(juel.status, 400);
    t.regex(juel.body.message, /month/);
    t.is((await c.admin.get('/engine-rest/history/decision-instance/count')).body.count, before);
  });

  test.serial(t('a requirements graph over REST: required decisions first, their results inputs by name; history a row per decision pointing at the root'), async (t) => {
    const r = await evaluate('menu', { month: integer(12), guests: integer(2) });
    t.deepEqual(r.body, [{ menu: out('4 x Stew', 'String') }]);
    const [root] = (await c.office.get('/engine-rest/history/decision-instance?decisionDefinitionKey=menu&includeInputs=true&includeOutputs=true&sortBy=evaluationTime&sortOrder=desc&maxResults=1')).body;
    t.like(root, { rootDecisionInstanceId: null, decisionRequirementsDefinitionKey: 'literalDefinitions', collectResultValue: null, inputs: [] });
    t.truthy(root.decisionRequirementsDefinitionId);
    t.is(root.outputs.length, 1);
    t.like(root.outputs[0], { clauseId: null, clauseName: null, ruleId: null, ruleOrder: null, variableName: 'menu', type: 'String', value: '4 x Stew', decisionInstanceId: root.id });
    const graph = (await c.office.get(`/engine-rest/history/decision-instance?rootDecisionInstanceId=${root.id}&includeInputs=true&includeOutputs=true`)).body;
    const byKey = Object.fromEntries(graph.map((g: any) => [g.decisionDefinitionKey, g]));
    t.deepEqual(Object.keys(byKey).sort(), ['dish', 'menu', 'portions', 'season']);
    for (const key of ['dish', 'portions', 'season']) t.is(byKey[key].rootDecisionInstanceId, root.id, key);
    t.deepEqual(byKey.season.outputs.map((o: any) => [o.clauseId, o.variableName, o.type, o.value]), [[null, 'season', 'String', 'Winter']]);
    t.deepEqual(byKey.portions.outputs.map((o: any) => [o.variableName, o.type, o.value]), [['portions', 'Integer', 4]]);
    t.deepEqual(byKey.dish.inputs.map((i: any) => [i.clauseId, i.type, i.value]), [['dishSeason', 'String', 'Winter']]);
    t.deepEqual(byKey.dish.outputs.map((o: any) => [o.clauseId, o.ruleId, o.ruleOrder, o.value]), [['dishOutput', 'winterRule', 1, 'Stew']]);
    t.is((await c.office.get(`/engine-rest/history/decision-instance/count?rootDecisionInstanceId=${root.id}`)).body.count, 4);
  });

  test.serial(t('inside a process: each result mapping of a literal expression as Camunda maps it; history names the instance and task'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/menuPlanning/start', { variables: { month: integer(7), guests: integer(5) } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const vars = (await c.office.get(`/engine-rest/process-instance/${started.body.id}/variables`)).body;
    const value = (name: string) => (vars[name].type === 'Json' ? JSON.parse(vars[name].value) : vars[name].value);
    t.is(value('entry'), '10 x Salad');
    t.deepEqual(value('result'), { menu: '10 x Salad' });
    t.deepEqual(value('entries'), ['10 x Salad']);
    t.deepEqual(value('list'), [{ menu: '10 x Salad' }]);
    const rows = (await c.office.get(`/engine-rest/history/decision-instance?processInstanceId=${started.body.id}&rootDecisionInstancesOnly=true&includeOutputs=true`)).body;
    t.deepEqual(rows.map((h: any) => h.activityId).sort(), ['asEntries', 'asEntry', 'asList', 'asResult']);
    t.true(rows.every((h: any) => h.decisionDefinitionKey === 'menu' && h.outputs[0].value === '10 x Salad' && h.outputs[0].clauseId === null));
    t.is((await c.office.get(`/engine-rest/history/decision-instance/count?processInstanceId=${started.body.id}`)).body.count, 16, 'four decisions per evaluation');
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

const NS = `xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI"
  xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" targetNamespace="t"`;

/** A process whose one task is `task` (an element of the given XML), with a none start and end around it. */
function diagram(key: string, task: string, extra = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="d_${key}">
  <bpmn:process id="${key}" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    ${task}
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />${extra}
  </bpmn:process>
</bpmn:definitions>`;
}

/** A Signavio-style export: the pool points at the process's old id, and DI names elements that are gone. */
const signavio = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions ${NS} id="sig">
  <bpmn:collaboration id="collab">
    <bpmn:participant id="pool" name="办公室 / Office" processRef="sid-OLD-PROCESS-ID" />
  </bpmn:collaboration>
  <bpmn:process id="renamed-process" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="work" />
    <bpmn:userTask id="work" name="登记 / Register" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f2" sourceRef="work" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="sid-OLD-PROCESS-ID">
      <bpmndi:BPMNShape id="shape_work" bpmnElement="work"><dc:Bounds x="0" y="0" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNShape id="shape_gone" bpmnElement="deletedTask"><dc:Bounds x="200" y="0" width="100" height="80" /></bpmndi:BPMNShape>
      <bpmndi:BPMNEdge id="edge_gone" bpmnElement="deletedFlow" />
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;

/** Each construct that cannot run here, and the element the refusal must name. */
const refused: { what: string; element: string; xml: string; reason: RegExp }[] = [
  { what: 'camunda:class on a service task', element: 'work', xml: diagram('r-class', '<bpmn:serviceTask id="work" camunda:class="org.example.Mail" />'), reason: /camunda:class/ },
  { what: 'camunda:delegateExpression', element: 'work', xml: diagram('r-delegate', '<bpmn:serviceTask id="work" camunda:delegateExpression="${mailer}" />'), reason: /delegateExpression/ },
  { what: 'camunda:expression on a service task', element: 'work', xml: diagram('r-expr', '<bpmn:serviceTask id="work" camunda:expression="${mailer.send()}" />'), reason: /camunda:expression/ },
  { what: 'a service task with no implementation', element: 'work', xml: diagram('r-none', '<bpmn:serviceTask id="work" />'), reason: /no implementation/ },
  { what: 'a send task with no implementation', element: 'work', xml: diagram('r-send', '<bpmn:sendTask id="work" />'), reason: /no implementation/ },
  { what: 'a DMN business rule task binding a version it does not name', element: 'work', xml: diagram('r-dmn', '<bpmn:businessRuleTask id="work" camunda:decisionRef="risk" camunda:decisionRefBinding="version" />'), reason: /decisionRefVersion/ },
  { what: 'a connector', element: 'work', xml: diagram('r-connector', '<bpmn:serviceTask id="work"><bpmn:extensionElements><camunda:connector><camunda:connectorId>http-connector</camunda:connectorId></camunda:connector></bpmn:extensionElements></bpmn:serviceTask>'), reason: /connector/ },
  { what: 'an execution listener with a class', element: 'work', xml: diagram('r-el-class', '<bpmn:userTask id="work"><bpmn:extensionElements><camunda:executionListener class="org.example.L" event="start" /></bpmn:extensionElements></bpmn:userTask>'), reason: /execution listener/ },
  { what: 'an execution listener with an expression', element: 'work', xml: diagram('r-el-expr', '<bpmn:userTask id="work"><bpmn:extensionElements><camunda:executionListener expression="${x.y()}" event="end" /></bpmn:extensionElements></bpmn:userTask>'), reason: /execution listener/ },
  { what: 'a task listener with a delegateExpression', element: 'work', xml: diagram('r-tl', '<bpmn:userTask id="work"><bpmn:extensionElements><camunda:taskListener delegateExpression="${l}" event="create" /></bpmn:extensionElements></bpmn:userTask>'), reason: /task listener/ },
  { what: 'a take listener on a sequence flow calling a method off the allow-list', element: 'f3', xml: diagram('r-take', '<bpmn:userTask id="work" />', '<bpmn:sequenceFlow id="f3" sourceRef="work" targetRef="end"><bpmn:extensionElements><camunda:executionListener expression="${a.b()}" event="take" /></bpmn:extensionElements></bpmn:sequenceFlow>'), reason: /invalid expression in the take execution listener/ },
  { what: 'a call activity whose called element is an expression', element: 'work', xml: diagram('r-call', '<bpmn:callActivity id="work" calledElement="${which}" />'), reason: /calledElement expression/ },
  { what: 'a conditional event inside a multi-instance sub-process', element: 'ce', xml: diagram('r-cond', '<bpmn:subProcess id="work"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics><bpmn:startEvent id="s2" /><bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="ce" /><bpmn:intermediateCatchEvent id="ce"><bpmn:conditionalEventDefinition><bpmn:condition>${ok}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent></bpmn:subProcess>'), reason: /conditional/ },
  { what: 'a compensation throw naming an activity without a handler', element: 'work', xml: diagram('r-comp', '<bpmn:intermediateThrowEvent id="work"><bpmn:compensateEventDefinition activityRef="start" /></bpmn:intermediateThrowEvent>'), reason: /without a compensation boundary event/ },
  { what: 'a message throw event implemented by camunda:class', element: 'work', xml: diagram('r-msg-class', '<bpmn:intermediateThrowEvent id="work"><bpmn:messageEventDefinition camunda:class="org.example.Send" /></bpmn:intermediateThrowEvent>'), reason: /camunda:class/ },
  { what: 'a sequence flow to a missing element', element: 'f1', xml: diagram('r-dangling', '<bpmn:userTask id="work" />').replace('targetRef="work"', 'targetRef="nowhere"'), reason: /unresolved reference/ },
];

function form(name: string, xml: string): FormData {
  const f = new FormData();
  f.append('deployment-name', name);
  f.append(name, new Blob([xml]), name);
  return f;
}

for (const backend of backends) {
  let server!: TestServer;
  let admin!: Client;
  const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
  test.before(async () => {
    server = await startTestServer(backend);
    admin = client(server.url, ADMIN.user, ADMIN.password);
  });
  test.after.always(async () => server?.stop());
  const deploy = async (name: string, xml: string) => {
    const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form(name, xml), headers: { Authorization: basic } });
    return { status: res.status, body: await res.json() as any };
  };

  test.serial(`${backend.name}: a participant and DI pointing at missing elements deploy with warnings, and the instance runs`, async (t) => {
    const { status, body } = await deploy('signavio.bpmn', signavio);
    t.is(status, 200, JSON.stringify(body));
    const warnings = body.deploymentWarnings['signavio.bpmn'] as { message: string; mainElementId: string | null; line: number | null }[];
    t.deepEqual(warnings.map((w) => w.mainElementId).sort(), ['edge_gone', 'plane', 'pool', 'shape_gone']);
    t.true(warnings.every((w) => /unresolved reference/.test(w.message) && w.line != null));
    const [definitionId] = Object.keys(body.deployedProcessDefinitions);
    const started = await admin.post(`/engine-rest/process-definition/${definitionId}/start`, {});
    t.is(started.status, 200);
    const tasks = (await admin.get(`/engine-rest/task?processInstanceId=${started.body.id}`)).body;
    t.deepEqual(tasks.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['work']);
    t.is((await admin.post(`/engine-rest/task/${tasks[0].id}/complete`, {})).status, 204);
    t.is((await admin.get(`/engine-rest/process-instance/count?processInstanceIds=${started.body.id}`)).body.count, 0, 'the instance ended');
    // A clean diagram's answer carries no warnings field: the Camunda shape is unchanged.
    const clean = await deploy('clean.bpmn', diagram('clean', '<bpmn:userTask id="work" />'));
    t.is(clean.status, 200);
    t.false('deploymentWarnings' in clean.body);
  });

  test.serial(`${backend.name}: a timer start with Quartz increments and a year field deploys (Signavio's form)`, async (t) => {
    for (const cycle of ['0/5 0/1 * 1/1 * ? *', '0/5 0/1 * 1/1 * ?', '0 0 12 ? * 6L 2030-2040']) {
      const xml = diagram(`quartz${cycle.length}`, '<bpmn:userTask id="work" />')
        .replace('<bpmn:startEvent id="start" />', `<bpmn:startEvent id="start"><bpmn:timerEventDefinition><bpmn:timeCycle>${cycle}</bpmn:timeCycle></bpmn:timerEventDefinition></bpmn:startEvent>`);
      const { status, body } = await deploy('quartz.bpmn', xml);
      t.is(status, 200, `${cycle}: ${JSON.stringify(body)}`);
    }
  });

  for (const c of refused) {
    test.serial(`${backend.name}: refused at deployment, naming the element: ${c.what}`, async (t) => {
      const before = (await admin.get('/engine-rest/deployment/count')).body.count;
      const { status, body } = await deploy('refused.bpmn', c.xml);
      t.is(status, 400, JSON.stringify(body));
      t.is(body.type, 'ParseException');
      t.true(body.message.startsWith('ENGINE-09005'));
      const errors = body.details['refused.bpmn'].errors as { message: string; mainElementId: string }[];
      t.true(errors.some((e) => e.mainElementId === c.element && c.reason.test(e.message)), JSON.stringify(errors));
      t.is((await admin.get('/engine-rest/deployment/count')).body.count, before, 'nothing written');
    });
  }
}

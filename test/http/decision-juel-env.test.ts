import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { deployDmn } from '../helpers/decisions.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * JUEL inside a decision sees who evaluates and when, as Camunda 7's does:
 * currentUser() is the caller over REST, now() and dateTime() the server's
 * clock (injected here) in its TIMEZONE.
 */

const stamped = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="stamp-defs" name="Stamp" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="stamp" name="Stamp">
    <decisionTable id="stampTable" hitPolicy="FIRST">
      <input id="noteInput" label="Note">
        <inputExpression id="noteExpr" typeRef="string" expressionLanguage="juel"><text>\${note}</text></inputExpression>
      </input>
      <output id="byOutput" name="by" typeRef="string" />
      <output id="signedOutput" name="signed" typeRef="string" />
      <output id="yearOutput" name="year" typeRef="integer" />
      <output id="hourOutput" name="hour" typeRef="integer" />
      <output id="millisOutput" name="millis" typeRef="long" />
      <rule id="always">
        <inputEntry id="anyNote"><text></text></inputEntry>
        <outputEntry id="byEntry" expressionLanguage="juel"><text>\${currentUser()}</text></outputEntry>
        <outputEntry id="signedEntry" expressionLanguage="juel"><text>\${note} by \${currentUser()}</text></outputEntry>
        <outputEntry id="yearEntry" expressionLanguage="juel"><text>\${dateTime().getYear()}</text></outputEntry>
        <outputEntry id="hourEntry" expressionLanguage="juel"><text>\${dateTime().getHourOfDay()}</text></outputEntry>
        <outputEntry id="millisEntry" expressionLanguage="juel"><text>\${now().getTime()}</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
</definitions>
`);

// A business rule task over the same table: the run's user, clock and zone reach the table's JUEL.
const stamping = Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="stamping-defs" targetNamespace="http://example.com/stamping">
  <bpmn:process id="stamping" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="stampIt" />
    <bpmn:businessRuleTask id="stampIt" camunda:decisionRef="stamp" camunda:resultVariable="stamped" camunda:mapDecisionResult="singleResult" />
    <bpmn:sequenceFlow id="f2" sourceRef="stampIt" targetRef="look" />
    <bpmn:userTask id="look" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f3" sourceRef="look" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>
`);

// 03:30 UTC on New Year's Day is still the evening before in New York.
const AT = new Date('2030-01-01T03:30:00Z');

for (const backend of backends) {
  let c!: { server: TestServer; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend, { ...NO_PROCESSES, TIMEZONE: 'America/New_York' }, { clock: new ManualClock(AT) });
    c = { server, office: await makeUser(server, 'alice', ['office']) };
    const r = await deployDmn(server, 'stamp', [['stamp.dmn', stamped], ['stamping.bpmn', stamping]]);
    if (r.status !== 200) throw new Error(`deploy: ${r.status} ${JSON.stringify(r.body)}`);
  });
  test.after.always(async () => c?.server.stop());

  test.serial(`${backend.name}: JUEL in a decision evaluated over REST sees the caller as currentUser(), the server's clock and zone in now() and dateTime()`, async (t) => {
    const r = await c.office.post('/engine-rest/decision-definition/key/stamp/evaluate', { variables: { note: { value: 'ok', type: 'String' } } });
    t.is(r.status, 200, JSON.stringify(r.body));
    const [result] = r.body;
    t.is(result.by.value, 'alice');
    t.is(result.signed.value, 'ok by alice');
    t.is(result.year.value, 2029);
    t.is(result.hour.value, 22);
    t.is(result.millis.value, AT.getTime());
    const admin = client(c.server.url, ADMIN.user, ADMIN.password);
    const again = await admin.post('/engine-rest/decision-definition/key/stamp/evaluate', { variables: { note: { value: 'ok', type: 'String' } } });
    t.is(again.body[0].by.value, ADMIN.user);
  });

  test.serial(`${backend.name}: JUEL in a decision a business rule task evaluates sees the starting user as currentUser(), the server's clock and zone`, async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/stamping/start', { variables: { note: { value: 'filed', type: 'String' } } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const v = await c.office.get(`/engine-rest/process-instance/${started.body.id}/variables/stamped`);
    t.is(v.status, 200, JSON.stringify(v.body));
    const stampedValue = typeof v.body.value === 'string' ? JSON.parse(v.body.value) : v.body.value;
    t.is(stampedValue.by, 'alice');
    t.is(stampedValue.signed, 'filed by alice');
    t.is(stampedValue.year, 2029);
    t.is(stampedValue.hour, 22);
    t.is(stampedValue.millis, AT.getTime());
  });
}

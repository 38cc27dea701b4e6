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

// 03:30 UTC on New Year's Day is still the evening before in New York.
const AT = new Date('2030-01-01T03:30:00Z');

for (const backend of backends) {
  let c!: { server: TestServer; office: Client };
  test.before(async () => {
    const server = await startTestServer(backend, { ...NO_PROCESSES, TIMEZONE: 'America/New_York' }, { clock: new ManualClock(AT) });
    c = { server, office: await makeUser(server, 'alice', ['office']) };
    const r = await deployDmn(server, 'stamp', [['stamp.dmn', stamped]]);
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
}

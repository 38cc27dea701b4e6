import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { assertRefusedFixture, json } from './helpers.ts';
import { complete, conformanceSuite, openKeys } from './events-kit.ts';
import { ADMIN, type TestServer } from '../helpers/server.ts';

/*
 * JUEL as Camunda 7 evaluates it (issue 15), evaluated by the server: each
 * expression of the table is an output parameter of a user task, resolved
 * when an office user completes it, and read back over REST from the
 * variables the completion saved; a gateway chooses by method calls; and
 * every call off the allow-list is refused at deployment, element named.
 * Examples from the Camunda 7 manual (user guide, expression language) and
 * from the models people write.
 */

const CLOCK = new Date('2026-03-30T22:15:00Z'); // 06:15 on 31 March in the server's zone, Asia/Shanghai

/** [expression, the value the variable holds afterwards (a Date compared by its instant)]. */
const TABLE: [string, unknown][] = [
  ["${status.equals('ok')}", true],
  ['${status.equals("OK")}', false],
  ["${status.equalsIgnoreCase('OK')}", true],
  ["${execution.getVariable('status') != null}", true],
  ["${execution.getVariable('missing') == null}", true],
  ["${execution.hasVariable('reviewers')}", true],
  ['${dateTime().plusWeeks(1).toDate()}', new Date('2026-04-06T22:15:00Z')],
  ['${dateTime().withTimeAtStartOfDay().plusHours(9).toDate()}', new Date('2026-03-31T01:00:00Z')],
  ["${dateTime().minusMonths(1).toString('yyyy-MM-dd HH:mm Z')}", '2026-02-28 06:15 +0800'],
  ['${now()}', CLOCK],
  ['${now().before(dateTime().plusDays(1).toDate())}', true],
  ['${dateTime().toDate().getTime() == now().getTime()}', true],
  ['${reviewers.size() > 2}', true],
  ["${reviewers.contains('bob')}", true],
  ['${reviewers.get(0)}', 'ann'],
  ['${reviewers[1]}', 'bob'],
  ["${order.get('customer').get('name').toUpperCase()}", 'ACME'],
  ["${order['customer'].name}", 'Acme'],
  ["${order.containsKey('lines') ? order.get('lines').size() : 0}", 2],
  ['${order.keySet().size()}', 2],
  ['${text.trim().length()}', 5],
  ["${text.contains('ll') ? 'yes' : 'no'}", 'yes'],
  ["${text.trim().substring(1, 3)}", 'el'],
  ["${code.matches('[A-Z]{2}-\\\\d+')}", true],
  ["${code.startsWith('CN') and code.indexOf('-') eq 2}", true],
  ['${amount.intValue()}', 12],
  ['${amount div 2 > 6 && 10 mod 3 eq 1}', true],
  ["${empty order.get('none') and not status.isEmpty()}", true],
  ['${amount.compareTo(20) lt 0 ? "small" : "large"}', 'small'],
  ['${currentUser()}', 'juel-office'],
  ["${currentUserGroups().contains('office')}", true],
  ['${authenticatedUserId}', 'juel-office'],
  ['${execution.processBusinessKey}', 'BK-7'],
  ['${execution.getProcessBusinessKey().concat(\'/\').concat(execution.getActivityId())}', 'BK-7/fill'],
  ['${execution.getProcessInstanceId() == execution.processInstanceId}', true],
];

const xmlText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function diagram(): string {
  const outputs = TABLE.map(([expr], i) => `<camunda:outputParameter name="r${i}">${xmlText(expr)}</camunda:outputParameter>`).join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="juelDefs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="juel-methods" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="fill" />
    <bpmn:userTask id="fill" camunda:candidateGroups="office">
      <bpmn:extensionElements><camunda:inputOutput>
        ${outputs}
        <camunda:outputParameter name="touched">\${execution.setVariable('setByExecution', status.concat('!'))}</camunda:outputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="fill" targetRef="route" />
    <bpmn:exclusiveGateway id="route" />
    <bpmn:sequenceFlow id="toMany" sourceRef="route" targetRef="many"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${reviewers.size() &gt; 2 &amp;&amp; setByExecution.equals('ok!')}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toFew" sourceRef="route" targetRef="few"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${!(reviewers.size() &gt; 2 &amp;&amp; setByExecution.equals('ok!'))}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="many" camunda:candidateGroups="office" />
    <bpmn:userTask id="few" camunda:candidateGroups="office" />
  </bpmn:process>
  <bpmn:process id="juel-failing" isExecutable="true">
    <bpmn:startEvent id="s2" />
    <bpmn:sequenceFlow id="g1" sourceRef="s2" targetRef="wrongType" />
    <bpmn:userTask id="wrongType" camunda:candidateGroups="office">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:outputParameter name="n">\${status.size()}</camunda:outputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="g2" sourceRef="wrongType" targetRef="e2" />
    <bpmn:endEvent id="e2" />
  </bpmn:process>
  <bpmn:process id="juel-caller" isExecutable="true">
    <bpmn:startEvent id="s3" />
    <bpmn:sequenceFlow id="h1" sourceRef="s3" targetRef="call" />
    <bpmn:callActivity id="call" calledElement="juel-child">
      <bpmn:extensionElements>
        <camunda:in sourceExpression="\${currentUser().concat('@').concat(dateTime().toString('yyyy'))}" target="who" />
      </bpmn:extensionElements>
    </bpmn:callActivity>
    <bpmn:sequenceFlow id="h2" sourceRef="call" targetRef="e3" />
    <bpmn:endEvent id="e3" />
  </bpmn:process>
  <bpmn:process id="juel-condition" isExecutable="true">
    <bpmn:startEvent id="mine">
      <bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">\${currentUserGroups().contains('office') &amp;&amp; kind.equalsIgnoreCase('LEAVE')}</bpmn:condition></bpmn:conditionalEventDefinition>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="m1" sourceRef="mine" targetRef="leave" />
    <bpmn:userTask id="leave" camunda:candidateGroups="office" />
  </bpmn:process>
  <bpmn:process id="juel-listeners" isExecutable="true">
    <bpmn:startEvent id="s5" />
    <bpmn:sequenceFlow id="n1" sourceRef="s5" targetRef="listened" />
    <bpmn:userTask id="listened" camunda:candidateGroups="office" camunda:assignee="\${startedBy}">
      <bpmn:extensionElements>
        <camunda:executionListener event="start" expression="\${execution.setVariable('startedBy', currentUser())}" />
        <camunda:executionListener event="end" expression="\${execution.setVariable('note', execution.getVariable('note').concat('/').concat(execution.getActivityId()))}" />
      </bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="n2" sourceRef="listened" targetRef="after" />
    <bpmn:exclusiveGateway id="after" />
    <bpmn:sequenceFlow id="n3" sourceRef="after" targetRef="noted"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${note.endsWith('/listened')}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="n4" sourceRef="after" targetRef="plain"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${!note.endsWith('/listened')}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="noted" camunda:candidateGroups="office" />
    <bpmn:userTask id="plain" camunda:candidateGroups="office" />
  </bpmn:process>
  <bpmn:process id="juel-child" isExecutable="true">
    <bpmn:startEvent id="s4" />
    <bpmn:sequenceFlow id="k1" sourceRef="s4" targetRef="childTask" />
    <bpmn:userTask id="childTask" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="k2" sourceRef="childTask" targetRef="e4" />
    <bpmn:endEvent id="e4" />
  </bpmn:process>
</bpmn:definitions>`;
}

async function deployXml(server: TestServer, name: string, xml: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('deployment-name', name);
  form.append(`${name}.bpmn`, new Blob([xml]), `${name}.bpmn`);
  const res = await fetch(`${server.url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  return { status: res.status, body: await res.json() };
}

conformanceSuite([], 'juel', (c, t) => {
  test.serial(t('the manual\'s expressions evaluate as in Camunda 7; execution.setVariable is saved with the completion and steers the gateway'), async (t) => {
    const deployed = await deployXml(c.server, 'juel-methods', diagram());
    t.is(deployed.status, 200, JSON.stringify(deployed.body));
    const started = await c.office.post('/engine-rest/process-definition/key/juel-methods/start', {
      businessKey: 'BK-7',
      variables: {
        status: { value: 'ok' }, text: { value: '  Hello  ' }, code: { value: 'CN-2026' }, amount: { value: 12.75, type: 'Double' },
        reviewers: json(['ann', 'bob', 'cy']), order: json({ customer: { name: 'Acme' }, lines: [1, 2] }),
      },
    });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    await complete(c, id, 'fill');
    t.deepEqual(await openKeys(c, id), ['many'], 'the gateway read what execution.setVariable wrote');
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body as Record<string, { type: string; value: unknown }>;
    TABLE.forEach(([expr, expected], i) => {
      const got = vars[`r${i}`];
      if (expected instanceof Date) {
        t.is(got?.type, 'Date', expr);
        t.is(new Date(String(got?.value)).getTime(), expected.getTime(), expr);
      } else {
        t.is(got?.value, expected, expr);
      }
    });
    t.is(vars['setByExecution']?.value, 'ok!', 'execution.setVariable wrote a process variable');
    t.is(vars['touched']?.type, 'Null', 'setVariable returns nothing');
  });

  test.serial(t('a method the value\'s type lacks fails the completion with 400 naming the expression; nothing is saved'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/juel-failing/start', { variables: { status: { value: 'ok' } } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: {} });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /String has no method size\(\)/);
    t.regex(r.body.message, /status\.size\(\)/);
    t.deepEqual(await openKeys(c, id), ['wrongType'], 'the task is still open');
  });

  test.serial(t('a call activity\'s camunda:in sourceExpression sees the run\'s user and clock'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/juel-caller/start', { variables: {} });
    t.is(started.status, 200, JSON.stringify(started.body));
    const [child] = (await c.admin.get(`/engine-rest/process-instance?superProcessInstance=${started.body.id}`)).body;
    const vars = (await c.admin.get(`/engine-rest/process-instance/${child.id}/variables`)).body;
    t.is(vars.who?.value, 'juel-office@2026');
  });

  test.serial(t('POST /condition evaluates a condition with the caller as currentUser()'), async (t) => {
    const mine = await c.office.post('/engine-rest/condition', { variables: { kind: { value: 'leave' } } });
    t.is(mine.status, 200, JSON.stringify(mine.body));
    t.deepEqual(mine.body.map((i: { definitionId: string }) => i.definitionId.split(':')[0]), ['juel-condition']);
    const admin = await c.admin.post('/engine-rest/condition', { variables: { kind: { value: 'leave' } } });
    t.is(admin.status, 200, JSON.stringify(admin.body));
    t.deepEqual(admin.body, [], 'the administrator is not in the office group');
  });

  test.serial(t('start and end execution listeners in expression form run execution.setVariable, saved with the command'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/juel-listeners/start', { variables: { note: { value: 'n' } } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(task.assignee, 'juel-office', 'the start listener set startedBy before the assignee was resolved');
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/startedBy`)).body.value, 'juel-office');
    await complete(c, id, 'listened');
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/note`)).body.value, 'n/listened');
    t.deepEqual(await openKeys(c, id), ['noted'], 'the end listener ran before the gateway chose');
  });

  test.serial(t('a failing listener expression fails the command with 400, nothing saved'), async (t) => {
    const r = await c.office.post('/engine-rest/process-definition/key/juel-listeners/start', { variables: {} });
    t.is(r.status, 200, 'no note yet: the start listener does not read it');
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    const done = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: {} });
    t.is(done.status, 400, JSON.stringify(done.body));
    t.regex(done.body.message, /listened: Cannot call concat\(\) on null/);
    t.deepEqual(await openKeys(c, r.body.id), ['listened']);
  });

  test.serial(t('every call off the allow-list is refused at deployment, expression and element named'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'juel-refused', [
      ['fClass', /getClass\(\) is not on the allow-list[^|]*x\.getClass\(\)/],
      ['fOther', /hashCode\(\) is not on the allow-list/],
      ['bean', /call\(\) is not on the allow-list[^|]*myService\.call\(\)/],
      ['engine', /getProcessEngineServices\(\) is not on the allow-list/],
      ['function', /eval\(\) is not one of the built-in functions/],
      ['arity', /equals\(\) takes 1 arguments, not 2/],
      ['ctor', /constructor\(\) is not on the allow-list/],
      ['waiting', /wait\(\) is not on the allow-list/],
      ['regex', /exponential/],
      ['javaRegex', /\\p is not supported/],
      ['dates', /plusDays\(\) takes 1 arguments, not 2/],
      ['f10', /invalid expression in the take execution listener: [^|]*getProcessEngine\(\) is not on the allow-list/],
      ['listenerCall', /invalid expression in the start execution listener: Method getClass\(\)/],
    ]);
  });
}, () => new ManualClock(CLOCK));

import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { deployXml } from './helpers.ts';
import { complete, conformanceSuite, openKeys } from './events-kit.ts';

/*
 * A process variable of type Date reaches expressions as a Date, as Camunda
 * passes a java.util.Date: its methods, comparison with now() on the injected
 * clock, and what an expression writes back is again a Date variable. The
 * variable is given over REST with type Date, at the start and at a completion.
 */

const CLOCK = new Date('2026-03-30T22:15:00Z');

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="datesDefs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="juel-dates" isExecutable="true">
    <bpmn:startEvent id="start" />
    <bpmn:sequenceFlow id="f1" sourceRef="start" targetRef="route" />
    <bpmn:exclusiveGateway id="route" />
    <bpmn:sequenceFlow id="toLater" sourceRef="route" targetRef="later"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${due.after(now())}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toOverdue" sourceRef="route" targetRef="overdue"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${due &lt; now()}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="later" camunda:candidateGroups="office" camunda:dueDate="\${due}">
      <bpmn:extensionElements><camunda:inputOutput>
        <camunda:outputParameter name="millis">\${due.getTime()}</camunda:outputParameter>
        <camunda:outputParameter name="overdue">\${due &lt; now()}</camunda:outputParameter>
        <camunda:outputParameter name="copy">\${due}</camunda:outputParameter>
        <camunda:outputParameter name="daysLeft">\${(due.getTime() - now().getTime()) div 86400000}</camunda:outputParameter>
        <camunda:outputParameter name="newer">\${checked.after(due)}</camunda:outputParameter>
        <camunda:outputParameter name="viaExecution">\${execution.getVariable('due').before(dateTime().plusDays(3).toDate())}</camunda:outputParameter>
        <camunda:outputParameter name="set">\${execution.setVariable('alsoDue', execution.getVariable('due'))}</camunda:outputParameter>
      </camunda:inputOutput></bpmn:extensionElements>
    </bpmn:userTask>
    <bpmn:sequenceFlow id="f2" sourceRef="later" targetRef="again" />
    <bpmn:exclusiveGateway id="again" />
    <bpmn:sequenceFlow id="toCopy" sourceRef="again" targetRef="copied"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${copy.equals(due) &amp;&amp; alsoDue.getTime() == millis}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="toOther" sourceRef="again" targetRef="other"><bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">\${!(copy.equals(due) &amp;&amp; alsoDue.getTime() == millis)}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="copied" camunda:candidateGroups="office" />
    <bpmn:userTask id="other" camunda:candidateGroups="office" />
    <bpmn:userTask id="overdue" camunda:candidateGroups="office" />
  </bpmn:process>
  <bpmn:process id="juel-dates-condition" isExecutable="true">
    <bpmn:startEvent id="late">
      <bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">\${due.before(now())}</bpmn:condition></bpmn:conditionalEventDefinition>
    </bpmn:startEvent>
    <bpmn:sequenceFlow id="c1" sourceRef="late" targetRef="chase" />
    <bpmn:userTask id="chase" camunda:candidateGroups="office" />
  </bpmn:process>
</bpmn:definitions>`;

const date = (iso: string) => ({ value: iso, type: 'Date' });

conformanceSuite([], 'jueldates', (c, t) => {
  test.serial(t('a Date variable given over REST is a Date in expressions: after(now()) steers the gateway, getTime(), < now(), and what is written back stays a Date'), async (t) => {
    const deployed = await deployXml(c.server, 'juel-dates', XML);
    t.is(deployed.status, 200, JSON.stringify(deployed.body));
    const due = '2026-04-01T10:15:00.000+0800'; // 2026-04-01T02:15Z, 28 hours after the clock
    const started = await c.office.post('/engine-rest/process-definition/key/juel-dates/start', { variables: { due: date(due) } });
    t.is(started.status, 200, JSON.stringify(started.body));
    const id = started.body.id;
    t.deepEqual(await openKeys(c, id), ['later']);
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.is(new Date(task.due).getTime(), Date.parse('2026-04-01T02:15:00Z'));
    const r = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: { checked: date('2026-04-02T00:00:00.000+0800') } });
    t.is(r.status, 204, JSON.stringify(r.body));
    const vars = (await c.admin.get(`/engine-rest/process-instance/${id}/variables`)).body;
    t.is(vars.millis.value, Date.parse('2026-04-01T02:15:00Z'));
    t.is(vars.overdue.value, false);
    t.is(vars.daysLeft.value, 28 / 24);
    t.is(vars.newer.value, true, 'a Date given with the completion is a Date too');
    t.is(vars.viaExecution.value, true, 'execution.getVariable reads a Date');
    t.is(vars.copy.type, 'Date', 'a Date an output parameter writes is a Date variable');
    t.is(new Date(vars.copy.value).getTime(), Date.parse('2026-04-01T02:15:00Z'));
    t.is(vars.alsoDue.type, 'Date', 'a Date execution.setVariable writes is a Date variable');
    t.is(vars.due.type, 'Date', 'the variable itself is unchanged');
    t.deepEqual(await openKeys(c, id), ['copied'], 'the written-back Dates are Dates in the next run');
  });

  test.serial(t('a Date before the injected clock takes the overdue way'), async (t) => {
    const started = await c.office.post('/engine-rest/process-definition/key/juel-dates/start', { variables: { due: date('2026-03-30T08:00:00.000+0800') } });
    t.is(started.status, 200, JSON.stringify(started.body));
    t.deepEqual(await openKeys(c, started.body.id), ['overdue']);
    await complete(c, started.body.id, 'overdue');
  });

  test.serial(t('POST /condition reads a Date variable as a Date'), async (t) => {
    const early = await c.office.post('/engine-rest/condition', { variables: { due: date('2026-04-01T10:15:00.000+0800') } });
    t.is(early.status, 200, JSON.stringify(early.body));
    t.deepEqual(early.body, []);
    const late = await c.office.post('/engine-rest/condition', { variables: { due: date('2026-03-30T08:00:00.000+0800') } });
    t.is(late.status, 200, JSON.stringify(late.body));
    t.deepEqual(late.body.map((i: { definitionId: string }) => i.definitionId.split(':')[0]), ['juel-dates-condition']);
  });
}, () => new ManualClock(CLOCK));

import test from 'ava';
import { conformanceSuite, openKeys, complete } from './events-kit.ts';
import { deployXml } from './helpers.ts';

/*
 * A user task's attribute expressions (assignee, candidate groups, due date,
 * priority...) that fail to evaluate fail the command as Camunda 7 fails it:
 * 400 naming the expression and the element, nothing saved; the task is not
 * created unassigned or undated instead.
 */

const XML = `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="attrDefs" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="attr-assignee" isExecutable="true">
    <bpmn:startEvent id="s1" />
    <bpmn:sequenceFlow id="a1" sourceRef="s1" targetRef="pick" />
    <bpmn:userTask id="pick" camunda:candidateGroups="office" camunda:assignee="\${who.substring(9)}" />
  </bpmn:process>
  <bpmn:process id="attr-later" isExecutable="true">
    <bpmn:startEvent id="s2" />
    <bpmn:sequenceFlow id="b1" sourceRef="s2" targetRef="first" />
    <bpmn:userTask id="first" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="b2" sourceRef="first" targetRef="second" />
    <bpmn:userTask id="second" camunda:candidateGroups="\${groups.size()}" camunda:priority="\${level.intValue()}" />
  </bpmn:process>
</bpmn:definitions>`;

conformanceSuite([], 'juelattr', (c, t) => {
  test.serial(t('a failing assignee expression fails the start with 400 naming expression and element; no instance is saved'), async (t) => {
    const deployed = await deployXml(c.server, 'juel-attributes', XML);
    t.is(deployed.status, 200, JSON.stringify(deployed.body));
    const r = await c.office.post('/engine-rest/process-definition/key/attr-assignee/start', { businessKey: 'ATTR-1', variables: { who: { value: 'ann' } } });
    t.is(r.status, 400, JSON.stringify(r.body));
    t.regex(r.body.message, /pick/);
    t.regex(r.body.message, /who\.substring\(9\)/);
    const left = (await c.admin.get('/engine-rest/history/process-instance?processInstanceBusinessKey=ATTR-1')).body;
    t.deepEqual(left, [], 'nothing of the run was saved');
  });

  test.serial(t('the same expression evaluating well assigns the task'), async (t) => {
    const r = await c.office.post('/engine-rest/process-definition/key/attr-assignee/start', { variables: { who: { value: 'prefix://ann' } } });
    t.is(r.status, 200, JSON.stringify(r.body));
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    t.is(task.assignee, 'ann');
  });

  test.serial(t('a failing candidate-groups expression fails the completion that reaches the task; the previous task stays open'), async (t) => {
    const r = await c.office.post('/engine-rest/process-definition/key/attr-later/start', { variables: { groups: { value: 'office' }, level: { value: 3, type: 'Integer' } } });
    t.is(r.status, 200, JSON.stringify(r.body));
    const [task] = (await c.office.get(`/engine-rest/task?processInstanceId=${r.body.id}`)).body;
    const done = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: {} });
    t.is(done.status, 400, JSON.stringify(done.body));
    t.regex(done.body.message, /second/);
    t.regex(done.body.message, /String has no method size\(\)/);
    t.deepEqual(await openKeys(c, r.body.id), ['first']);
    const vars = (await c.admin.get(`/engine-rest/process-instance/${r.body.id}/variables`)).body;
    t.is(vars.groups.value, 'office');
    await t.throwsAsync(complete(c, r.body.id, 'first'), { message: /400/ });
  });
});

import { ADMIN } from '../helpers/server.ts';
import { assertNothingOpen, cancelled, complete, finishWith, conformanceSuite, openKeys, passed, start, stateOf, taskEnds, type Conformance } from './events-kit.ts';
import test from 'ava';

/*
 * Conditional events as Camunda 7 runs them (issue 14): an intermediate
 * conditional event whose condition holds on arrival passes at once, else it
 * waits and is evaluated again whenever a variable of its instance changes,
 * whichever API changed it; `camunda:variableName` and `camunda:variableEvents`
 * narrow the changes it listens to; a conditional boundary event interrupts
 * its task, or (non-interrupting) opens its path at each matching change.
 */

const diagrams = ['conditional-listeners', 'conditional-intermediate', 'conditional-filters', 'conditional-boundary', 'conditional-script', 'conditional-start', 'conditional-start-huge', 'conditional-start-failing'];

/** A plain value as a Camunda variable. */
const v = (value: unknown) => ({ value });

async function taskId(c: Conformance, instanceId: string, key: string): Promise<string> {
  const r = await c.admin.get(`/engine-rest/task?processInstanceId=${instanceId}&taskDefinitionKey=${key}`);
  if (!r.body[0]) throw new Error(`no open task ${key}`);
  return r.body[0].id;
}

async function externalTask(c: Conformance, instanceId: string): Promise<string> {
  const locked = await c.worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w1', maxTasks: 20, topics: [{ topicName: 'conditional-topic', lockDuration: 60_000 }] });
  const task = locked.body.find((x: { processInstanceId: string }) => x.processInstanceId === instanceId);
  if (!task) throw new Error('no external task locked');
  return task.id;
}

/** Ends whatever still runs of a conditional-intermediate instance and checks nothing is left. */
async function finishIntermediate(t: any, c: Conformance, id: string): Promise<void> {
  // As the administrator: a resolved task went back to its owner.
  const completeAll = async () => {
    for (const key of await openKeys(c, id)) t.is((await c.admin.post(`/engine-rest/task/${await taskId(c, id, key)}/complete`, {})).status, 204);
  };
  await completeAll();
  const ext = (await c.admin.get(`/engine-rest/external-task?processInstanceId=${id}`)).body;
  if (ext.length) {
    const done = await c.worker.post(`/engine-rest/external-task/${await externalTask(c, id)}/complete`, { workerId: 'w1' });
    t.is(done.status, 204, JSON.stringify(done.body));
  }
  if ((await c.server.db('message_subscriptions').where({ process_instance_id: id, activity_id: 'recv' })).length) {
    const r = await c.worker.post('/engine-rest/message', { messageName: 'conditional-message', processInstanceId: id });
    t.true(r.status === 200 || r.status === 204, JSON.stringify(r.body));
  }
  await completeAll();
  t.is(await stateOf(c, id), 'COMPLETED');
  await assertNothingOpen(t, c, id);
}

/** Each way a variable of a running instance changes, and the change it makes. */
const paths: { name: string; change: (c: Conformance, id: string) => Promise<{ status: number; body: unknown }> }[] = [
  { name: 'PUT /process-instance/{id}/variables/{name}', change: (c, id) => c.admin.put(`/engine-rest/process-instance/${id}/variables/ready`, { value: true }) },
  { name: 'POST /process-instance/{id}/variables', change: (c, id) => c.admin.post(`/engine-rest/process-instance/${id}/variables`, { modifications: { ready: v(true) } }) },
  { name: 'PUT /task/{id}/variables/{name}', change: async (c, id) => c.office.put(`/engine-rest/task/${await taskId(c, id, 'work')}/variables/ready`, { value: true }) },
  { name: 'POST /task/{id}/variables', change: async (c, id) => c.office.post(`/engine-rest/task/${await taskId(c, id, 'work')}/variables`, { modifications: { ready: v(true) } }) },
  { name: 'POST /task/{id}/complete with variables', change: async (c, id) => c.office.post(`/engine-rest/task/${await taskId(c, id, 'work')}/complete`, { variables: { ready: v(true) } }) },
  {
    name: 'POST /task/{id}/resolve with variables',
    change: async (c, id) => {
      const task = await taskId(c, id, 'work');
      const delegated = await c.admin.post(`/engine-rest/task/${task}/delegate`, { userId: `${'cond'}-office` });
      if (delegated.status !== 204) return delegated;
      return c.office.post(`/engine-rest/task/${task}/resolve`, { variables: { ready: v(true) } });
    },
  },
  { name: 'POST /external-task/{id}/complete with variables', change: async (c, id) => c.worker.post(`/engine-rest/external-task/${await externalTask(c, id)}/complete`, { workerId: 'w1', variables: { ready: v(true) } }) },
  { name: 'POST /message with processVariables', change: (c, id) => c.worker.post('/engine-rest/message', { messageName: 'conditional-message', processInstanceId: id, processVariables: { ready: v(true) } }) },
];

conformanceSuite(diagrams, 'cond', (c, t) => {
  test.serial(t('an intermediate conditional event whose condition already holds passes at once'), async (tt) => {
    const id = await start(c, 'conditional-intermediate', { ready: true });
    tt.deepEqual(await openKeys(c, id), ['after', 'work']);
    await finishIntermediate(tt, c, id);
  });

  for (const path of paths) {
    test.serial(t(`a variable set by ${path.name} moves the waiting intermediate conditional event`), async (tt) => {
      const id = await start(c, 'conditional-intermediate', { ready: false });
      tt.deepEqual(await openKeys(c, id), ['work']);
      // A change that leaves the condition false: still waiting.
      tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/ready`, { value: false })).status, 204);
      tt.false((await openKeys(c, id)).includes('after'));
      const r = await path.change(c, id);
      tt.true(r.status === 200 || r.status === 204, JSON.stringify(r.body));
      tt.true((await openKeys(c, id)).includes('after'), 'the condition now holds and the path went on');
      tt.true((await passed(c, id)).includes('waitReady'));
      await finishIntermediate(tt, c, id);
    });
  }

  test.serial(t('a local variable set over REST is a variable change too: the waiting conditions are evaluated again in its transaction'), async (tt) => {
    const id = await start(c, 'conditional-boundary', { cancel: false, remind: false });
    const [review] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=review`)).body;
    const [watch] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=watch`)).body;
    // onRemind listens to changes of `remind` only: a local of that name set on another execution wakes it, over the process variable now true.
    await c.server.db('variables').where({ process_instance_id: id, name: 'remind' }).update({ value: 'true' });
    tt.deepEqual(await openKeys(c, id), ['review', 'watch'], 'a row changed behind the server\'s back wakes nothing');
    const r = await c.admin.post(`/engine-rest/execution/${review.executionId}/localVariables`, { modifications: { remind: v('本地') } });
    tt.is(r.status, 204, JSON.stringify(r.body));
    tt.deepEqual(await openKeys(c, id), ['reminder', 'review', 'watch'], 'the change of remind was heard');
    tt.is((await c.admin.get(`/engine-rest/execution/${review.executionId}/localVariables/remind`)).body.value, '本地', 'and the local kept');
    const [row] = await c.server.db('trace').where({ operation: 'ModifyVariables', entity_type: 'Execution', entity_id: review.executionId });
    tt.is(row.process_instance_id, id);
    // Deleting it is a change too (onRemind fires at each matching change); deleting one that is not there is none.
    await complete(c, id, 'reminder');
    tt.is((await c.admin.delete(`/engine-rest/execution/${watch.executionId}/localVariables/none`)).status, 204);
    tt.deepEqual(await openKeys(c, id), ['review', 'watch']);
    tt.is((await c.admin.delete(`/engine-rest/execution/${review.executionId}/localVariables/remind`)).status, 204);
    tt.deepEqual(await openKeys(c, id), ['reminder', 'review', 'watch']);
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/cancel`, { value: true })).status, 204);
    for (const key of await openKeys(c, id)) await complete(c, id, key);
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('what an assignment listener sets moves the waiting conditional event, in the transaction of the claim'), async (tt) => {
    const id = await start(c, 'conditional-listeners', { ready: false });
    tt.deepEqual(await openKeys(c, id), ['work']);
    const work = await taskId(c, id, 'work');
    tt.is((await c.office.post(`/engine-rest/task/${work}/claim`, { userId: 'cond-office' })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['after', 'work'], 'the listener set ready and the waiting event passed');
    tt.true((await passed(c, id)).includes('waitReady'));
    const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}&taskDefinitionKey=work`)).body;
    tt.is(task.assignee, 'cond-office');
    const [row] = await c.server.db('trace').where({ operation: 'Claim', entity_id: work });
    tt.is(row.process_instance_id, id);
    for (const key of await openKeys(c, id)) await complete(c, id, key);
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('camunda:variableName and camunda:variableEvents narrow the changes a condition listens to'), async (tt) => {
    const id = await start(c, 'conditional-filters', { go: false, flag: 1 });
    tt.deepEqual(await openKeys(c, id), []);
    // go changes (an update): byName listens only to `trigger`, onDelete only to deletions, onCreate only to `late`.
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/go`, { value: true })).status, 204);
    tt.deepEqual(await openKeys(c, id), []);
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/trigger`, { value: 1 })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['afterName']);
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/late`, { value: 1 })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['afterCreate', 'afterName']);
    tt.is((await c.admin.delete(`/engine-rest/process-instance/${id}/variables/flag`)).status, 204);
    tt.deepEqual(await openKeys(c, id), ['afterCreate', 'afterDelete', 'afterName']);
    for (const key of await openKeys(c, id)) await complete(c, id, key);
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('an interrupting conditional boundary event whose condition holds on arrival takes its path instead'), async (tt) => {
    const id = await start(c, 'conditional-boundary', { cancel: true, remind: false });
    tt.deepEqual(await openKeys(c, id), ['cancelled', 'watch']);
    await complete(c, id, 'cancelled');
    await finishWith(tt, c, id, 'watch');
  });

  test.serial(t('an interrupting conditional boundary event cancels its task when a variable makes it true'), async (tt) => {
    const id = await start(c, 'conditional-boundary', { cancel: false, remind: false });
    tt.deepEqual(await openKeys(c, id), ['review', 'watch']);
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/other`, { value: 1 })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['review', 'watch']);
    tt.is((await c.office.put(`/engine-rest/task/${await taskId(c, id, 'watch')}/variables/cancel`, { value: true })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['cancelled', 'watch']);
    tt.true((await cancelled(c, id)).includes('review'));
    await complete(c, id, 'cancelled');
    await complete(c, id, 'watch');
    tt.deepEqual(await taskEnds(c, id), ['cancelled:completed', 'review:deleted', 'watch:completed']);
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('completing a task with variables that fire its own interrupting boundary event takes the boundary path'), async (tt) => {
    const id = await start(c, 'conditional-boundary', { cancel: false, remind: false });
    await complete(c, id, 'review', { cancel: true });
    tt.deepEqual(await openKeys(c, id), ['cancelled', 'watch']);
    tt.deepEqual((await taskEnds(c, id)).filter((e) => e.startsWith('review')), ['review:deleted']);
    await complete(c, id, 'cancelled');
    await finishWith(tt, c, id, 'watch');
  });

  test.serial(t('a non-interrupting conditional boundary event fires at each matching change and stays armed'), async (tt) => {
    const id = await start(c, 'conditional-boundary', { cancel: false, remind: false });
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/remind`, { value: true })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['reminder', 'review', 'watch']);
    // Another variable: the boundary listens only to `remind`.
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/other`, { value: 2 })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['reminder', 'review', 'watch']);
    await complete(c, id, 'reminder');
    tt.is((await c.admin.put(`/engine-rest/process-instance/${id}/variables/remind`, { value: true })).status, 204);
    tt.deepEqual(await openKeys(c, id), ['reminder', 'review', 'watch'], 'fired again');
    await complete(c, id, 'reminder');
    await complete(c, id, 'watch');
    await complete(c, id, 'review');
    tt.is((await passed(c, id)).filter((a) => a === 'onRemind').length, 2, 'fired twice; the third arming was cancelled with its task');
    await assertNothingOpen(tt, c, id);
  });

  test.serial(t('a variable a script sets during a run moves the waiting conditional event (javascript condition)'), async (tt) => {
    const id = await start(c, 'conditional-script', { level: 1 });
    tt.deepEqual(await openKeys(c, id), ['work']);
    await complete(c, id, 'work');
    tt.deepEqual(await openKeys(c, id), ['after']);
    await finishWith(tt, c, id, 'after');
  });

  test.serial(t('POST /condition starts an instance at each conditional start event whose condition holds, with the variables given'), async (tt) => {
    const r = await c.office.post('/engine-rest/condition', { variables: { amount: v(1200) }, businessKey: 'C-1' });
    tt.is(r.status, 200, JSON.stringify(r.body));
    tt.is(r.body.length, 1, 'only the start whose condition holds');
    const [started] = r.body;
    tt.regex(started.definitionId, /^conditional-start:/);
    tt.is(started.businessKey, 'C-1');
    tt.false(started.ended);
    tt.deepEqual(await openKeys(c, started.id), ['approve']);
    const began = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${started.id}`)).body.map((a: { activityId: string }) => a.activityId);
    tt.true(began.includes('bigAmount') && !began.includes('byHand'), 'started at the conditional start event, not at the none start');
    tt.is((await c.admin.get(`/engine-rest/process-instance/${started.id}/variables/amount`)).body.value, 1200);
    await finishWith(tt, c, started.id, 'approve');

    const both = await c.office.post('/engine-rest/condition', { variables: { amount: v(9000) } });
    tt.deepEqual(both.body.map((i: { definitionId: string }) => i.definitionId.split(':')[0]).sort(), ['conditional-start', 'conditional-start-huge']);
    for (const i of both.body) {
      for (const key of await openKeys(c, i.id)) await complete(c, i.id, key);
      await assertNothingOpen(tt, c, i.id);
    }
  });

  test.serial(t('POST /condition is one command: when one of the instances it starts fails, none is started'), async (tt) => {
    const count = async () => Number((await c.server.db('process_instances').count('* as n').first())!.n);
    const before = await count();
    const r = await c.office.post('/engine-rest/condition', { variables: { amount: v(200000) } });
    tt.is(r.status, 400, JSON.stringify(r.body));
    tt.regex(r.body.message, /explode/);
    tt.is(await count(), before, 'conditional-start and conditional-start-huge held too, and were not saved either');
  });

  test.serial(t('POST /condition starts nothing when no condition holds, and refuses a definition without conditional start events'), async (tt) => {
    const none = await c.office.post('/engine-rest/condition', { variables: { amount: v(10) } });
    tt.is(none.status, 200);
    tt.deepEqual(none.body, []);
    const missing = await c.office.post('/engine-rest/condition', { variables: {}, processDefinitionId: 'nothing:1:none' });
    tt.is(missing.status, 400);
    tt.regex(missing.body.message, /No subscriptions were found/);
    const bad = await c.office.post('/engine-rest/condition', { variables: { amount: { value: 'x', type: 'Integer' } } });
    tt.is(bad.status, 400);
    const unfit = await c.office.post('/engine-rest/condition', { variables: { amount: v('abc') } });
    tt.is(unfit.status, 400, 'a condition the variables given cannot be compared in is the caller\'s mistake');
    tt.regex(unfit.body.message, /bigAmount/);
    tt.is((await c.worker.post('/engine-rest/condition', { variables: { amount: v(1200) } })).status, 403, 'machine accounts do not start processes by condition');
  });

  const refused: { what: string; element: string; body: string }[] = [
    { what: 'a conditional start event with a script condition', element: 'cs', body: '<bpmn:startEvent id="cs"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression" language="javascript">true</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent>' },
    { what: 'a conditional start event with camunda:variableName', element: 'cs', body: '<bpmn:startEvent id="cs"><bpmn:conditionalEventDefinition camunda:variableName="a"><bpmn:condition xsi:type="bpmn:tFormalExpression">${a}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:startEvent>' },
    { what: 'a conditional event without a condition', element: 'ce', body: '<bpmn:intermediateCatchEvent id="ce"><bpmn:conditionalEventDefinition /></bpmn:intermediateCatchEvent>' },
    { what: 'an unknown variable event', element: 'ce', body: '<bpmn:intermediateCatchEvent id="ce"><bpmn:conditionalEventDefinition camunda:variableEvents="change"><bpmn:condition xsi:type="bpmn:tFormalExpression">${a}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent>' },
    { what: 'a conditional boundary event on a multi-instance sub-process', element: 'ce', body: '<bpmn:subProcess id="sp"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics></bpmn:subProcess><bpmn:boundaryEvent id="ce" attachedToRef="sp"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${a}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>' },
    { what: 'a conditional event inside a multi-instance sub-process', element: 'ce', body: '<bpmn:subProcess id="sp"><bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>2</bpmn:loopCardinality></bpmn:multiInstanceLoopCharacteristics><bpmn:sequenceFlow id="x1" sourceRef="ss" targetRef="ce" /><bpmn:startEvent id="ss" /><bpmn:intermediateCatchEvent id="ce"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${a}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:intermediateCatchEvent></bpmn:subProcess>' },
    { what: 'a conditional boundary event on a call activity', element: 'ce', body: '<bpmn:callActivity id="ca" calledElement="x" /><bpmn:boundaryEvent id="ce" attachedToRef="ca"><bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${a}</bpmn:condition></bpmn:conditionalEventDefinition></bpmn:boundaryEvent>' },
  ];
  for (const r of refused) {
    test.serial(t(`${r.what} is refused at deployment, naming it`), async (tt) => {
      const xml = `<?xml version="1.0" encoding="UTF-8"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" id="d" targetNamespace="x"><bpmn:process id="cond-refused" isExecutable="true"><bpmn:startEvent id="s" />${r.body}</bpmn:process></bpmn:definitions>`;
      const form = new FormData();
      form.append('deployment-name', 'cond-refused');
      form.append('cond-refused.bpmn', new Blob([xml]), 'cond-refused.bpmn');
      const res = await fetch(`${c.server.url}/engine-rest/deployment/create`, {
        method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
      });
      const body = await res.json() as { type: string; details: Record<string, { errors: { mainElementId: string }[] }> };
      tt.is(res.status, 400);
      tt.is(body.type, 'ParseException');
      tt.true(body.details['cond-refused.bpmn'].errors.some((e) => e.mainElementId === r.element), JSON.stringify(body));
    });
  }
});

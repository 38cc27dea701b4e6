import test from 'ava';
import { ADMIN, makeUser, type Client } from '../helpers/server.ts';
import { conformanceSuite, start, variablesOf, type Conformance } from '../conformance/events-kit.ts';

/*
 * Camunda's `/execution` and `/event-subscription` over real HTTP: an
 * instance is its root execution and each running element one more, with
 * the ids tasks and subscriptions already name; a waiting receive task is
 * moved on by its message, a signal catch by a signal; an incident raised
 * on an execution is an incident like any other; criteria that cannot be
 * applied are refused naming them; a stranger sees nothing.
 */

interface Waits { id: string; pay: string; go: string; review: string; task: string }

/** A fresh exec-waits instance and the execution ids of its three waiting elements (from the task and subscriptions). */
async function waits(c: Conformance): Promise<Waits> {
  const id = await start(c, 'exec-waits', { amount: 5 });
  const [task] = (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body;
  const subs = await c.server.db('message_subscriptions').where({ process_instance_id: id });
  const of = (activity: string) => subs.find((s: { activity_id: string }) => s.activity_id === activity)?.execution_id as string;
  return { id, pay: of('pay'), go: of('go'), review: task.executionId, task: task.id };
}

const ids = (body: { id: string }[]) => body.map((e) => e.id).sort();

conformanceSuite(['exec-waits.bpmn', 'conditional-intermediate.bpmn'], 'ex', (c, t) => {

  test.serial(t('an instance is its root execution plus one per running element, with the ids tasks and subscriptions name'), async (t) => {
    const w = await waits(c);
    const r = await c.office.get(`/engine-rest/execution?processInstanceId=${w.id}`);
    t.is(r.status, 200, JSON.stringify(r.body));
    t.deepEqual(ids(r.body), [w.id, w.pay, w.go, w.review].sort());
    t.deepEqual(r.body.find((e: { id: string }) => e.id === w.pay), { id: w.pay, processInstanceId: w.id, ended: false, tenantId: null });
    t.deepEqual((await c.office.post('/engine-rest/execution/count', { processInstanceId: w.id })).body, { count: 4 });
    const byActivity = await c.office.post('/engine-rest/execution', { processInstanceId: w.id, activityId: 'review' });
    t.deepEqual(ids(byActivity.body), [w.review]);
    const byMessage = await c.office.get(`/engine-rest/execution?processInstanceId=${w.id}&messageEventSubscriptionName=exec-pay`);
    t.deepEqual(ids(byMessage.body), [w.pay]);
    const bySignal = await c.office.get(`/engine-rest/execution?processDefinitionKey=exec-waits&signalEventSubscriptionName=exec-go&processInstanceId=${w.id}`);
    t.deepEqual(ids(bySignal.body), [w.go]);
    t.deepEqual((await c.office.get(`/engine-rest/execution?processInstanceId=${w.id}&suspended=true`)).body, []);
    // Sorting and paging: by instance, two at a time.
    const page = await c.office.get(`/engine-rest/execution?processInstanceId=${w.id}&sortBy=instanceId&sortOrder=asc&firstResult=1&maxResults=2`);
    t.is(page.body.length, 2);
    const one = await c.office.get(`/engine-rest/execution/${w.review}`);
    t.deepEqual(one.body, { id: w.review, processInstanceId: w.id, ended: false, tenantId: null });
    const [row] = await c.server.db('trace').where({ operation: 'Read', entity_type: 'Execution', entity_id: w.review }).orderBy('id', 'desc').limit(1);
    t.is(row?.process_instance_id, w.id, 'the read is traced in the instance\'s chain');
  });

  test.serial(t('event subscriptions list what waits for a message or signal, with filters and count'), async (t) => {
    const w = await waits(c);
    const all = await c.office.get(`/engine-rest/event-subscription?processInstanceId=${w.id}`);
    t.is(all.status, 200, JSON.stringify(all.body));
    t.deepEqual(all.body.map((s: { eventType: string; eventName: string; activityId: string; executionId: string }) => [s.eventType, s.eventName, s.activityId, s.executionId]).sort(),
      [['message', 'exec-pay', 'pay', w.pay], ['signal', 'exec-go', 'go', w.go]]);
    const signals = await c.office.get(`/engine-rest/event-subscription?processInstanceId=${w.id}&eventType=signal`);
    t.deepEqual(signals.body.map((s: { executionId: string }) => s.executionId), [w.go]);
    t.deepEqual((await c.office.get(`/engine-rest/event-subscription/count?processInstanceId=${w.id}&eventName=exec-pay`)).body, { count: 1 });
    t.deepEqual((await c.office.get(`/engine-rest/event-subscription/count?executionId=${w.go}&activityId=go`)).body, { count: 1 });
    const sub = await c.office.get(`/engine-rest/execution/${w.pay}/messageSubscriptions/exec-pay`);
    t.is(sub.status, 200);
    t.like(sub.body, { eventType: 'message', eventName: 'exec-pay', executionId: w.pay, processInstanceId: w.id, activityId: 'pay' });
    t.is((await c.office.get(`/engine-rest/execution/${w.pay}/messageSubscriptions/other`)).status, 404);
    t.is((await c.office.get(`/engine-rest/execution/${w.review}/messageSubscriptions/exec-pay`)).status, 404);
  });

  test.serial(t('a message trigger and a signal move their executions on, with variables; a user task cannot be signaled'), async (t) => {
    const w = await waits(c);
    const trig = await c.admin.post(`/engine-rest/execution/${w.pay}/messageSubscriptions/exec-pay/trigger`, { variables: { paid: { value: 12, type: 'Integer' } } });
    t.is(trig.status, 204, JSON.stringify(trig.body));
    t.is((await c.admin.get(`/engine-rest/execution/${w.pay}`)).status, 404, 'the receive task has moved on');
    t.is((await variablesOf(c, w.id)).paid, 12);
    const again = await c.admin.post(`/engine-rest/execution/${w.pay}/messageSubscriptions/exec-pay/trigger`, {});
    t.is(again.status, 404, 'an ended execution is not there');

    const refused = await c.admin.post(`/engine-rest/execution/${w.review}/signal`, {});
    t.is(refused.status, 400);
    t.regex(refused.body.message, /cannot be signaled/);
    t.is((await c.admin.post(`/engine-rest/execution/${w.id}/signal`, {})).status, 400, 'nor can the instance itself');

    const sig = await c.admin.post(`/engine-rest/execution/${w.go}/signal`, { variables: { released: { value: true } } });
    t.is(sig.status, 204, JSON.stringify(sig.body));
    t.true((await variablesOf(c, w.id)).released as boolean);
    t.deepEqual(ids((await c.admin.get(`/engine-rest/execution?processInstanceId=${w.id}`)).body), [w.id, w.review].sort());
    t.deepEqual((await c.admin.get(`/engine-rest/event-subscription/count?processInstanceId=${w.id}`)).body, { count: 0 });
    const traced = await c.server.db('trace').where({ entity_type: 'Execution', process_instance_id: w.id }).whereIn('operation', ['TriggerMessage', 'Signal']).orderBy('id');
    t.deepEqual(traced.map((r: { operation: string }) => r.operation), ['TriggerMessage', 'Signal']);
  });

  test.serial(t('create-incident raises an incident the incident routes show and a person can resolve'), async (t) => {
    const w = await waits(c);
    const r = await c.admin.post(`/engine-rest/execution/${w.review}/create-incident`, { incidentType: 'customType', configuration: 'cfg-1', message: '人工标记' });
    t.is(r.status, 200, JSON.stringify(r.body));
    t.like(r.body, { incidentType: 'customType', configuration: 'cfg-1', incidentMessage: '人工标记', processInstanceId: w.id, activityId: 'review', executionId: w.review });
    const listed = await c.admin.get(`/engine-rest/incident?processInstanceId=${w.id}`);
    t.deepEqual(listed.body.map((i: { id: string }) => i.id), [r.body.id]);
    const [row] = await c.server.db('trace').where({ operation: 'CreateIncident', entity_id: r.body.id });
    t.is(row?.process_instance_id, w.id);
    t.is((await c.admin.delete(`/engine-rest/incident/${r.body.id}`)).status, 204);
    t.is((await c.admin.post(`/engine-rest/execution/${w.review}/create-incident`, {})).status, 400, 'incidentType is required');
    t.is((await c.admin.post(`/engine-rest/execution/${w.id}/create-incident`, { incidentType: 'x' })).status, 400, 'not on the instance itself');
    t.is((await c.office.post(`/engine-rest/execution/${w.review}/create-incident`, { incidentType: 'x' })).status, 403);
    const builtIn = await c.admin.post(`/engine-rest/execution/${w.review}/create-incident`, { incidentType: 'failedJob', configuration: 'some-timer' });
    t.is(builtIn.status, 400, 'a type the server raises itself, which its job would end');
    t.regex(builtIn.body.message, /incidentType failedJob/);
    // An incident does not outlive its execution: completing the task ends it, as deleted.
    const second = await c.admin.post(`/engine-rest/execution/${w.review}/create-incident`, { incidentType: 'customType' });
    t.is((await c.admin.get(`/engine-rest/incident/${second.body.id}`)).body.executionId, w.review);
    t.is((await c.admin.post(`/engine-rest/task/${w.task}/complete`, {})).status, 204);
    t.deepEqual((await c.admin.get(`/engine-rest/incident?processInstanceId=${w.id}`)).body, []);
    const [ended] = (await c.admin.get(`/engine-rest/history/incident?incidentId=${second.body.id}`)).body;
    t.like(ended, { deleted: true, open: false, executionId: w.review });
  });

  test.serial(t('criteria that cannot be applied are refused with 400 naming them, by query string and by body'), async (t) => {
    for (const [url, name] of [
      ['/engine-rest/execution?incidentType=failedJob', 'incidentType'],
      ['/engine-rest/execution/count?variables=a_eq_1', 'variables'],
      ['/engine-rest/event-subscription?eventType=conditional', 'eventType'],
      ['/engine-rest/event-subscription/count?tenantIdIn=a', 'tenantIdIn'],
    ] as const) {
      const r = await c.office.get(url);
      t.is(r.status, 400, url);
      t.regex(r.body.message, new RegExp(name), url);
    }
    const body = await c.office.post('/engine-rest/execution', { processVariables: [{ name: 'a', operator: 'eq', value: 1 }] });
    t.is(body.status, 400);
    t.regex(body.body.message, /processVariables/);
    const unknown = await c.office.post('/engine-rest/execution/count', { madeUp: 1 });
    t.is(unknown.status, 400);
    t.regex(unknown.body.message, /madeUp/);
    t.is((await c.office.get('/engine-rest/execution?sortBy=nonsense&sortOrder=asc')).status, 400);
    // A conditional wait is no row here: a listing of every kind over an instance that may hold one is refused, by type it is answered.
    const cond = await start(c, 'conditional-intermediate', { ready: false });
    const every = await c.office.get(`/engine-rest/event-subscription?processInstanceId=${cond}`);
    t.is(every.status, 400);
    t.regex(every.body.message, /eventType/);
    t.is((await c.office.get('/engine-rest/event-subscription/count')).status, 400, 'all the caller sees includes that instance');
    const messages = await c.office.get(`/engine-rest/event-subscription/count?processInstanceId=${cond}&eventType=message`);
    t.is(messages.status, 200);
    t.is(typeof messages.body.count, 'number');
  });

  test.serial(t('a user who may not see the instance sees none of its executions or subscriptions; a worker reaches none of this'), async (t) => {
    const w = await waits(c);
    const stranger: Client = await makeUser(c.server, `ex-stranger-${Math.random().toString(36).slice(2, 6)}`, []);
    t.deepEqual((await stranger.get(`/engine-rest/execution?processInstanceId=${w.id}`)).body, []);
    t.deepEqual((await stranger.get(`/engine-rest/execution/count?processInstanceId=${w.id}`)).body, { count: 0 });
    t.is((await stranger.get(`/engine-rest/execution/${w.pay}`)).status, 404);
    t.deepEqual((await stranger.get(`/engine-rest/event-subscription?processInstanceId=${w.id}`)).body, []);
    t.is((await stranger.get(`/engine-rest/execution/${w.pay}/messageSubscriptions/exec-pay`)).status, 404);
    t.is((await c.office.post(`/engine-rest/execution/${w.pay}/messageSubscriptions/exec-pay/trigger`, {})).status, 403, 'commands are for administrators');
    t.is((await c.worker.get('/engine-rest/execution')).status, 403);
    t.is((await c.worker.post(`/engine-rest/execution/${w.go}/signal`, {})).status, 403);
    t.is((await c.admin.get(`/engine-rest/execution/${w.go}`)).status, 200, 'nothing moved');
  });

  test.serial(t('an execution\'s local Bytes upload is refused for an element (locals stay unencrypted) and sets the variable on the root execution'), async (t) => {
    const w = await waits(c);
    const form = () => {
      const f = new FormData();
      f.append('data', new Blob([Buffer.from('备份')]), 'b.bin');
      f.append('valueType', 'File');
      return f;
    };
    const auth = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
    const post = (exec: string) => fetch(`${c.server.url}/engine-rest/execution/${exec}/localVariables/scan/data`, { method: 'POST', body: form(), headers: { Authorization: auth } });
    const element = await post(w.review);
    t.is(element.status, 400, await element.text());
    const root = await post(w.id);
    t.is(root.status, 204, await root.text());
    const v = await c.admin.get(`/engine-rest/process-instance/${w.id}/variables/scan`);
    t.like(v.body, { type: 'File', valueInfo: { filename: 'b.bin' } });
  });
});

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture, oneResource } from '../helpers/fixtures.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; monitor: Client };
  test.before(async () => {
    const server = await startTestServer(backend);
    await server.services.deployments.deploy(oneResource('report-incident.bpmn', fixture('report-incident.bpmn')));
    await server.services.deployments.deploy(oneResource('signal-drill.bpmn', fixture('signal-drill.bpmn')));
    c = {
      server, admin: client(server.url, ADMIN.user, ADMIN.password),
      office: await makeUser(server, 'office-m', ['office']), monitor: await makeUser(server, 'ids-monitor', ['workers']),
    };
  });
  test.after.always(async () => c?.server.stop());
  const t = (title: string) => `${backend.name}: ${title}`;
  const openTasks = async (id: string) => (await c.admin.get(`/engine-rest/task?processInstanceId=${id}`)).body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey);
  const subscriptions = (id: string) => c.server.db('message_subscriptions').where({ process_instance_id: id }).orderBy('message_name').pluck('message_name');

  test.serial(t('a monitoring system starts a process by message; only that start event runs'), async (t) => {
    const r = await c.monitor.post('/engine-rest/message', {
      messageName: 'monitoring-alert', businessKey: 'ALERT-1', processVariables: vars({ source: 'IDS', severity: '较大' }), resultEnabled: true,
    });
    t.is(r.status, 200);
    t.is(r.body[0].resultType, 'ProcessDefinition');
    const id = r.body[0].processInstance.id;
    t.deepEqual(await openTasks(id), ['triage'], 'one token: the none start did not run as well');
    t.deepEqual(await subscriptions(id), ['report-withdrawn'], 'no start event is left waiting');
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/source`)).body.value, 'IDS');
    t.is((await c.admin.get(`/engine-rest/process-instance/${id}`)).body.businessKey, 'ALERT-1');
  });

  test.serial(t('a form-started instance does not wait for the alert message'), async (t) => {
    const r = await c.office.post('/engine-rest/process-definition/key/report-incident/start', { businessKey: 'FORM-1' });
    t.deepEqual(await openTasks(r.body.id), ['triage']);
    t.deepEqual(await subscriptions(r.body.id), ['report-withdrawn']);
  });

  test.serial(t('messages reach a boundary event and an intermediate catch event, matched by business key and correlation keys'), async (t) => {
    const a = (await c.office.post('/engine-rest/process-definition/key/report-incident/start', { businessKey: 'CASE-A' })).body.id;
    const b = (await c.office.post('/engine-rest/process-definition/key/report-incident/start', { businessKey: 'CASE-B', variables: vars({ caseNo: 'B-7' }) })).body.id;
    t.is((await c.monitor.post('/engine-rest/message', { messageName: 'report-withdrawn', businessKey: 'CASE-A' })).status, 204);
    t.deepEqual(await openTasks(a), []);
    t.is((await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${a}`)).body[0].state, 'COMPLETED');
    const [triage] = (await c.office.get(`/engine-rest/task?processInstanceId=${b}`)).body;
    await c.office.post(`/engine-rest/task/${triage.id}/complete`, {});
    t.deepEqual(await subscriptions(b), ['evidence-received']);
    const wrongKey = await c.monitor.post('/engine-rest/message', { messageName: 'evidence-received', correlationKeys: vars({ caseNo: 'B-8' }) });
    t.is(wrongKey.status, 400);
    t.is(wrongKey.body.type, 'MismatchingMessageCorrelationException');
    const right = await c.monitor.post('/engine-rest/message', {
      messageName: 'evidence-received', correlationKeys: vars({ caseNo: 'B-7' }), processVariables: vars({ evidence: '日志截图' }), resultEnabled: true,
    });
    t.is(right.status, 200);
    t.is(right.body[0].resultType, 'Execution');
    t.deepEqual(await openTasks(b), ['close']);
    t.is((await c.admin.get(`/engine-rest/process-instance/${b}/variables/evidence`)).body.value, '日志截图');
  });

  test.serial(t('ambiguous, unknown and unauthorised messages are refused; all=true reaches every waiting one'), async (t) => {
    const ids = [];
    for (const k of ['ALL-1', 'ALL-2']) ids.push((await c.office.post('/engine-rest/process-definition/key/report-incident/start', { businessKey: k })).body.id);
    const ambiguous = await c.monitor.post('/engine-rest/message', { messageName: 'report-withdrawn' });
    t.is(ambiguous.status, 400);
    t.regex(ambiguous.body.message, /all=true/);
    t.is((await c.monitor.post('/engine-rest/message', { messageName: 'no-such-message' })).status, 400);
    t.is((await c.office.post('/engine-rest/message', { messageName: 'report-withdrawn', all: true })).status, 403);
    t.is((await c.monitor.post('/engine-rest/message', {})).status, 400);
    t.is((await c.monitor.post('/engine-rest/message', { messageName: 'report-withdrawn', all: true })).status, 204);
    for (const id of ids) t.deepEqual(await openTasks(id), []);
  });

  test.serial(t('a signal moves every waiting instance on and starts processes with a signal start event'), async (t) => {
    const waiting = [];
    for (let i = 0; i < 2; i++) waiting.push((await c.admin.post('/engine-rest/process-definition/key/signal-wait/start', {})).body.id);
    t.is((await c.office.post('/engine-rest/signal', { name: 'network-lockdown' })).status, 403);
    t.is((await c.monitor.post('/engine-rest/signal', {})).status, 400);
    t.is((await c.monitor.post('/engine-rest/signal', { name: 'network-lockdown', variables: vars({ reason: '演练' }) })).status, 204);
    for (const id of waiting) {
      t.deepEqual(await openTasks(id), ['confirm']);
      t.is((await c.admin.get(`/engine-rest/process-instance/${id}/variables/reason`)).body.value, '演练');
    }
    const drills = (await c.admin.get('/engine-rest/task?processDefinitionKey=signal-start')).body;
    t.is(drills.length, 1);
    t.is(drills[0].taskDefinitionKey, 'drill');
    t.is((await c.monitor.post('/engine-rest/signal', { name: 'nobody-listens' })).status, 204, 'an unheard signal is not an error');
  });
}

import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, vars, type Client, type TestServer } from '../helpers/server.ts';

/*
 * Issue 18.8, figures for monitors: per-definition and per-activity
 * statistics (runtime and history) and the duration and count reports, as
 * Camunda 7.24 answers them; administrators only.
 */

const KEY = 'stat-flow';
const diagram = (name: string) => `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="d" targetNamespace="x">
  <bpmn:process id="${KEY}" name="${name}" isExecutable="true">
    <bpmn:startEvent id="start" /><bpmn:sequenceFlow id="f0" sourceRef="start" targetRef="route" />
    <bpmn:exclusiveGateway id="route" default="toReview" />
    <bpmn:sequenceFlow id="toReview" sourceRef="route" targetRef="review" />
    <bpmn:sequenceFlow id="toCheck" sourceRef="route" targetRef="check"><bpmn:conditionExpression>\${mode == 'check'}</bpmn:conditionExpression></bpmn:sequenceFlow>
    <bpmn:userTask id="review" name="审核" camunda:candidateGroups="office" />
    <bpmn:sequenceFlow id="f2" sourceRef="review" targetRef="end" />
    <bpmn:serviceTask id="check" camunda:type="external" camunda:topic="stat-check" />
    <bpmn:sequenceFlow id="f3" sourceRef="check" targetRef="end" />
    <bpmn:endEvent id="end" />
  </bpmn:process>
</bpmn:definitions>`;

for (const backend of backends) {
  let server: TestServer;
  let admin: Client;
  let office: Client;
  let worker: Client;
  const t = (title: string) => `${backend.name}: ${title}`;
  const deploy = async (xml: string) => {
    const form = new FormData();
    form.append('deployment-name', 'stats');
    form.append('data', new Blob([xml]), 'stat-flow.bpmn');
    const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` } });
    if (res.status !== 200) throw new Error(`deploy: ${res.status} ${await res.text()}`);
    return Object.keys((await res.json() as { deployedProcessDefinitions: Record<string, unknown> }).deployedProcessDefinitions)[0]!;
  };
  const start = async (mode = 'review') => (await admin.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ mode }) })).body.id as string;
  let v1: string;
  let v2: string;
  const v1Instances: string[] = [];

  test.before(async () => {
    server = await startTestServer(backend, NO_PROCESSES, { clock: new ManualClock(new Date()), runScheduler: false });
    admin = client(server.url, ADMIN.user, ADMIN.password);
    office = await makeUser(server, 'stat-office', ['office']);
    worker = await makeUser(server, 'stat-worker', ['workers']);
    v1 = await deploy(diagram('统计一'));
    for (let i = 0; i < 3; i++) v1Instances.push(await start());
    v2 = await deploy(diagram('统计二'));
    const reviewed = await start();
    await start('check');
    await start('check');
    // One review of version 2 done: that instance finished.
    const [task] = (await admin.get(`/engine-rest/task?processInstanceId=${reviewed}`)).body;
    if ((await admin.post(`/engine-rest/task/${task.id}/complete`, {})).status !== 204) throw new Error('complete');
    // One external task fails without retries: an open incident on `check`.
    const locked = await worker.post('/engine-rest/external-task/fetchAndLock', { workerId: 'w', maxTasks: 1, topics: [{ topicName: 'stat-check', lockDuration: 60_000 }] });
    const failed = await worker.post(`/engine-rest/external-task/${locked.body[0].id}/failure`, { workerId: 'w', errorMessage: '备份不可达', retries: 0 });
    if (failed.status !== 204) throw new Error(`failure: ${failed.status} ${JSON.stringify(failed.body)}`);
  });
  test.after.always(async () => server?.stop());

  test.serial(t('process-definition statistics: every version with its running instances and, when asked, incidents by type'), async (t) => {
    const res = await admin.get('/engine-rest/process-definition/statistics');
    t.is(res.status, 200);
    const mine = res.body.filter((r: { definition: { key: string } }) => r.definition.key === KEY);
    t.deepEqual(mine.map((r: any) => [r.id, r.instances, r.failedJobs, r.incidents]), [[v1, 3, 0, []], [v2, 2, 0, []]]);
    t.is(mine[0]['@class'], 'org.camunda.bpm.engine.rest.dto.repository.ProcessDefinitionStatisticsResultDto');
    t.like(mine[1].definition, { id: v2, key: KEY, version: 2, name: '统计二' });
    const withIncidents = (await admin.get('/engine-rest/process-definition/statistics?incidents=true')).body.find((r: any) => r.id === v2);
    t.deepEqual(withIncidents.incidents, [{ incidentType: 'failedExternalTask', incidentCount: 1 }]);
    t.deepEqual((await admin.get('/engine-rest/process-definition/statistics?rootIncidents=true')).body.find((r: any) => r.id === v2).incidents, withIncidents.incidents);
    t.deepEqual((await admin.get('/engine-rest/process-definition/statistics?incidentsForType=failedJob')).body.find((r: any) => r.id === v2).incidents, []);
    const both = await admin.get('/engine-rest/process-definition/statistics?incidents=true&incidentsForType=failedJob');
    t.is(both.status, 400);
    t.regex(both.body.message, /incidents, incidentsForType/);
    t.is((await office.get('/engine-rest/process-definition/statistics')).status, 403);
  });

  test.serial(t('failed jobs: a timer out of retries counts for its definition and activity'), async (t) => {
    const pi = await start('check');
    // A timer whose retries ran out, as the scheduler leaves one after its last failed firing.
    await server.testDb.db('timers').insert({
      id: `timer-${pi}`, process_instance_id: pi, definition_id: v2, activity_id: 'check', execution_id: `x-${pi}`, timer_type: 'duration',
      due_at: new Date(), retries: 0,
    });
    try {
      const defs = (await admin.get('/engine-rest/process-definition/statistics?failedJobs=true')).body;
      t.is(defs.find((r: any) => r.id === v2).failedJobs, 1);
      t.is(defs.find((r: any) => r.id === v2).instances, 3);
      t.is((await admin.get('/engine-rest/process-definition/statistics')).body.find((r: any) => r.id === v2).failedJobs, 0, 'not asked: 0');
      const acts = (await admin.get(`/engine-rest/process-definition/${v2}/statistics?failedJobs=true`)).body;
      t.is(acts.find((a: any) => a.id === 'check').failedJobs, 1);
    } finally {
      await server.testDb.db('timers').where({ id: `timer-${pi}` }).delete();
      await admin.delete(`/engine-rest/process-instance/${pi}`);
    }
  });

  test.serial(t('activity statistics: instances waiting in each activity, by id and by key (latest version)'), async (t) => {
    const byId = await admin.get(`/engine-rest/process-definition/${v2}/statistics?incidents=true`);
    t.is(byId.status, 200);
    t.deepEqual(byId.body, [
      { '@class': 'org.camunda.bpm.engine.rest.dto.repository.ActivityStatisticsResultDto', id: 'check', instances: 2, failedJobs: 0, incidents: [{ incidentType: 'failedExternalTask', incidentCount: 1 }] },
    ]);
    t.deepEqual((await admin.get(`/engine-rest/process-definition/key/${KEY}/statistics`)).body.map((a: any) => [a.id, a.instances, a.incidents]), [['check', 2, []]]);
    t.deepEqual((await admin.get(`/engine-rest/process-definition/${v1}/statistics`)).body.map((a: any) => [a.id, a.instances]), [['review', 3]]);
    t.is((await admin.get('/engine-rest/process-definition/key/no-such-key/statistics')).status, 404);
    t.is((await office.get(`/engine-rest/process-definition/${v1}/statistics`)).status, 403);
  });

  test.serial(t('historic activity statistics: running, finished, canceled, scope-completing and incidents per activity'), async (t) => {
    // Cancel one waiting review of version 1: its activity instance ends canceled.
    t.is((await admin.delete(`/engine-rest/process-instance/${v1Instances[0]}`)).status, 204);
    const plain = (await admin.get(`/engine-rest/history/process-definition/${v1}/statistics`)).body;
    t.deepEqual(plain, [{ id: 'review', instances: 2, canceled: 0, finished: 0, completeScope: 0, openIncidents: 0, resolvedIncidents: 0, deletedIncidents: 0 }]);
    const all = (await admin.get(`/engine-rest/history/process-definition/${v1}/statistics?finished=true&canceled=true&completeScope=true`)).body;
    const byId = Object.fromEntries(all.map((a: any) => [a.id, a]));
    t.like(byId.review, { instances: 2, finished: 1, canceled: 1, completeScope: 0 });
    t.like(byId.start, { instances: 0, finished: 3, canceled: 0 });
    t.deepEqual(all.map((a: any) => a.id), [...all.map((a: any) => a.id)].sort(), 'sorted by activity id');
    const desc = (await admin.get(`/engine-rest/history/process-definition/${v1}/statistics?finished=true&sortBy=activityId&sortOrder=desc`)).body;
    t.deepEqual(desc.map((a: any) => a.id), all.map((a: any) => a.id).reverse());
    // Version 2: one instance completed its scope at `end`; one incident open on `check`.
    const v2stats = Object.fromEntries((await admin.get(`/engine-rest/history/process-definition/${v2}/statistics?completeScope=true&incidents=true`)).body.map((a: any) => [a.id, a]));
    t.like(v2stats.end, { instances: 0, completeScope: 1, finished: 0 });
    t.like(v2stats.check, { instances: 2, openIncidents: 1 });
    t.false('review' in v2stats, 'an activity only finished is not listed without finished=true');
    // Filtered to instances started in the future: nothing.
    t.deepEqual((await admin.get(`/engine-rest/history/process-definition/${v2}/statistics?startedAfter=2999-01-01T00:00:00.000%2B0000`)).body, []);
    t.is((await admin.get(`/engine-rest/history/process-definition/${v2}/statistics?startedAfter=yesterday`)).status, 400);
    t.is((await admin.get(`/engine-rest/history/process-definition/${v2}/statistics?sortBy=name&sortOrder=asc`)).status, 400);
    t.is((await office.get(`/engine-rest/history/process-definition/${v2}/statistics`)).status, 403);
  });

  test.serial(t('duration reports agree with the history they summarize; count report by definition and task name'), async (t) => {
    const finished = (await admin.get(`/engine-rest/history/process-instance?processDefinitionKey=${KEY}&finished=true`)).body;
    t.true(finished.length >= 2);
    const expect = (items: { at: string; ms: number }[], unit: 'MONTH' | 'QUARTER') => {
      const by = new Map<number, number[]>();
      for (const i of items) {
        const month = Number(new Intl.DateTimeFormat('en', { timeZone: 'Asia/Shanghai', month: 'numeric' }).format(new Date(i.at)));
        const period = unit === 'MONTH' ? month : Math.ceil(month / 3);
        by.set(period, [...(by.get(period) ?? []), i.ms]);
      }
      return [...by].sort(([a], [b]) => a - b).map(([period, ms]) => ({
        period, periodUnit: unit, maximum: Math.max(...ms), minimum: Math.min(...ms), average: Math.round(ms.reduce((a, b) => a + b, 0) / ms.length),
      }));
    };
    const instances = finished.map((i: any) => ({ at: i.startTime, ms: i.durationInMillis }));
    const report = await admin.get(`/engine-rest/history/process-instance/report?reportType=duration&periodUnit=month&processDefinitionKeyIn=${KEY}`);
    t.is(report.status, 200);
    t.deepEqual(report.body, expect(instances, 'MONTH'));
    t.deepEqual((await admin.get(`/engine-rest/history/process-instance/report?reportType=duration&periodUnit=quarter&processDefinitionIdIn=${v1},${v2}`)).body, expect(instances, 'QUARTER'));
    t.deepEqual((await admin.get(`/engine-rest/history/process-instance/report?reportType=duration&periodUnit=month&processDefinitionKeyIn=${KEY}&startedAfter=2999-01-01T00:00:00.000%2B0000`)).body, []);
    const csv = await admin.raw('GET', `/engine-rest/history/process-instance/report?reportType=duration&periodUnit=month&processDefinitionKeyIn=${KEY}`, undefined, { Accept: 'text/csv' });
    t.is(csv.headers.get('content-type')?.split(';')[0], 'text/csv');
    t.is(String(csv.body).split('\n')[0], 'PERIOD,PERIOD_UNIT,MAXIMUM,MINIMUM,AVERAGE');
    t.is((await admin.get('/engine-rest/history/process-instance/report?periodUnit=month')).status, 400);
    t.is((await admin.get('/engine-rest/history/process-instance/report?reportType=duration')).status, 400);
    t.is((await admin.get('/engine-rest/history/process-instance/report?reportType=duration&periodUnit=week')).status, 400);
    t.is((await office.get('/engine-rest/history/process-instance/report?reportType=duration&periodUnit=month')).status, 403);

    const tasks = (await admin.get(`/engine-rest/history/task?finished=true`)).body;
    t.deepEqual((await admin.get('/engine-rest/history/task/report?reportType=duration&periodUnit=MONTH')).body,
      expect(tasks.map((x: any) => ({ at: x.endTime, ms: x.duration })), 'MONTH'));
    const ended = (key: string) => tasks.filter((x: any) => x.processDefinitionKey === key).length;
    const byDef = (await admin.get('/engine-rest/history/task/report?reportType=count&groupBy=processDefinition')).body;
    t.deepEqual(byDef.find((r: any) => r.processDefinitionKey === KEY), {
      taskName: null, processDefinitionId: v2, processDefinitionKey: KEY, processDefinitionName: '统计二', count: ended(KEY), tenantId: null,
    });
    const byName = (await admin.get('/engine-rest/history/task/report?reportType=count&groupBy=taskName')).body;
    t.is(byName.find((r: any) => r.processDefinitionKey === KEY && r.taskName === '审核').count, ended(KEY));
    t.is((await admin.get('/engine-rest/history/task/report?reportType=count')).status, 400);
    t.is((await admin.get('/engine-rest/history/task/report?reportType=count&groupBy=assignee')).status, 400);
    t.deepEqual((await admin.get('/engine-rest/history/task/report?reportType=count&groupBy=processDefinition&completedAfter=2999-01-01T00:00:00.000%2B0000')).body, []);
  });
}

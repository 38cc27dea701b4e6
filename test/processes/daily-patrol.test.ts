import test from 'ava';
import {
  instancesOf, openKeys, openTasks, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, refusedStart,
} from '../helpers/scenario.ts';

const KEY = 'daily-patrol';
const INCIDENT = 'security-incident';
const DAY = 24 * 3600_000;
const allClear = {
  deviceStatus: 'normal', governmentLinkStatus: 'normal', internetLinkStatus: 'normal', virusAlerts: 0, attackAlerts: 0,
  anomalyFound: false, bulletin: '今日巡检：安全设备和两区链路运行正常，无病毒和攻击告警。',
};

// Server start: 2026-12-01T01:00:00Z, 09:00 in Shanghai, the very minute of the cron; the first patrol is the next day's.
scenarioSuite((s, t) => {

  const nextDue = async () => {
    const r = await s.staff.admin.get(`/engine-rest/job-definition?processDefinitionKey=${KEY}`);
    return r.body.map((j: { activityId: string; nextDueDate: string; jobConfiguration: string }) => `${j.activityId} ${j.jobConfiguration} ${j.nextDueDate}`);
  };
  const patrols = async () => (await instancesOf(s.staff.admin, KEY)).length;

  test.serial(t('the daily timer starts one patrol at 09:00 Shanghai, the next a day later, and only one after a 3-day downtime'), async (t) => {
    const { admin } = s.staff;
    t.deepEqual(await nextDue(), ['dailyTimerStart CYCLE: 0 0 9 * * ? 2026-12-02T09:00:00.000+0800']);
    await s.runDue();
    t.is(await patrols(), 0, 'armed at 09:00 sharp, it waits for the next 09:00');

    s.clock.set(new Date('2026-12-02T00:59:59Z'));
    await s.runDue();
    t.is(await patrols(), 0, 'not a second early');
    s.clock.set(new Date('2026-12-02T01:00:00Z'));
    await s.runDue();
    const [first] = await instancesOf(admin, KEY);
    t.is(await patrols(), 1);
    t.is(first.state, 'ACTIVE');
    t.is(first.startUserId, 'system');
    t.deepEqual(await nextDue(), ['dailyTimerStart CYCLE: 0 0 9 * * ? 2026-12-03T09:00:00.000+0800']);

    s.clock.advance(DAY);
    await s.runDue();
    t.is(await patrols(), 2, 'a day later, the next patrol');
    await s.runDue();
    t.is(await patrols(), 2, 'once per day');

    // Down from just after the 3 December patrol until 6 December 10:30 Shanghai: the 4th, 5th and 6th are missed.
    s.clock.set(new Date('2026-12-06T02:30:00Z'));
    await s.runDue();
    t.is(await patrols(), 3, 'an overdue cycle fires once');
    t.deepEqual(await nextDue(), ['dailyTimerStart CYCLE: 0 0 9 * * ? 2026-12-07T09:00:00.000+0800'], 'then keeps its schedule');
  });

  test.serial(t('the 09:00 patrol offers its checklist to the network group only; without anomalies the bulletin is published and no incident raised'), async (t) => {
    const { network, office, data, app, leader, admin } = s.staff;
    const [first] = await instancesOf(admin, KEY);
    t.deepEqual(await openKeys(admin, first.id), ['patrolChecklist']);
    for (const other of [office, data, app, leader]) t.deepEqual(await openTasks(other, first.id), [], 'only the network group sees the patrol');
    const incidentsBefore = (await instancesOf(admin, INCIDENT)).length;
    await step(network, 'network-1', first.id, 'patrolChecklist', allClear, [office, data, app, leader]);
    t.is(await stateOf(admin, first.id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, first.id), ['patrolChecklist:network-1']);
    t.deepEqual(await passed(admin, first.id), ['dailyTimerStart', 'patrolChecklist', 'anomalyGateway', 'publishBulletin', 'endPublished']);
    await s.runDue();
    t.is((await instancesOf(admin, INCIDENT)).length, incidentsBefore, 'nothing raised');
  });

  test.serial(t('an off-cycle patrol without anomalies: the checklist is validated, the bulletin published, no incident raised'), async (t) => {
    const { network, office, data, app, leader, admin } = s.staff;
    const noReason = await network.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: {} });
    t.is(noReason.status, 400, 'an off-cycle patrol says why');
    t.regex(noReason.body.message, /patrolReason/);
    const id = await startProcess(network, KEY, { patrolReason: '重大活动网络保障' }, 'PATROL-CLEAR');
    const incidentsBefore = (await instancesOf(admin, INCIDENT)).length;
    const negative = await refusedForm(network, 'network-1', id, 'patrolChecklist', { ...allClear, virusAlerts: -3 });
    t.regex(negative, /virusAlerts/);
    const noFlag = await refusedForm(network, 'network-1', id, 'patrolChecklist', { ...allClear, anomalyFound: undefined, bulletin: '短' });
    t.regex(noFlag, /anomalyFound/);
    t.regex(noFlag, /bulletin/);
    const badLink = await refusedForm(network, 'network-1', id, 'patrolChecklist', { ...allClear, internetLinkStatus: 'broken' });
    t.regex(badLink, /internetLinkStatus/);
    t.deepEqual(await openKeys(admin, id), ['patrolChecklist'], 'refused forms leave the checklist open');
    await step(network, 'network-1', id, 'patrolChecklist', allClear, [office, data, app, leader]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['patrolChecklist:network-1']);
    t.deepEqual(await passed(admin, id), ['manualStart', 'patrolChecklist', 'anomalyGateway', 'publishBulletin', 'endPublished']);
    t.like(await variablesOf(admin, id), { patrolReason: '重大活动网络保障', anomalyFound: false, bulletin: allClear.bulletin, virusAlerts: 0, attackAlerts: 0 });
    await s.runDue();
    t.is((await instancesOf(admin, INCIDENT)).length, incidentsBefore, 'nothing raised');
  });

  test.serial(t('an anomaly on an off-cycle patrol raises a security incident from daily-patrol with the description as summary'), async (t) => {
    const { network, office, data, app, leader, admin } = s.staff;
    const id = await startProcess(network, KEY, { patrolReason: '收到上级网络攻击预警' }, 'PATROL-ADHOC');
    t.deepEqual(await openKeys(admin, id), ['patrolChecklist']);
    const before = new Set((await instancesOf(admin, INCIDENT)).map((i) => i.id));
    const incidentsBefore = before.size;

    const found = {
      ...allClear, deviceStatus: 'degraded', internetLinkStatus: 'degraded', attackAlerts: 37, anomalyFound: true,
      bulletin: '今日巡检：互联网区防火墙出现大量端口扫描告警，已上报安全事件。',
    };
    await step(network, 'network-1', id, 'patrolChecklist', found, [office, data, app, leader]);
    t.deepEqual(await openKeys(admin, id), ['patrolChecklist'], 'an anomaly without a description goes back to be described');
    const description = '互联网区防火墙 37 次端口扫描告警，来源 198.51.100.23';
    await step(network, 'network-1', id, 'patrolChecklist', { ...found, anomalyDescription: description }, [office, data, app, leader]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['patrolChecklist:network-1', 'patrolChecklist:network-1']);
    const path = await passed(admin, id);
    t.deepEqual(path.slice(0, 1), ['manualStart']);
    t.deepEqual(path.slice(-3), ['raiseIncident', 'publishBulletin', 'endPublished'], 'the day\'s bulletin is published after the incident is raised (N5)');

    t.is((await instancesOf(admin, INCIDENT)).length, incidentsBefore, 'the message waits for the scheduler');
    t.true(await s.runDue() >= 1);
    const incidents = await instancesOf(admin, INCIDENT);
    t.is(incidents.length, incidentsBefore + 1, 'one security incident');
    const incident = incidents.find((i) => !before.has(i.id))!;
    t.is(incident.state, 'ACTIVE');
    t.like(await variablesOf(admin, incident.id), { reportSource: 'daily-patrol', reportSummary: description, reportRef: id });
    t.deepEqual(Object.keys(await variablesOf(admin, incident.id)).sort(), ['reportRef', 'reportSource', 'reportSummary'], 'exactly the three contract variables');
    t.deepEqual(await openKeys(admin, incident.id), ['triageIncident']);
    t.deepEqual((await passed(admin, incident.id))[0], 'startFromMonitoring');
    t.deepEqual((await openTasks(office, incident.id)).map((x) => x.taskDefinitionKey), ['triageIncident'], 'the office triages it');
    await s.runDue();
    t.is((await instancesOf(admin, INCIDENT)).length, incidentsBefore + 1, 'delivered exactly once');
  });

  test.serial(t('only the network group patrols (N5); the office cannot start a patrol by hand'), async (t) => {
    const { admin, office } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(office, KEY, { patrolReason: '领导检查' }), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

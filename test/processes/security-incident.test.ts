import fs from 'node:fs';
import test from 'ava';
import { ADMIN, repoRoot, vars, type Client } from '../helpers/server.ts';
import {
  instancesOf, openKeys, openTasks, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, refusedStart,
} from '../helpers/scenario.ts';
import { ballots, leaders, vote } from '../helpers/votes.ts';

const KEY = 'security-incident';
const HOUR = 3600_000;
const remedy = {
  remedyMeasures: '封堵攻击源地址，修复被篡改页面', preventionMeasures: '升级防火墙策略，开启入侵检测告警', remedyDeadline: '2026-12-15T00:00:00.000+0800',
};
const closing = { finalReport: '事件原因已查明，影响范围已控制，补救措施已落实。', measuresImplemented: true, lessonsLearned: '加强边界监测' };
const investigation = { cause: '弱口令被暴力破解', scope: '互联网区门户服务器一台', containment: '已隔离服务器并重置口令' };

/** What the routing table (processes/incident-routing.dmn, task routeIncident) decided for an instance. */
async function routingOf(admin: Client, id: string): Promise<Record<string, unknown>> {
  const r = (await variablesOf(admin, id)).routing;
  return typeof r === 'string' ? JSON.parse(r) : (r as Record<string, unknown>);
}

// An empty output entry leaves its output out of the result, as in Camunda: the office has no report deadline.
const OFFICE = { severityThreshold: 'major', decidingBody: 'office' };
const LEADERS = { severityThreshold: 'major', decidingBody: 'leading-group', reportDeadline: 'PT24H' };

scenarioSuite((s, t) => {

  test.serial(t('a general incident reported by staff: the office triages, only the network group investigates, the office closes; the leading group is skipped'), async (t) => {
    const { office, leader, network, data, app, admin } = s.staff;
    const noSummary = await network.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ reportSource: 'staff' }) });
    t.is(noSummary.status, 400, 'the report form needs a summary');
    t.regex(noSummary.body.message, /reportSummary/);
    const id = await startProcess(network, KEY, { reportSummary: '门户网站首页被篡改', reportSource: 'staff', reporterContact: '分机 8001' }, 'INC-GENERAL');
    t.deepEqual(await openKeys(admin, id), ['triageIncident']);

    const missing = await refusedForm(office, 'office-1', id, 'triageIncident', { category: 'network-attack', affectedZone: 'internet', responsibleGroup: 'network-security' });
    t.regex(missing, /severity/, 'a triage without severity is refused');
    const badSeverity = await refusedForm(office, 'office-1', id, 'triageIncident', { category: 'network-attack', severity: 'huge', affectedZone: 'internet', responsibleGroup: 'network-security' });
    t.regex(badSeverity, /general \(一般\)/, 'severity must be one of 一般/较大/重大/特别重大');
    t.deepEqual(await openKeys(admin, id), ['triageIncident'], 'refused forms leave the task open');

    await step(office, 'office-1', id, 'triageIncident', {
      category: 'network-attack', severity: 'general', affectedZone: 'internet', responsibleGroup: 'network-security', triageNote: '交网络安全小组调查',
    }, [leader, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['investigateNetwork'], 'only the chosen group has an investigation');
    t.deepEqual(await routingOf(admin, id), OFFICE, 'general: the routing table gives it to the office');
    t.deepEqual((await openTasks(data, id)).map((x) => x.taskDefinitionKey), [], 'the data group sees nothing');
    t.deepEqual((await openTasks(app, id)).map((x) => x.taskDefinitionKey), [], 'the application group sees nothing');
    const shortCause = await refusedForm(network, 'network-1', id, 'investigateNetwork', { ...investigation, cause: '未知' });
    t.regex(shortCause, /cause/);
    await step(network, 'network-1', id, 'investigateNetwork', { ...investigation, attackSource: '203.0.113.7' }, [office, leader, data, app]);
    await step(office, 'office-1', id, 'proposeRemedy', remedy, [leader, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['closeIncident'], 'a general incident goes straight to closing');
    await step(office, 'office-1', id, 'closeIncident', closing, [leader, network, data, app]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'triageIncident:office-1', 'investigateNetwork:network-1', 'proposeRemedy:office-1', 'closeIncident:office-1',
    ]);
    const path = await passed(admin, id);
    t.is(path[0], 'startReported');
    t.true(path.includes('routeIncident'), 'routed by the decision table');
    t.true(path.includes('closingMerge'));
    t.false(path.includes('leadingGroupDecision') || path.includes('reportToSuperiors'), 'the leading group is skipped');
    t.is(path.at(-1), 'endClosed');
    const v = await variablesOf(admin, id);
    t.like(v, { reportSource: 'staff', severity: 'general', responsibleGroup: 'network-security', cause: investigation.cause, measuresImplemented: true });
  });

  test.serial(t('a serious incident goes to the application group only and also skips the leading group'), async (t) => {
    const { office, leader, network, data, app, admin } = s.staff;
    const id = await startProcess(office, KEY, { reportSummary: '业务系统出现恶意代码告警', reportSource: 'public' }, 'INC-SERIOUS');
    await step(office, 'office-1', id, 'triageIncident', {
      category: 'malware', severity: 'serious', affectedZone: 'government-network', responsibleGroup: 'app-security',
    }, [leader, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['investigateApp']);
    t.deepEqual(await routingOf(admin, id), OFFICE, 'serious malware: the office');
    await step(app, 'app-1', id, 'investigateApp', {
      cause: '第三方组件存在漏洞被植入木马', scope: '信用查询应用服务器两台', affectedApplications: '信用查询系统', containment: '下线组件并清除木马',
    }, [office, leader, network, data]);
    await step(office, 'office-1', id, 'proposeRemedy', remedy, [leader, app]);
    t.deepEqual(await openKeys(admin, id), ['closeIncident']);
    await step(office, 'office-1', id, 'closeIncident', closing, [leader, app]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['triageIncident:office-1', 'investigateApp:app-1', 'proposeRemedy:office-1', 'closeIncident:office-1']);
    const path = await passed(admin, id);
    t.false(path.includes('reportSplit') || path.includes('leadingGroupDecision'));
  });

  test.serial(t('a monitoring system raises a major incident by message: the leading group decides while the office reports to superiors'), async (t) => {
    const { office, leader, network, data, app, worker, admin } = s.staff;
    const message = { messageName: 'security-incident-reported', processVariables: vars({ reportSource: 'monitoring', reportSummary: '数据库出现大批量异常导出' }), resultEnabled: true };
    t.is((await office.post('/engine-rest/message', message)).status, 403, 'people do not send monitoring messages');
    const before = (await instancesOf(admin, KEY)).length;
    const sent = await worker.post('/engine-rest/message', message);
    t.is(sent.status, 200);
    t.is(sent.body.length, 1);
    t.is(sent.body[0].resultType, 'ProcessDefinition');
    const id: string = sent.body[0].processInstance.id;
    const all = await instancesOf(admin, KEY);
    t.is(all.length, before + 1);
    t.is(all.find((i) => i.id === id)?.startUserId, 'worker-1', 'started by the monitoring worker');
    t.like(await variablesOf(admin, id), { reportSource: 'monitoring', reportSummary: '数据库出现大批量异常导出' });
    t.deepEqual(await openKeys(admin, id), ['triageIncident']);

    await step(office, 'office-1', id, 'triageIncident', {
      category: 'data-leak', severity: 'major', affectedZone: 'government-network', responsibleGroup: 'data-security',
    }, [leader, network, data, app, worker]);
    t.deepEqual(await openKeys(admin, id), ['investigateData']);
    t.deepEqual(await routingOf(admin, id), LEADERS, 'a major data leak in the private zone: the leading group, superiors within 24 hours');
    const negative = await refusedForm(data, 'data-1', id, 'investigateData', { ...investigation, affectedRecords: -1 });
    t.regex(negative, /affectedRecords/);
    await step(data, 'data-1', id, 'investigateData', {
      cause: '运维账号被盗用批量导出', scope: '法人信用信息表', affectedRecords: '12000', containment: '冻结账号，封禁导出接口',
    }, [office, leader, network, app, worker]);
    t.is((await variablesOf(admin, id)).affectedRecords, 12000, 'a long field stores a number');
    await step(office, 'office-1', id, 'proposeRemedy', remedy, [leader, data]);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'reportToSuperiors'], 'major: the leading group and the superiors at once');

    await step(leader, 'leader-1', id, 'leadingGroupDecision', { handlingDecision: 'approve', decisionComment: '同意办公室提出的处置方案' }, [office, network, data, app, worker]);
    t.deepEqual(await openKeys(admin, id), ['reportToSuperiors'], 'approved: the join waits for the report to superiors');
    await step(office, 'office-1', id, 'reportToSuperiors', {
      superiorUnit: '市发展改革委', reportedAt: '2026-12-01T12:00:00.000+0800', superiorReport: '已发生重大数据泄露事件，已启动应急预案。',
    }, [leader, network, data, app, worker]);
    t.deepEqual(await openKeys(admin, id), ['closeIncident']);
    await step(office, 'office-1', id, 'closeIncident', closing, [leader, data]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'triageIncident:office-1', 'investigateData:data-1', 'proposeRemedy:office-1',
      'leadingGroupDecision:leader-1', 'reportToSuperiors:office-1', 'closeIncident:office-1',
    ]);
    const path = await passed(admin, id);
    t.is(path[0], 'startFromMonitoring');
    for (const e of ['reportSplit', 'leadershipHandling', 'leadingGroupDecision', 'handlingGateway', 'endHandlingApproved', 'reportToSuperiors', 'reportJoin', 'closedGateway', 'endClosed']) t.true(path.includes(e), e);
    t.false(path.includes('escalateDecision') || path.includes('superviseReport'), 'no deadline passed');
    t.false(path.includes('strengthenRemedy') || path.includes('runEmergencyPlan') || path.includes('followUpMeasures'), 'approved as proposed, closed at once');
  });

  test.serial(t('a critical incident past its deadlines: after 4 hours the office chases the decision, after 24 hours the leading group supervises the report; stronger measures go back to the leading group, the emergency plan is run by the office, and measures not in place keep it open'), async (t) => {
    const { office, leader, network, data, app, admin } = s.staff;
    const id = await startProcess(network, KEY, { reportSummary: '两个区域同时遭受勒索病毒攻击', reportSource: 'staff' }, 'INC-CRITICAL');
    await step(office, 'office-1', id, 'triageIncident', {
      category: 'malware', severity: 'critical', affectedZone: 'both', responsibleGroup: 'network-security',
    }, [leader, network]);
    t.deepEqual(await routingOf(admin, id), LEADERS, 'critical: the leading group, superiors within 24 hours');
    await step(network, 'network-1', id, 'investigateNetwork', {
      cause: '钓鱼邮件附件携带勒索病毒', scope: '政务专网区和互联网区共 9 台服务器', containment: '断开两区互联，隔离感染主机',
    }, [office, data, app]);
    await step(office, 'office-1', id, 'proposeRemedy', remedy, [leader]);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'reportToSuperiors']);

    s.clock.advance(4 * HOUR - 1000);
    await s.runDue();
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'reportToSuperiors'], 'not a second early');
    s.clock.advance(1000);
    t.true(await s.runDue() >= 1);
    t.deepEqual(await openKeys(admin, id), ['escalateDecision', 'leadingGroupDecision', 'reportToSuperiors'], 'the decision stays open');
    t.false((await openTasks(leader, id)).some((x) => x.taskDefinitionKey === 'escalateDecision'), 'the office chases, not the leaders');
    await step(office, 'office-1', id, 'escalateDecision', { escalationNote: '已电话报告领导小组组长', escalatedTo: '领导小组组长' }, [leader, network, data, app]);

    s.clock.advance(20 * HOUR - 1000);
    await s.runDue();
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'reportToSuperiors']);
    s.clock.advance(1000);
    t.true(await s.runDue() >= 1);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'reportToSuperiors', 'superviseReport'], 'the report stays open; the leaders supervise it');
    await step(leader, 'leader-1', id, 'superviseReport', { supervisionNote: '办公室须于今日内完成上报' }, [office, network, data, app]);
    await step(office, 'office-1', id, 'reportToSuperiors', {
      superiorUnit: '市发展改革委', reportedAt: '2026-12-02T11:00:00.000+0800', superiorReport: '发生特别重大勒索病毒事件，已断网隔离。',
    }, [leader, network]);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision'], 'reported; the decision is still open');

    // 加强处置措施: the office strengthens the remedy and the leading group decides again.
    await step(leader, 'leader-1', id, 'leadingGroupDecision', { handlingDecision: 'strengthen', decisionComment: '全面排查两区主机' }, [office, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['strengthenRemedy'], 'not to the join: the office strengthens the measures first');
    const [strengthen] = (await openTasks(office, id)).filter((x) => x.taskDefinitionKey === 'strengthenRemedy');
    const form = (await office.get(`/engine-rest/task/${strengthen.id}/form-variables`)).body;
    t.is(form.decisionComment.value, '全面排查两区主机', 'the office sees what the leaders asked for');
    const stronger = { ...remedy, remedyMeasures: '封堵攻击源，全面排查两区全部主机并重装感染主机', remedyDeadline: '2026-12-10T00:00:00.000+0800' };
    t.regex(await refusedForm(office, 'office-1', id, 'strengthenRemedy', stronger), /strengtheningNote/);
    await step(office, 'office-1', id, 'strengthenRemedy', { ...stronger, strengtheningNote: '由隔离感染主机扩大为排查两区全部主机' }, [leader, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision'], 'resubmitted to the leading group');

    // 启动应急预案: the office runs the emergency plan; then the join (the report is done) lets it close.
    await step(leader, 'leader-1', id, 'leadingGroupDecision', { handlingDecision: 'emergency-plan', decisionComment: '启动网络安全事件应急预案' }, [office, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['runEmergencyPlan']);
    t.regex(await refusedForm(office, 'office-1', id, 'runEmergencyPlan', { emergencyActions: '短', emergencyEndedAt: '2026-12-02T20:00:00.000+0800' }), /emergencyPlan[\s\S]*emergencyActions/);
    await step(office, 'office-1', id, 'runEmergencyPlan', {
      emergencyPlan: 'HQ-YJ-01 网络安全事件应急预案', emergencyActions: '两区断网隔离，恢复备份，逐台查杀后恢复联网', emergencyEndedAt: '2026-12-02T20:00:00.000+0800',
    }, [leader, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['closeIncident']);

    // Measures not in place: the office follows them up instead of closing.
    await step(office, 'office-1', id, 'closeIncident', { ...closing, measuresImplemented: false }, [leader, network]);
    t.is(await stateOf(admin, id), 'ACTIVE', 'not closed while the measures are not in place');
    t.deepEqual(await openKeys(admin, id), ['followUpMeasures']);
    t.regex(await refusedForm(office, 'office-1', id, 'followUpMeasures', { outstandingMeasures: '入侵检测告警未开启' }), /followUpNote[\s\S]*remedyDeadline/);
    await step(office, 'office-1', id, 'followUpMeasures', {
      outstandingMeasures: '入侵检测告警未开启', followUpNote: '已督促网络安全小组三日内开启', remedyDeadline: '2026-12-05T00:00:00.000+0800',
    }, [leader, network, data, app]);
    t.deepEqual(await openKeys(admin, id), ['closeIncident'], 'back to closing');
    await step(office, 'office-1', id, 'closeIncident', closing, [leader, network]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'triageIncident:office-1', 'investigateNetwork:network-1', 'proposeRemedy:office-1', 'escalateDecision:office-1',
      'superviseReport:leader-1', 'reportToSuperiors:office-1',
      'leadingGroupDecision:leader-1', 'strengthenRemedy:office-1', 'leadingGroupDecision:leader-1', 'runEmergencyPlan:office-1',
      'closeIncident:office-1', 'followUpMeasures:office-1', 'closeIncident:office-1',
    ]);
    const path = await passed(admin, id);
    for (const e of ['decisionDeadlineTimer', 'endDecisionEscalated', 'reportDeadlineTimer', 'endReportSupervised', 'endEmergencyHandled', 'endClosed']) t.true(path.includes(e), e);
    t.false(path.includes('endHandlingApproved'));
    t.is(path.filter((e) => e === 'handlingGateway').length, 2);
    t.is(path.filter((e) => e === 'closedGateway').length, 2);
    t.is(path.filter((e) => e === 'reportJoin').length, 1, 'joined once');
    t.is(path.filter((e) => e === 'leadershipHandling').length, 1, 'the leading group\'s side ends once, after the emergency plan');
    t.like(await variablesOf(admin, id), {
      remedyMeasures: stronger.remedyMeasures, handlingDecision: 'emergency-plan', emergencyPlan: 'HQ-YJ-01 网络安全事件应急预案',
      remedyDeadline: '2026-12-05T00:00:00.000+0800', measuresImplemented: true,
    });
    t.deepEqual(await openKeys(admin, id), []);
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'nothing left armed');
  });

  test.serial(t('any person of a role may report an incident by form, but a machine may not: monitoring reports by message'), async (t) => {
    const { admin, worker } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(worker, KEY, { reportSummary: '防火墙告警：端口扫描', reportSource: 'monitoring' }), /workers may only work external tasks and send messages/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });

  // The leading group decides as a body (docs/leading-group-vote.md): from here on it has three members.

  /** A major incident investigated by the network group, put to the leading group under `rule`; returns the instance id. */
  async function majorIncident(businessKey: string, rule: Record<string, unknown>): Promise<string> {
    const { office, network } = s.staff;
    const id = await startProcess(network, KEY, { reportSummary: '政务专网区数据库服务器遭入侵', reportSource: 'staff' }, businessKey);
    await step(office, 'office-1', id, 'triageIncident', { category: 'network-attack', severity: 'major', affectedZone: 'government-network', responsibleGroup: 'network-security' });
    await step(network, 'network-1', id, 'investigateNetwork', investigation);
    await step(office, 'office-1', id, 'proposeRemedy', { ...remedy, ...rule });
    return id;
  }

  /** Reports to superiors, and closes once the leading group's side is done. */
  async function reportAndClose(id: string): Promise<void> {
    const { office } = s.staff;
    await step(office, 'office-1', id, 'reportToSuperiors', {
      superiorUnit: '市发展改革委', reportedAt: '2026-12-01T12:00:00.000+0800', superiorReport: '发生重大网络安全事件，已按领导小组决定处置。',
    });
    await step(office, 'office-1', id, 'closeIncident', closing);
  }

  async function decisionHistory(id: string): Promise<string[][]> {
    const r = await s.staff.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=leadingGroupDecision&sortBy=startTime&sortOrder=asc`);
    return r.body.map((h: { assignee: string; deleteReason: string }) => [h.assignee, h.deleteReason]);
  }

  test.serial(t('票签 (more than half of three): a vote to strengthen and a vote for the emergency plan end it early in a tie, which runs the emergency plan; the third member\'s task is deleted'), async (t) => {
    const { office, network, admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3']);
    const refusedShare = await refusedForm(office, 'office-1', await (async () => {
      const id = await startProcess(network, KEY, { reportSummary: '门户网站遭受拒绝服务攻击', reportSource: 'staff' }, 'INC-SHARE-BAD');
      await step(office, 'office-1', id, 'triageIncident', { category: 'network-attack', severity: 'major', affectedZone: 'internet', responsibleGroup: 'network-security' });
      await step(network, 'network-1', id, 'investigateNetwork', investigation);
      return id;
    })(), 'proposeRemedy', { ...remedy, decisionRule: 'share', voteThreshold: -1 });
    t.regex(refusedShare, /voteThreshold/, 'the share is a percentage from 0 to 99');

    const id = await majorIncident('INC-SHARE', { decisionRule: 'share', voteThreshold: 50 });
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'leadingGroupDecision', 'leadingGroupDecision', 'reportToSuperiors']);
    t.like(await variablesOf(admin, id), { decisionRule: 'share', approvalsNeeded: 2 });
    await vote(l['leader-1']!, 'leader-1', id, { handlingDecision: 'strengthen', decisionComment: '扩大排查范围' }, [l['leader-2']!, l['leader-3']!, office, network]);
    t.is((await ballots(admin, id)).size, 2, 'two may still approve');
    await vote(l['leader-2']!, 'leader-2', id, { handlingDecision: 'emergency-plan', decisionComment: '立即启动应急预案' }, [l['leader-3']!, office]);
    t.deepEqual(await openKeys(admin, id), ['reportToSuperiors', 'runEmergencyPlan'], 'at most one approval is left: ended; the tie errs on the side of caution');
    t.deepEqual((await decisionHistory(id)).sort(), [['leader-1', 'completed'], ['leader-2', 'completed'], ['leader-3', 'deleted']]);
    t.like(await variablesOf(admin, id), { approveCount: 0, strengthenCount: 1, emergencyCount: 1 });
    const [run] = (await openTasks(office, id)).filter((x) => x.taskDefinitionKey === 'runEmergencyPlan');
    const form = (await office.get(`/engine-rest/task/${run!.id}/form-variables`)).body;
    t.is(form.voteLog.value, 'leader-1:strengthen(扩大排查范围);leader-2:emergency-plan(立即启动应急预案);', 'the office sees how each member voted');
    await step(office, 'office-1', id, 'runEmergencyPlan', {
      emergencyPlan: 'HQ-YJ-01 网络安全事件应急预案', emergencyActions: '隔离数据库服务器，恢复备份并加固', emergencyEndedAt: '2026-12-01T20:00:00.000+0800',
    });
    await reportAndClose(id);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.true((await passed(admin, id)).includes('endEmergencyHandled'));
  });

  test.serial(t('会签: one member asking for stronger measures ends the vote at once; the resubmission asks every member again, and all approve'), async (t) => {
    const { office, admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3']);
    const id = await majorIncident('INC-ALL', { decisionRule: 'all' });
    await vote(l['leader-3']!, 'leader-3', id, { handlingDecision: 'approve', decisionComment: '同意' }, [l['leader-1']!]);
    await vote(l['leader-2']!, 'leader-2', id, { handlingDecision: 'strengthen', decisionComment: '补充主机排查' }, [l['leader-1']!, office]);
    t.deepEqual(await openKeys(admin, id), ['reportToSuperiors', 'strengthenRemedy'], 'all must agree: one asking for more ends it');
    await step(office, 'office-1', id, 'strengthenRemedy', { ...remedy, remedyMeasures: '封堵攻击源地址，排查同网段全部主机', strengtheningNote: '按领导小组意见补充主机排查' });
    const second = await ballots(admin, id);
    t.deepEqual([...second.keys()].sort(), ['leader-1', 'leader-2', 'leader-3'], 'every member is asked again');
    t.like(await variablesOf(admin, id), { approveCount: 0, strengthenCount: 0, emergencyCount: 0, voteLog: '' });
    await vote(l['leader-1']!, 'leader-1', id, { handlingDecision: 'approve', decisionComment: '同意' });
    await vote(l['leader-2']!, 'leader-2', id, { handlingDecision: 'approve', decisionComment: '同意加强后的方案' });
    t.is((await ballots(admin, id)).size, 1);
    await vote(l['leader-3']!, 'leader-3', id, { handlingDecision: 'approve', decisionComment: '同意' });
    t.deepEqual(await openKeys(admin, id), ['reportToSuperiors']);
    const rounds = await decisionHistory(id);
    t.deepEqual(rounds.slice(0, 3).sort(), [['leader-1', 'deleted'], ['leader-2', 'completed'], ['leader-3', 'completed']], 'first round: leader-1 was not asked to finish');
    t.deepEqual(rounds.slice(3).sort(), [['leader-1', 'completed'], ['leader-2', 'completed'], ['leader-3', 'completed']], 'second round: all three');
    await reportAndClose(id);
    const path = await passed(admin, id);
    t.true(path.includes('endHandlingApproved'));
    t.is(path.filter((e) => e === 'prepareVote').length, 2);
  });

  test.serial(t('或签: the first approval decides even after a vote for the emergency plan'), async (t) => {
    const { admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3']);
    const id = await majorIncident('INC-ANY', { decisionRule: 'any' });
    await vote(l['leader-3']!, 'leader-3', id, { handlingDecision: 'emergency-plan', decisionComment: '建议启动预案' });
    t.is((await ballots(admin, id)).size, 2, 'an approval may still come');
    await vote(l['leader-1']!, 'leader-1', id, { handlingDecision: 'approve', decisionComment: '同意办公室方案' }, [l['leader-2']!]);
    t.deepEqual(await openKeys(admin, id), ['reportToSuperiors'], 'approved by one; leader-2 is not asked');
    t.deepEqual((await decisionHistory(id)).sort(), [['leader-1', 'completed'], ['leader-2', 'deleted'], ['leader-3', 'completed']]);
    await reportAndClose(id);
    t.true((await passed(admin, id)).includes('endHandlingApproved'));
  });
  // The routing table decides, not the diagram: each severity above went through it (routeIncident).

  test.serial(t('a serious data leak facing the public goes to the leading group by the routing table, and superiors must be told within 12 hours'), async (t) => {
    const { office, leader, data, admin } = s.staff;
    const id = await startProcess(data, KEY, { reportSummary: '互联网区信用公示页面泄露个人信息', reportSource: 'staff' }, 'INC-PUBLIC-LEAK');
    await step(office, 'office-1', id, 'triageIncident', { category: 'data-leak', severity: 'serious', affectedZone: 'internet', responsibleGroup: 'data-security' });
    t.deepEqual(await routingOf(admin, id), { severityThreshold: 'serious', decidingBody: 'leading-group', reportDeadline: 'PT12H' });
    await step(data, 'data-1', id, 'investigateData', { cause: '公示页面未脱敏', scope: '互联网区信用公示系统', affectedRecords: '300', containment: '下线公示页面' });
    await step(office, 'office-1', id, 'proposeRemedy', remedy);
    const open = await openKeys(admin, id);
    t.true(open.includes('leadingGroupDecision') && open.includes('reportToSuperiors'), 'serious, yet the leading group decides');
    s.clock.advance(12 * HOUR - 1000);
    await s.runDue();
    t.false((await openKeys(admin, id)).includes('superviseReport'), 'not a second early');
    s.clock.advance(1000);
    await s.runDue();
    t.true((await openKeys(admin, id)).includes('superviseReport'), 'after 12 hours the leading group supervises the report');
    await step(leader, 'leader-1', id, 'superviseReport', { supervisionNote: '立即上报' });
    const decisions = (await admin.get(`/engine-rest/history/decision-instance?processInstanceId=${id}&includeOutputs=true`)).body;
    t.deepEqual(decisions.map((d: { decisionDefinitionKey: string; activityId: string }) => [d.decisionDefinitionKey, d.activityId]), [['incident-routing', 'routeIncident']]);
    t.deepEqual(decisions[0].outputs.map((o: { ruleId: string }) => o.ruleId)[0], 'public-data-grave', 'the history names the rule that matched');
    await admin.delete(`/engine-rest/process-instance/${id}`);
  });

  test.serial(t('the office deploys a new version of the routing table over REST: incidents routed after it follow it, one already past the routing keeps its route, and the process is untouched'), async (t) => {
    const { office, network, app, admin } = s.staff;
    const triage = { category: 'malware', severity: 'serious', affectedZone: 'government-network', responsibleGroup: 'app-security' };
    const definitionBefore = (await admin.get(`/engine-rest/process-definition/key/${KEY}`)).body.id;
    const past = await startProcess(network, KEY, { reportSummary: '终端发现木马', reportSource: 'staff' }, 'INC-ROUTE-OLD');
    await step(office, 'office-1', past, 'triageIncident', triage);
    t.deepEqual(await routingOf(admin, past), OFFICE);
    const waiting = await startProcess(network, KEY, { reportSummary: '服务器发现挖矿程序', reportSource: 'staff' }, 'INC-ROUTE-WAITING');

    // Version 2: from now on serious incidents of the other categories go to the leading group too.
    const v1 = fs.readFileSync(`${repoRoot}/processes/incident-routing.dmn`, 'utf8');
    const v2 = v1
      .replace(/(<rule id="other-grave">[\s\S]*?other-grave-severity"><text>)"major","critical"/, '$1"serious","major","critical"')
      .replace(/(<rule id="other-minor">[\s\S]*?other-minor-severity"><text>)"general","serious"/, '$1"general"')
      .replace(/(other-(grave|minor)-threshold"><text>)"major"/g, '$1"serious"')
      .replace('camunda:versionTag="1"', 'camunda:versionTag="2"');
    t.not(v2, v1);
    const form = new FormData();
    form.append('deployment-name', 'incident-routing v2');
    form.append('incident-routing.dmn', new Blob([v2]), 'incident-routing.dmn');
    const res = await fetch(`${s.server.url}/engine-rest/deployment/create`, {
      method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
    });
    t.is(res.status, 200);
    const deployed = (await res.json()) as { deployedDecisionDefinitions?: Record<string, { key: string; version: number }> };
    const [decision] = Object.values(deployed.deployedDecisionDefinitions ?? {});
    t.like(decision, { key: 'incident-routing', version: 2 });
    t.is((await admin.get(`/engine-rest/process-definition/key/${KEY}`)).body.id, definitionBefore, 'the process was not redeployed');

    const after = await startProcess(network, KEY, { reportSummary: '业务系统遭植入后门', reportSource: 'staff' }, 'INC-ROUTE-NEW');
    for (const id of [after, waiting]) {
      await step(office, 'office-1', id, 'triageIncident', triage);
      t.deepEqual(await routingOf(admin, id), { severityThreshold: 'serious', decidingBody: 'leading-group', reportDeadline: 'PT24H' }, 'routed by version 2');
    }
    t.deepEqual(await routingOf(admin, past), OFFICE, 'already past the routing: unchanged');

    const investigate = { cause: '第三方组件存在漏洞', scope: '业务系统一台', affectedApplications: '信用查询系统', containment: '下线组件' };
    for (const id of [past, after]) {
      await step(app, 'app-1', id, 'investigateApp', investigate);
      await step(office, 'office-1', id, 'proposeRemedy', remedy);
    }
    t.deepEqual(await openKeys(admin, past), ['closeIncident'], 'the office closes the one routed before');
    const afterKeys = await openKeys(admin, after);
    t.true(afterKeys.includes('leadingGroupDecision') && afterKeys.includes('reportToSuperiors'), 'the leading group decides the one routed after');
    for (const id of [past, after, waiting]) await admin.delete(`/engine-rest/process-instance/${id}`);
  });
});

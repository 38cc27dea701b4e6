import test from 'ava';
import {
  instancesOf, openKeys, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, justBefore, startTimers, refusedStart,
} from '../helpers/scenario.ts';

/*
 * 安全检查 (O4 L4): quarterly timer start (1 Jan/Apr/Jul/Oct, 09:00
 * Asia/Shanghai) or a manual start; the network, data and application groups
 * self-inspect in parallel; the office analyses the overall state and writes
 * the report with risks and countermeasures; the leading group accepts it or
 * orders rectification, which the office dispatches before the groups
 * inspect again. The scenario server starts at 2026-12-01T01:00:00Z.
 */
const KEY = 'security-inspection';
const SECOND = 1000;

const network = { networkFindings: '互联网区两台交换机未启用端口安全', networkRiskLevel: 'medium', networkFixesDone: '已更新防火墙策略', networkOpenIssues: 1 };
const data = { dataFindings: '备份介质异地存放记录不全', dataRiskLevel: 'low', dataFixesDone: '补全备份台账', dataOpenIssues: 0 };
const app = { appFindings: '查询服务器存在未修复中危漏洞两个', appRiskLevel: 'high', appFixesDone: '已修复一个高危漏洞', appOpenIssues: 2 };
const analysis = {
  overallRiskLevel: 'medium',
  analysisReport: '本季度平台整体运行平稳，网络与数据安全措施基本落实，应用层漏洞修复滞后。',
  riskCountermeasures: '应用漏洞限期两周修复；交换机端口安全统一配置；每月复核备份台账。',
  reportRef: 'SA-2026-Q4',
};

scenarioSuite((s, t) => {

  test.serial(t('three groups self-inspect in parallel, the office reports risks and countermeasures, the leading group accepts'), async (t) => {
    const { office, leader, network: net, data: dat, app: ap, admin, worker } = s.staff;
    const id = await startProcess(office, KEY, { inspectionReason: '四季度例行检查补充' }, 'INSPECT-2026-Q4');
    t.deepEqual(await openKeys(admin, id), ['inspectApp', 'inspectData', 'inspectNetwork'], 'all three at once');
    await step(dat, 'data-1', id, 'inspectData', data, [net, ap, office, leader, worker]);
    await step(ap, 'app-1', id, 'inspectApp', app, [net, dat, office, leader, worker]);
    t.deepEqual(await openKeys(admin, id), ['inspectNetwork'], 'the join waits for the last group');
    await step(net, 'network-1', id, 'inspectNetwork', network, [dat, ap, office, leader, worker]);
    t.deepEqual(await openKeys(admin, id), ['analyseSecurityState']);
    await step(office, 'office-1', id, 'analyseSecurityState', analysis, [leader, net, dat, ap]);
    await step(leader, 'leader-1', id, 'leadingGroupReview', { reviewDecision: 'accept', reviewComment: '同意报告，按措施落实' }, [office, net, dat, ap, worker]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'inspectData:data-1', 'inspectApp:app-1', 'inspectNetwork:network-1', 'analyseSecurityState:office-1', 'leadingGroupReview:leader-1',
    ]);
    const path = await passed(admin, id);
    for (const e of ['startManual', 'forkInspection', 'joinInspection', 'reviewGateway', 'endAccepted']) t.true(path.includes(e), `passed ${e}`);
    t.false(path.includes('arrangeRectification'));
    const v = await variablesOf(admin, id);
    t.is(v.appOpenIssues, 2);
    t.is(v.overallRiskLevel, 'medium');
    t.is(v.reportRef, 'SA-2026-Q4');
  });

  test.serial(t('the leading group orders rectification: the office dispatches it, the groups inspect again, the second report is accepted'), async (t) => {
    const { office, leader, network: net, data: dat, app: ap, admin } = s.staff;
    const id = await startProcess(leader, KEY, { inspectionReason: '重大活动保障前专项检查' }, 'INSPECT-SPECIAL-1');
    await step(net, 'network-1', id, 'inspectNetwork', network, [dat, ap]);
    await step(dat, 'data-1', id, 'inspectData', data, [net, ap]);
    await step(ap, 'app-1', id, 'inspectApp', { ...app, appRiskLevel: 'critical', appOpenIssues: 3 }, [net, dat]);
    await step(office, 'office-1', id, 'analyseSecurityState', { ...analysis, overallRiskLevel: 'high' }, [leader]);
    await step(leader, 'leader-1', id, 'leadingGroupReview', { reviewDecision: 'rectify', reviewComment: '应用高危漏洞须在活动前清零，网络问题同步整改' }, [office, net, dat, ap]);
    t.deepEqual(await openKeys(admin, id), ['arrangeRectification']);
    await step(office, 'office-1', id, 'arrangeRectification', {
      rectificationPlan: '应用组修复全部高危漏洞，网络组启用端口安全，完成后复查', rectificationDeadline: '2026-12-15T00:00:00.000+0800',
    }, [leader, net, dat, ap]);
    t.deepEqual(await openKeys(admin, id), ['inspectApp', 'inspectData', 'inspectNetwork'], 'the groups inspect again');

    await step(ap, 'app-1', id, 'inspectApp', { ...app, appRiskLevel: 'low', appFixesDone: '高危漏洞已全部修复并复测', appOpenIssues: 0 }, [net, dat]);
    await step(net, 'network-1', id, 'inspectNetwork', { ...network, networkRiskLevel: 'low', networkFixesDone: '已启用端口安全', networkOpenIssues: 0 }, [dat, ap]);
    await step(dat, 'data-1', id, 'inspectData', data, [net, ap]);
    await step(office, 'office-1', id, 'analyseSecurityState', { ...analysis, overallRiskLevel: 'low', reportRef: 'SA-SPECIAL-1-R' }, [leader]);
    await step(leader, 'leader-1', id, 'leadingGroupReview', { reviewDecision: 'accept' }, [office, net]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'inspectNetwork:network-1', 'inspectData:data-1', 'inspectApp:app-1', 'analyseSecurityState:office-1', 'leadingGroupReview:leader-1',
      'arrangeRectification:office-1',
      'inspectApp:app-1', 'inspectNetwork:network-1', 'inspectData:data-1', 'analyseSecurityState:office-1', 'leadingGroupReview:leader-1',
    ]);
    const path = await passed(admin, id);
    t.is(path.filter((e) => e === 'mergeStart').length, 2, 'inspected twice');
    t.is(path.filter((e) => e === 'endAccepted').length, 1);
    const v = await variablesOf(admin, id);
    t.is(v.rectificationDeadline, '2026-12-15T00:00:00.000+0800');
    t.is(v.appOpenIssues, 0, 'the re-inspection replaced the first count');
    t.is(v.overallRiskLevel, 'low');
  });

  test.serial(t('forms refuse bad values: negative counts, unknown risk levels, a thin report, no decision, no deadline'), async (t) => {
    const { office, leader, network: net, data: dat, app: ap, admin } = s.staff;
    const r = await office.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: { inspectionReason: { value: '因'.repeat(501) } } });
    t.is(r.status, 400, 'the start form limits the reason');

    const id = await startProcess(office, KEY);
    let message = await refusedForm(net, 'network-1', id, 'inspectNetwork', { networkFindings: '无', networkRiskLevel: 'none', networkFixesDone: '无', networkOpenIssues: -1 });
    t.regex(message, /networkFindings/, 'findings need a few words');
    t.regex(message, /networkRiskLevel/);
    t.regex(message, /networkOpenIssues/);
    message = await refusedForm(dat, 'data-1', id, 'inspectData', { dataFindings: '备份台账检查', dataRiskLevel: 'low', dataOpenIssues: 'two' });
    t.regex(message, /dataFixesDone/);
    t.regex(message, /dataOpenIssues/);
    await step(net, 'network-1', id, 'inspectNetwork', network);
    await step(dat, 'data-1', id, 'inspectData', data);
    await step(ap, 'app-1', id, 'inspectApp', app);

    message = await refusedForm(office, 'office-1', id, 'analyseSecurityState', { overallRiskLevel: 'medium', analysisReport: '总体良好', riskCountermeasures: '' });
    t.regex(message, /analysisReport/);
    t.regex(message, /riskCountermeasures/);
    await step(office, 'office-1', id, 'analyseSecurityState', analysis);
    message = await refusedForm(leader, 'leader-1', id, 'leadingGroupReview', { reviewComment: '再议' });
    t.regex(message, /reviewDecision/);
    await step(leader, 'leader-1', id, 'leadingGroupReview', { reviewDecision: 'rectify', reviewComment: '整改后再报' });
    message = await refusedForm(office, 'office-1', id, 'arrangeRectification', { rectificationPlan: '各组按要求完成整改并复查', rectificationDeadline: '月底前' });
    t.regex(message, /rectificationDeadline/);
    t.deepEqual(await openKeys(admin, id), ['arrangeRectification'], 'refused forms change nothing');
  });

  test.serial(t('the quarterly start timer fires at the next quarter start (1 January, 09:00 Shanghai), not before, then 1 April; the timed inspection runs like any other'), async (t) => {
    const { admin, office, leader, network: net, data: dat, app: ap } = s.staff;
    const [timer] = await startTimers(s, KEY);
    t.is(timer.activityId, 'startQuarterly');
    t.is(timer.jobConfiguration, 'CYCLE: 0 0 9 1 1,4,7,10 ?');
    t.is(timer.nextDueDate, '2027-01-01T09:00:00.000+0800', 'from 1 December the next quarter starts on 1 January');

    const before = new Set((await instancesOf(admin, KEY)).map((i) => i.id));
    t.is(await justBefore(s, new Date('2027-01-01T01:00:00Z')), 0, 'not a second early');
    t.is((await instancesOf(admin, KEY)).length, before.size);
    s.clock.advance(SECOND);
    t.true(await s.runDue() >= 1);
    const started = (await instancesOf(admin, KEY)).filter((i) => !before.has(i.id));
    t.is(started.length, 1, 'one instance started');
    t.is(started[0].startUserId, 'system');
    const id = started[0].id;
    t.deepEqual(await openKeys(admin, id), ['inspectApp', 'inspectData', 'inspectNetwork'], 'the timed inspection offers the three self-inspections');
    t.true((await passed(admin, id)).includes('startQuarterly'));
    t.is((await startTimers(s, KEY))[0].nextDueDate, '2027-04-01T09:00:00.000+0800', 'the next is the following quarter');

    // Nothing more during the quarter: the first of February and of March pass quietly; 1 April starts the next.
    t.is(await justBefore(s, new Date('2027-04-01T01:00:00Z')), 0);
    t.is((await instancesOf(admin, KEY)).length, before.size + 1);
    s.clock.advance(SECOND);
    t.true(await s.runDue() >= 1);
    t.is((await instancesOf(admin, KEY)).length, before.size + 2);
    t.is((await startTimers(s, KEY))[0].nextDueDate, '2027-07-01T09:00:00.000+0800');

    // The timed inspection runs like a manual one.
    await step(net, 'network-1', id, 'inspectNetwork', network, [dat, ap]);
    await step(dat, 'data-1', id, 'inspectData', data, [net, ap]);
    await step(ap, 'app-1', id, 'inspectApp', app, [net, dat]);
    await step(office, 'office-1', id, 'analyseSecurityState', { ...analysis, reportRef: 'SA-2027-Q1' }, [leader]);
    await step(leader, 'leader-1', id, 'leadingGroupReview', { reviewDecision: 'accept' }, [office]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'inspectNetwork:network-1', 'inspectData:data-1', 'inspectApp:app-1', 'analyseSecurityState:office-1', 'leadingGroupReview:leader-1',
    ]);
  });

  test.serial(t('the office and the leading group start an inspection (O4, L4); a group that is inspected cannot'), async (t) => {
    const { admin, network } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(network, KEY, { inspectionReason: '自查' }), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

import test from 'ava';
import {
  openKeys, openTasks, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, instancesOf, refusedStart,
} from '../helpers/scenario.ts';

const KEY = 'application-rollout';
const ACCEPTANCES = ['appSecurityAcceptance', 'dataAcceptance', 'networkAcceptance'];
const proposal = {
  appName: '信用报告在线查询', purpose: '向社会公众提供法定公开的信用信息查询服务', zone: 'internet', dataUsed: '行政许可、行政处罚公示信息', inDistrictPlan: true,
};
const design = { requirementsSummary: '公众按统一社会信用代码查询公示信息', securityRequirements: '实名访问、查询限流、防篡改', designDocument: 'APP-DES-2026-01' };
const build = (version: string, note = '') => ({ selectedSolution: '自主开发', buildVersion: version, buildNote: note });
const appPass = { securityTestReport: 'TEST-2026-031', vulnerabilitiesFound: 0, tamperProtectionVerified: true, appTestResult: 'pass' };
const networkPass = { ipAddresses: '10.12.3.20', dnsName: 'credit-query.hq.example', accessControlPolicy: '仅开放 443，来源不限，管理端口仅专网可达', zonePlacement: 'internet', networkResult: 'pass' };
const dataPass = { catalogueItems: '行政许可、行政处罚', dataScopeConforms: true, usageScope: '仅限法定公开信息的公众查询', dataResult: 'pass' };
const live = { goLiveDate: '2027-03-01T00:00:00.000+0800', accessAddress: 'https://credit-query.hq.example', operationsOwner: 'app-1' };
const training = { trainingDate: '2027-03-05T00:00:00.000+0800', trainingTopic: '信用查询系统使用与安全操作', trainingAttendees: 24 };

scenarioSuite((s, t) => {

  /** The acceptance tasks of an instance that `who` sees. */
  const acceptancesSeenBy = async (who: Parameters<typeof openTasks>[0], id: string) =>
    (await openTasks(who, id)).map((x) => x.taskDefinitionKey).filter((k) => ACCEPTANCES.includes(k)).sort();

  test.serial(t('happy path: proposed, reviewed, approved, designed, built, accepted in parallel by three roles, live, trained'), async (t) => {
    const { app, office, leader, network, data, admin } = s.staff;
    const id = await startProcess(app, KEY, { appName: proposal.appName }, 'APP-HAPPY');
    const refusal = await refusedForm(app, 'app-1', id, 'proposeApplication', { ...proposal, zone: 'cloud', purpose: '查询' });
    t.regex(refusal, /zone/);
    t.regex(refusal, /purpose/);
    t.deepEqual(await openKeys(admin, id), ['proposeApplication'], 'the refused form left the task open');
    await step(app, 'app-1', id, 'proposeApplication', proposal, [office, leader, network, data]);
    await step(office, 'office-1', id, 'officeReview', { reviewResult: 'submit', reviewComment: '符合全区规划' }, [app, leader, network, data]);
    await step(leader, 'leader-1', id, 'leadingGroupApproval', { decision: 'approve' }, [office, app, network, data]);
    await step(app, 'app-1', id, 'designRequirements', design, [office, leader, network, data]);
    await step(app, 'app-1', id, 'selectAndBuild', build('1.0.0'), [office, leader, network, data]);

    // The split offers the three acceptances at once, each to its own role only.
    t.deepEqual(await openKeys(admin, id), ACCEPTANCES);
    t.deepEqual(await acceptancesSeenBy(app, id), ['appSecurityAcceptance']);
    t.deepEqual(await acceptancesSeenBy(network, id), ['networkAcceptance']);
    t.deepEqual(await acceptancesSeenBy(data, id), ['dataAcceptance']);
    t.deepEqual(await acceptancesSeenBy(office, id), []);
    t.deepEqual(await acceptancesSeenBy(leader, id), []);

    // One order among many: data first, then application, then network; the join waits for the last.
    await step(data, 'data-1', id, 'dataAcceptance', dataPass, [app, network, office, leader]);
    t.deepEqual(await openKeys(admin, id), ['appSecurityAcceptance', 'networkAcceptance']);
    await step(app, 'app-1', id, 'appSecurityAcceptance', appPass, [network, data, office, leader]);
    t.deepEqual(await openKeys(admin, id), ['networkAcceptance'], 'the join still waits for the network group');
    await step(network, 'network-1', id, 'networkAcceptance', networkPass, [app, data, office, leader]);

    t.deepEqual(await openKeys(admin, id), ['goLive']);
    await step(app, 'app-1', id, 'goLive', live, [office, leader, network, data]);
    t.deepEqual(await openKeys(admin, id), ['userTraining']);
    t.true((await openTasks(office, id)).some((x) => x.taskDefinitionKey === 'userTraining'), 'the office sees the training too');
    t.regex(await refusedForm(office, 'office-1', id, 'userTraining', { ...training, trainingAttendees: 0 }), /trainingAttendees/);
    await step(office, 'office-1', id, 'userTraining', training, [leader, network, data]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'proposeApplication:app-1', 'officeReview:office-1', 'leadingGroupApproval:leader-1', 'designRequirements:app-1', 'selectAndBuild:app-1',
      'dataAcceptance:data-1', 'appSecurityAcceptance:app-1', 'networkAcceptance:network-1', 'goLive:app-1', 'userTraining:office-1',
    ]);
    const path = await passed(admin, id);
    for (const element of ['acceptanceSplit', 'acceptanceJoin', 'acceptanceGateway', 'endLive']) t.true(path.includes(element), element);
    t.false(path.includes('endRejected'));
    const v = await variablesOf(admin, id);
    t.like(v, { appName: proposal.appName, zone: 'internet', zonePlacement: 'internet', vulnerabilitiesFound: 0, trainingAttendees: 24 });
  });

  test.serial(t('a failed network acceptance sends the build back; after the fix all three accept again and it goes live'), async (t) => {
    const { app, office, leader, network, data, admin } = s.staff;
    const id = await startProcess(app, KEY, { appName: '信用信息内部交换平台' }, 'APP-FIX');
    await step(app, 'app-1', id, 'proposeApplication', { ...proposal, appName: '信用信息内部交换平台', zone: 'government-network', dataUsed: '各部门归集的信用信息' }, [office]);
    await step(office, 'office-1', id, 'officeReview', { reviewResult: 'submit' }, [app]);
    await step(leader, 'leader-1', id, 'leadingGroupApproval', { decision: 'approve' }, [office]);
    await step(app, 'app-1', id, 'designRequirements', design, [network]);
    await step(app, 'app-1', id, 'selectAndBuild', build('1.0.0'), [network]);

    // Network first this time: the application listens on the internet side, which is wrong for the private zone.
    await step(network, 'network-1', id, 'networkAcceptance',
      { ...networkPass, zonePlacement: 'government-network', networkResult: 'fail', networkComment: '管理端口暴露于互联网区，须改为仅专网可达' }, [app, data]);
    await step(app, 'app-1', id, 'appSecurityAcceptance', appPass, [network, data]);
    await step(data, 'data-1', id, 'dataAcceptance', dataPass, [app, network]);
    t.deepEqual(await openKeys(admin, id), ['selectAndBuild'], 'a failed acceptance returns to the build');

    await step(app, 'app-1', id, 'selectAndBuild', build('1.0.1', '关闭互联网侧管理端口'), [network, data, office]);
    t.deepEqual(await openKeys(admin, id), ACCEPTANCES, 'all three accept again after the fix');
    await step(app, 'app-1', id, 'appSecurityAcceptance', appPass, [network, data]);
    await step(network, 'network-1', id, 'networkAcceptance', { ...networkPass, zonePlacement: 'government-network' }, [app, data]);
    await step(data, 'data-1', id, 'dataAcceptance', dataPass, [app, network]);
    await step(app, 'app-1', id, 'goLive', live, [network]);
    await step(app, 'app-1', id, 'userTraining', training, [leader, network, data]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'proposeApplication:app-1', 'officeReview:office-1', 'leadingGroupApproval:leader-1', 'designRequirements:app-1', 'selectAndBuild:app-1',
      'networkAcceptance:network-1', 'appSecurityAcceptance:app-1', 'dataAcceptance:data-1', 'selectAndBuild:app-1',
      'appSecurityAcceptance:app-1', 'networkAcceptance:network-1', 'dataAcceptance:data-1', 'goLive:app-1', 'userTraining:app-1',
    ]);
    const path = await passed(admin, id);
    t.is(path.filter((e) => e === 'acceptanceJoin').length, 2, 'the join was passed once per round');
    t.is(path.filter((e) => e === 'acceptanceSplit').length, 2);
    t.is(path.filter((e) => e === 'acceptanceGateway').length, 2);
    t.true(path.includes('endLive'));
    t.like(await variablesOf(admin, id), { buildVersion: '1.0.1', networkResult: 'pass', zonePlacement: 'government-network' });
  });

  test.serial(t('returned by the office and by the leading group, revised each time, then rejected: it ends without a build'), async (t) => {
    const { app, office, leader, network, data, admin } = s.staff;
    const id = await startProcess(app, KEY, { appName: '信用数据大屏' }, 'APP-REJECT');
    await step(app, 'app-1', id, 'proposeApplication', { ...proposal, appName: '信用数据大屏', purpose: '在互联网区展示全区信用数据统计', dataUsed: '全部信用数据' }, [office, leader]);
    await step(office, 'office-1', id, 'officeReview', { reviewResult: 'return', reviewComment: '使用的数据范围过大' }, [app, leader]);
    t.deepEqual(await openKeys(admin, id), ['proposeApplication'], 'the office returned it to the proposer');
    await step(app, 'app-1', id, 'proposeApplication', { ...proposal, appName: '信用数据大屏', purpose: '在互联网区展示全区信用数据统计', dataUsed: '汇总统计数据' }, [office]);
    await step(office, 'office-1', id, 'officeReview', { reviewResult: 'submit' }, [app]);
    await step(leader, 'leader-1', id, 'leadingGroupApproval', { decision: 'return', decisionComment: '请说明与全区规划的关系' }, [office, app, network, data]);
    t.deepEqual(await openKeys(admin, id), ['proposeApplication'], 'the leading group returned it to the proposer');
    await step(app, 'app-1', id, 'proposeApplication', { ...proposal, appName: '信用数据大屏', purpose: '在互联网区展示全区信用数据统计', dataUsed: '汇总统计数据', inDistrictPlan: false }, [office]);
    await step(office, 'office-1', id, 'officeReview', { reviewResult: 'submit' }, [app]);
    await step(leader, 'leader-1', id, 'leadingGroupApproval', { decision: 'reject', decisionComment: '未列入全区规划' }, [office, app]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await openKeys(admin, id), []);
    t.deepEqual(await taskHistory(admin, id), [
      'proposeApplication:app-1', 'officeReview:office-1', 'proposeApplication:app-1', 'officeReview:office-1', 'leadingGroupApproval:leader-1',
      'proposeApplication:app-1', 'officeReview:office-1', 'leadingGroupApproval:leader-1',
    ]);
    const path = await passed(admin, id);
    t.is(path.at(-1), 'endRejected');
    t.false(path.includes('designRequirements') || path.includes('selectAndBuild') || path.includes('endLive'));
  });

  test.serial(t('only the application group proposes a new application (A1); the network group, which accepts access control, cannot start one by hand'), async (t) => {
    const { admin, network } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(network, KEY, { appName: '信用信息内部交换平台' }), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

import test from 'ava';
import {
  instancesOf, openKeys, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, justBefore, startTimers, type Scenario, refusedStart,
} from '../helpers/scenario.ts';

/*
 * 补丁与升级周期 (N4 A4): monthly timer start (1st, 09:00 Asia/Shanghai) or a
 * manual start; network and application groups assess in parallel; the
 * office approves and sets the maintenance window (a variable the
 * intermediate timer waits for) or returns for re-assessment; both groups
 * apply and verify; the record is filed. The scenario server starts at
 * 2026-12-01T01:00:00Z, which is 09:00 on 1 December in Shanghai.
 */
const KEY = 'patch-cycle';
const SECOND = 1000;

const networkAssessment = {
  networkPatchList: '防火墙固件 9.1.3 安全补丁；IPS 特征库升级',
  networkAffectedSystems: '政务专网区边界防火墙、互联网区 IPS',
  networkRisk: 'high',
  networkNeedsDowntime: true,
};
const appAssessment = {
  appPatchList: '麒麟 V10 SP3 内核升级；中间件漏洞 CVE-2026-1234 修复',
  appAffectedSystems: '信用信息查询服务器、数据交换前置机',
  appRisk: 'medium',
  appNeedsDowntime: false,
};

/** Jobs (armed timers) of an instance, as the administrator sees them. */
async function jobsOf(s: Scenario, instanceId: string): Promise<{ dueDate: string }[]> {
  return (await s.staff.admin.get(`/engine-rest/job?processInstanceId=${instanceId}`)).body;
}

scenarioSuite((s, t) => {

  test.serial(t('parallel assessment, the office approves a window 3 days later, nothing happens before it, then apply, verify and record'), async (t) => {
    const { office, leader, network, data, app, admin, worker } = s.staff;
    const id = await startProcess(office, KEY, {}, 'PATCH-2026-12');
    // Both assessments are open at once, each only to its own group.
    t.deepEqual(await openKeys(admin, id), ['assessAppPatches', 'assessNetworkPatches']);
    await step(network, 'network-1', id, 'assessNetworkPatches', networkAssessment, [app, data, office, leader, worker]);
    t.deepEqual(await openKeys(admin, id), ['assessAppPatches'], 'the join waits for the application group');
    await step(app, 'app-1', id, 'assessAppPatches', appAssessment, [network, data, office, leader, worker]);
    t.deepEqual(await openKeys(admin, id), ['approveChange']);

    // 09:00 on 4 December, Shanghai: exactly three days after the clock's 2026-12-01T01:00:00Z.
    await step(office, 'office-1', id, 'approveChange', {
      changeDecision: 'approve', maintenanceWindow: '2026-12-04T09:00:00.000+0800', changeComment: '同意，周五上午窗口',
    }, [network, app, data, leader]);
    t.deepEqual(await openKeys(admin, id), [], 'waiting for the window, no task is open');
    t.deepEqual((await jobsOf(s, id)).map((j) => j.dueDate), ['2026-12-04T09:00:00.000+0800'], 'the timer is due at the window the office set');

    t.is(await justBefore(s, new Date('2026-12-04T01:00:00Z')), 0, 'nothing fires a second before the window');
    t.deepEqual(await openKeys(admin, id), []);
    t.is((await jobsOf(s, id)).length, 1, 'still armed');
    s.clock.advance(SECOND);
    t.true(await s.runDue() >= 1, 'the window opens');
    t.deepEqual(await jobsOf(s, id), []);
    t.deepEqual(await openKeys(admin, id), ['applyAppPatches', 'applyNetworkPatches']);

    await step(app, 'app-1', id, 'applyAppPatches', { appApplyResult: 'success', appRolledBack: false, appVerification: '服务自检通过，查询接口正常' }, [network, office, leader]);
    await step(network, 'network-1', id, 'applyNetworkPatches', { networkApplyResult: 'success', networkRolledBack: false, networkVerification: '策略与链路验证正常' }, [app, office, data]);
    await step(network, 'network-1', id, 'recordPatchCycle', { patchRecordRef: 'PR-2026-12', logsArchived: true }, [leader, data, app]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'assessNetworkPatches:network-1', 'assessAppPatches:app-1', 'approveChange:office-1',
      'applyAppPatches:app-1', 'applyNetworkPatches:network-1', 'recordPatchCycle:network-1',
    ]);
    const path = await passed(admin, id);
    for (const e of ['forkAssessment', 'joinAssessment', 'changeGateway', 'waitMaintenanceWindow', 'forkApply', 'joinApply', 'endRecorded']) {
      t.true(path.includes(e), `passed ${e}`);
    }
    t.true(path.indexOf('waitMaintenanceWindow') < path.indexOf('applyAppPatches'));
    const v = await variablesOf(admin, id);
    t.is(v.maintenanceWindow, '2026-12-04T09:00:00.000+0800');
    t.is(v.networkRisk, 'high');
    t.is(v.appNeedsDowntime, false);
    t.deepEqual(await jobsOf(s, id), [], 'nothing left armed');
  });

  test.serial(t('the office returns the change for re-assessment; both groups assess again; a failed upgrade is rolled back and recorded by the office'), async (t) => {
    const { office, leader, network, data, app, admin } = s.staff;
    const id = await startProcess(network, KEY, { triggerReason: '紧急漏洞通告：中间件远程代码执行' }, 'PATCH-URGENT-1');
    await step(app, 'app-1', id, 'assessAppPatches', appAssessment, [network, data]);
    await step(network, 'network-1', id, 'assessNetworkPatches', { ...networkAssessment, networkNeedsDowntime: false }, [app, data]);
    await step(office, 'office-1', id, 'approveChange', {
      changeDecision: 'reassess', maintenanceWindow: '2026-12-10T22:00:00.000+0800', changeComment: '请评估夜间窗口内能否完成，并补充回退方案',
    }, [network, app, leader]);
    t.deepEqual(await openKeys(admin, id), ['assessAppPatches', 'assessNetworkPatches'], 'both groups assess again');
    t.deepEqual(await jobsOf(s, id), [], 'a returned change arms no window');

    await step(network, 'network-1', id, 'assessNetworkPatches', { ...networkAssessment, networkAssessmentNote: '回退方案：保留旧固件分区' }, [app, data]);
    await step(app, 'app-1', id, 'assessAppPatches', { ...appAssessment, appNeedsDowntime: true, appAssessmentNote: '需停机 30 分钟' }, [network, data]);
    await step(office, 'office-1', id, 'approveChange', { changeDecision: 'approve', maintenanceWindow: '2026-12-10T22:00:00.000+0800' }, [network, app, leader]);

    t.is(await justBefore(s, new Date('2026-12-10T14:00:00Z')), 0, 'not a second early');
    t.deepEqual(await openKeys(admin, id), []);
    s.clock.advance(SECOND);
    t.true(await s.runDue() >= 1);
    await step(network, 'network-1', id, 'applyNetworkPatches', { networkApplyResult: 'partial', networkRolledBack: false, networkVerification: '防火墙已升级，IPS 特征库待厂商修复' }, [app, office]);
    await step(app, 'app-1', id, 'applyAppPatches', { appApplyResult: 'failed', appRolledBack: true, appVerification: '内核升级后驱动异常，已回退' }, [network, office]);
    await step(office, 'office-1', id, 'recordPatchCycle', {
      patchRecordRef: 'PR-2026-12-U1', logsArchived: true, outstandingIssues: '内核升级失败已回退，下一周期重新评估',
    }, [leader, data, app]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'assessAppPatches:app-1', 'assessNetworkPatches:network-1', 'approveChange:office-1',
      'assessNetworkPatches:network-1', 'assessAppPatches:app-1', 'approveChange:office-1',
      'applyNetworkPatches:network-1', 'applyAppPatches:app-1', 'recordPatchCycle:office-1',
    ]);
    const path = await passed(admin, id);
    t.is(path.filter((e) => e === 'mergeStart').length, 2, 'entered the assessment twice');
    t.is(path.filter((e) => e === 'waitMaintenanceWindow').length, 1);
    const v = await variablesOf(admin, id);
    t.is(v.triggerReason, '紧急漏洞通告：中间件远程代码执行');
    t.is(v.appApplyResult, 'failed');
    t.is(v.appRolledBack, true);
    t.is(v.networkApplyResult, 'partial');
  });

  test.serial(t('forms refuse bad values: a missing or invalid window, an unknown risk level or result, a missing patch list'), async (t) => {
    const { office, network, app, admin } = s.staff;
    const longReason = '原'.repeat(501);
    const r = await office.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: { triggerReason: { value: longReason } } });
    t.is(r.status, 400, 'the start form limits the reason');

    const id = await startProcess(office, KEY, { triggerReason: '校验演示' });
    let message = await refusedForm(network, 'network-1', id, 'assessNetworkPatches', { networkAffectedSystems: '边界防火墙', networkRisk: 'extreme' });
    t.regex(message, /networkPatchList/);
    t.regex(message, /networkRisk/);
    t.regex(message, /networkNeedsDowntime/);
    message = await refusedForm(app, 'app-1', id, 'assessAppPatches', { ...appAssessment, appNeedsDowntime: 'maybe' });
    t.regex(message, /appNeedsDowntime/);
    await step(network, 'network-1', id, 'assessNetworkPatches', networkAssessment);
    await step(app, 'app-1', id, 'assessAppPatches', appAssessment);

    message = await refusedForm(office, 'office-1', id, 'approveChange', { changeDecision: 'approve' });
    t.regex(message, /maintenanceWindow/, 'an approval needs a window');
    message = await refusedForm(office, 'office-1', id, 'approveChange', { changeDecision: 'approve', maintenanceWindow: '下周二晚上' });
    t.regex(message, /maintenanceWindow/, 'the window must be a date');
    message = await refusedForm(office, 'office-1', id, 'approveChange', { changeDecision: 'later', maintenanceWindow: '2026-12-20T22:00:00.000+0800' });
    t.regex(message, /changeDecision/);
    t.deepEqual(await openKeys(admin, id), ['approveChange'], 'refused forms change nothing');

    await step(office, 'office-1', id, 'approveChange', { changeDecision: 'approve', maintenanceWindow: '2026-12-20T22:00:00.000+0800' });
    s.clock.set(new Date('2026-12-20T14:00:00Z'));
    t.true(await s.runDue() >= 1);
    message = await refusedForm(network, 'network-1', id, 'applyNetworkPatches', { networkApplyResult: 'ok', networkRolledBack: false, networkVerification: 'ok' });
    t.regex(message, /networkApplyResult/);
    t.regex(message, /networkVerification/, 'the verification needs a few words');
    message = await refusedForm(app, 'app-1', id, 'applyAppPatches', { appApplyResult: 'success', appVerification: '验证通过正常' });
    t.regex(message, /appRolledBack/);
    t.deepEqual(await openKeys(admin, id), ['applyAppPatches', 'applyNetworkPatches']);
  });

  test.serial(t('the monthly start timer fires on the 1st of next month at 09:00 Shanghai, then a month later; the timed cycle runs like any other'), async (t) => {
    const { admin, network, app, office } = s.staff;
    // The server started at 09:00:00 on 1 December (Shanghai) exactly; the server's cron counts strictly
    // after the instant it is armed, so the first occurrence is 1 January, not "now".
    const [timer] = await startTimers(s, KEY);
    t.is(timer.activityId, 'startMonthly');
    t.is(timer.jobConfiguration, 'CYCLE: 0 0 9 1 * ?');
    t.is(timer.nextDueDate, '2027-01-01T09:00:00.000+0800');

    const before = new Set((await instancesOf(admin, KEY)).map((i) => i.id));
    t.is(await justBefore(s, new Date('2027-01-01T01:00:00Z')), 0, 'not a second early');
    t.is((await instancesOf(admin, KEY)).length, before.size);
    s.clock.advance(SECOND);
    t.true(await s.runDue() >= 1);
    const started = (await instancesOf(admin, KEY)).filter((i) => !before.has(i.id));
    t.is(started.length, 1, 'one instance started');
    t.is(started[0].startUserId, 'system');
    const id = started[0].id;
    t.is((await startTimers(s, KEY))[0].nextDueDate, '2027-02-01T09:00:00.000+0800', 'the next cycle is a month later');

    // The timed instance is an ordinary cycle from here on.
    t.deepEqual(await openKeys(admin, id), ['assessAppPatches', 'assessNetworkPatches']);
    t.true((await passed(admin, id)).includes('startMonthly'));
    await step(network, 'network-1', id, 'assessNetworkPatches', networkAssessment, [app]);
    await step(app, 'app-1', id, 'assessAppPatches', appAssessment, [network]);
    await step(office, 'office-1', id, 'approveChange', { changeDecision: 'approve', maintenanceWindow: '2027-01-08T22:00:00.000+0800' }, [network]);
    t.deepEqual((await jobsOf(s, id)).map((j) => j.dueDate), ['2027-01-08T22:00:00.000+0800']);
    s.clock.set(new Date('2027-01-08T14:00:00Z'));
    await s.runDue();
    await step(network, 'network-1', id, 'applyNetworkPatches', { networkApplyResult: 'success', networkRolledBack: false, networkVerification: '验证正常' }, [app]);
    await step(app, 'app-1', id, 'applyAppPatches', { appApplyResult: 'success', appRolledBack: false, appVerification: '验证正常' }, [network]);
    await step(network, 'network-1', id, 'recordPatchCycle', { patchRecordRef: 'PR-2027-01', logsArchived: true }, [app]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'assessNetworkPatches:network-1', 'assessAppPatches:app-1', 'approveChange:office-1',
      'applyNetworkPatches:network-1', 'applyAppPatches:app-1', 'recordPatchCycle:network-1',
    ]);
  });

  test.serial(t('the network and application groups and the office start a patch cycle; the data group cannot'), async (t) => {
    const { admin, data } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(data, KEY, { triggerReason: '数据库补丁' }), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

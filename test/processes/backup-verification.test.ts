import test from 'ava';
import {
  completeExternal, fetchExternal, instancesOf, openKeys, openTasks, passed, refusedForm, startProcess, scenarioSuite, stateOf, step,
  taskHistory, variablesOf, refusedStart,
} from '../helpers/scenario.ts';
import { vars, type Client } from '../helpers/server.ts';

const KEY = 'backup-verification';
const INCIDENT = 'security-incident';
const TOPIC = 'backup-check';
// The scenario starts on Tuesday 1 December 2026, 09:00 in Shanghai; the cycle's first Monday 02:00 is 7 December.
const MONDAY_0200 = new Date('2026-12-07T02:00:00+08:00');
const WEEK = 7 * 24 * 3600_000;

/** The worker fetches the backup check of `instanceId` (and only that one) and reports `result`. */
async function workerReports(worker: Client, instanceId: string, result: Record<string, unknown>): Promise<void> {
  const mine = (await fetchExternal(worker, TOPIC)).filter((x) => x.processInstanceId === instanceId);
  if (mine.length !== 1) throw new Error(`expected one backup check for ${instanceId}, fetched ${mine.length}`);
  await completeExternal(worker, mine[0].id, result);
}

/** The ids of the security-incident instances started by a message from backup verification. */
async function incidentsFromBackups(admin: Client): Promise<string[]> {
  const ids: string[] = [];
  for (const i of await instancesOf(admin, INCIDENT)) {
    if ((await variablesOf(admin, i.id)).reportSource === 'backup-verification') ids.push(i.id);
  }
  return ids;
}

const checkOk = (backupId: string) => ({ backupId, backupOk: true, checkedAt: '2026-12-07T02:05:00.000+0800', details: '全量备份 1.2TB，校验和一致' });
const restoreOk = (backupId: string) => ({ backupId, restoreSample: '企业信用主体表 1000 条', restoreResult: 'success', restoreMinutes: 12, restoreNotes: '与源库比对一致' });

scenarioSuite((s, t) => {

  test.serial(t('Monday 02:00 Shanghai starts one weekly check, not a second early; the next is due a week later'), async (t) => {
    const { admin } = s.staff;
    const [timer] = (await admin.get(`/engine-rest/job-definition?processDefinitionKey=${KEY}`)).body;
    t.like(timer, { activityId: 'weeklyStart', jobConfiguration: 'CYCLE: 0 0 2 ? * MON', nextDueDate: '2026-12-07T02:00:00.000+0800' });
    s.clock.set(new Date(MONDAY_0200.getTime() - 1000));
    await s.runDue();
    t.is((await instancesOf(admin, KEY)).length, 0, 'not a second early');
    s.clock.set(MONDAY_0200);
    await s.runDue();
    const started = await instancesOf(admin, KEY);
    t.is(started.length, 1);
    t.is(started[0].state, 'ACTIVE');
    t.is(started[0].startUserId, 'system');
    const [next] = (await admin.get(`/engine-rest/job-definition?processDefinitionKey=${KEY}`)).body;
    t.is(next.nextDueDate, '2026-12-14T02:00:00.000+0800', 'the next check is a week later');
  });

  // The instance the weekly timer started runs past its start event like any other.
  test.serial(t('the weekly instance goes to the automated check; worker, data group and office finish it'), async (t) => {
    const { admin, worker, data, office, network, app, leader } = s.staff;
    const [weekly] = await instancesOf(admin, KEY);
    const id = weekly.id;
    t.true((await passed(admin, id)).includes('weeklyStart'), 'the timer start event has ended');
    await workerReports(worker, id, checkOk('BK-20261207-0200'));
    await step(data, 'data-1', id, 'restoreTest', restoreOk('BK-20261207-0200'), [office, network, app, leader, worker]);
    await step(office, 'office-1', id, 'signOff', { signOffComment: '备份与恢复测试正常，归档', archiveRef: 'BV-2026-49' }, [data, network, app, leader, worker]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['restoreTest:data-1', 'signOff:office-1']);
    t.deepEqual(await passed(admin, id), ['weeklyStart', 'checkBackup', 'restoreTest', 'backupUsableGateway', 'signOff', 'endVerified']);
    t.like(await variablesOf(admin, id), { backupId: 'BK-20261207-0200', backupOk: true, restoreResult: 'success', restoreMinutes: 12 });
  });

  test.serial(t('an off-cycle check: only workers work the automated check; the data group restore-tests; the office signs off; no incident'), async (t) => {
    const { admin, worker, data, office, network, app, leader } = s.staff;
    const id = await startProcess(data, KEY, { triggerReason: '核心库迁移后加验' }, 'BV-MANUAL-OK');
    t.deepEqual(await openKeys(admin, id), [], 'the automated check is an external task, not a user task');
    t.deepEqual(await passed(admin, id), ['manualStart']);

    // Staff accounts cannot work external tasks: fetching and completing are refused.
    const staffFetch = await data.post('/engine-rest/external-task/fetchAndLock', { workerId: 'data-1', maxTasks: 1, topics: [{ topicName: TOPIC, lockDuration: 60_000 }] });
    t.is(staffFetch.status, 403);
    const [check] = (await fetchExternal(worker, TOPIC)).filter((x) => x.processInstanceId === id);
    t.truthy(check, 'the worker fetches the backup check');
    const staffComplete = await office.post(`/engine-rest/external-task/${check.id}/complete`, { workerId: 'worker-1', variables: vars(checkOk('x')) });
    t.is(staffComplete.status, 403);
    await completeExternal(worker, check.id, checkOk('BK-20261207-0900'));

    // A worker is a machine: the task list and user tasks are closed to it altogether (403).
    t.is((await worker.get(`/engine-rest/task?processInstanceId=${id}`)).status, 403);
    const [restore] = await openTasks(admin, id);
    t.is(restore.taskDefinitionKey, 'restoreTest');
    t.is((await worker.post(`/engine-rest/task/${restore.id}/complete`, { variables: vars(restoreOk('x')) })).status, 403);

    await step(data, 'data-1', id, 'restoreTest', restoreOk('BK-20261207-0900'), [office, network, app, leader, worker]);
    await step(office, 'office-1', id, 'signOff', { signOffComment: '备份与恢复测试正常，归档', archiveRef: 'BV-2026-49' }, [data, network, app, leader, worker]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['restoreTest:data-1', 'signOff:office-1']);
    t.deepEqual(await passed(admin, id), ['manualStart', 'checkBackup', 'restoreTest', 'backupUsableGateway', 'signOff', 'endVerified']);
    t.like(await variablesOf(admin, id), {
      triggerReason: '核心库迁移后加验', backupId: 'BK-20261207-0900', backupOk: true, details: '全量备份 1.2TB，校验和一致', restoreResult: 'success', restoreMinutes: 12,
    });
    await s.runDue();
    t.deepEqual(await incidentsFromBackups(admin), [], 'a good backup raises no incident');
  });

  test.serial(t('a failed automated check raises a security incident; the data group repairs the tape library (D5); the backup is checked again and signed off'), async (t) => {
    const { admin, worker, data, office, network, app, leader } = s.staff;
    const id = await startProcess(data, KEY, { triggerReason: '存储阵列告警后临时加验' }, 'BV-MANUAL-1');
    await workerReports(worker, id, { backupId: 'BK-20261207-1000', backupOk: false, checkedAt: '2026-12-07T10:05:00.000+0800', details: '磁带库 TL-02 写入错误，备份作业中断' });
    await step(data, 'data-1', id, 'restoreTest', {
      backupId: 'BK-20261207-1000', restoreSample: '企业信用主体表 1000 条', restoreResult: 'failed', restoreNotes: '备份集不完整，无法恢复',
    }, [office, network, app, leader, worker]);
    t.deepEqual(await openKeys(admin, id), ['repairBackup']);

    // The thrown message is delivered by the next runDue, exactly once, and starts the incident procedure.
    t.deepEqual(await incidentsFromBackups(admin), [], 'nothing delivered before runDue');
    t.true(await s.runDue() >= 1);
    const incidents = await incidentsFromBackups(admin);
    t.is(incidents.length, 1);
    t.like(await variablesOf(admin, incidents[0]), {
      reportSource: 'backup-verification', reportRef: id,
      reportSummary: '备份 BK-20261207-1000 验证未通过：自动检查未通过（磁带库 TL-02 写入错误，备份作业中断）；恢复测试失败（样本：企业信用主体表 1000 条；备份集不完整，无法恢复）',
    });
    t.is(await stateOf(admin, incidents[0]), 'ACTIVE');
    t.true((await openTasks(office, incidents[0])).length > 0, 'the office has the incident to take in (O5)');
    await s.runDue();
    t.is((await incidentsFromBackups(admin)).length, 1, 'delivered exactly once');

    // Offered to both groups that keep backups (D5 equipment, A4 system backups): each sees it; the others do not.
    const [repair] = (await openTasks(app, id)).filter((x) => x.taskDefinitionKey === 'repairBackup');
    t.truthy(repair, 'the application group sees the repair too');
    await step(data, 'data-1', id, 'repairBackup', {
      failureCause: '磁带库 TL-02 驱动器故障', repairAction: '更换驱动器后重新执行全量备份', repairedBackupId: 'BK-20261207-1400',
    }, [office, network, leader, worker]);
    // The repaired backup goes through the automated check and the restore test again.
    await workerReports(worker, id, { ...checkOk('BK-20261207-1400'), checkedAt: '2026-12-07T14:30:00.000+0800' });
    await step(data, 'data-1', id, 'restoreTest', restoreOk('BK-20261207-1400'), [office, app]);
    await step(office, 'office-1', id, 'signOff', { signOffComment: '修复后验证通过，事件另行处置' }, [data, app, worker]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), ['restoreTest:data-1', 'repairBackup:data-1', 'restoreTest:data-1', 'signOff:office-1']);
    t.deepEqual(await passed(admin, id), [
      'manualStart', 'checkBackup', 'restoreTest', 'backupUsableGateway', 'raiseIncident', 'repairBackup',
      'checkBackup', 'restoreTest', 'backupUsableGateway', 'signOff', 'endVerified',
    ]);
    await s.runDue();
    t.is((await incidentsFromBackups(admin)).length, 1, 'the successful re-check raised nothing more');
  });

  test.serial(t('a failed restore test alone raises an incident too; the restore form is validated'), async (t) => {
    const { admin, worker, data, office, app, network, leader } = s.staff;
    t.is((await data.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: {} })).status, 400, 'an off-cycle check says why');
    const id = await startProcess(data, KEY, { triggerReason: '系统升级后加验' });
    await workerReports(worker, id, checkOk('BK-20261208-0200'));

    t.regex(await refusedForm(data, 'data-1', id, 'restoreTest', { backupId: 'BK-20261208-0200', restoreSample: '样本', restoreNotes: '无' }), /restoreResult/);
    t.regex(await refusedForm(data, 'data-1', id, 'restoreTest', { ...restoreOk('BK-20261208-0200'), restoreResult: 'partial' }), /restoreResult/);
    t.regex(await refusedForm(data, 'data-1', id, 'restoreTest', { ...restoreOk('BK-20261208-0200'), restoreSample: 'x'.repeat(501) }), /restoreSample/);
    t.regex(await refusedForm(data, 'data-1', id, 'restoreTest', { ...restoreOk('BK-20261208-0200'), restoreMinutes: -5 }), /restoreMinutes/);
    t.regex(await refusedForm(data, 'data-1', id, 'restoreTest', { ...restoreOk(''), restoreNotes: '' }), /backupId[\s\S]*restoreNotes/);
    t.deepEqual(await openKeys(admin, id), ['restoreTest'], 'refused forms leave the task open');

    await step(data, 'data-1', id, 'restoreTest', {
      backupId: 'BK-20261208-0200', restoreSample: '自然人信用记录 500 条', restoreResult: 'failed', restoreNotes: '恢复后 3 条记录校验和不符',
    }, [office, app, worker]);
    const earlier = await incidentsFromBackups(admin);
    await s.runDue();
    const raised = (await incidentsFromBackups(admin)).filter((i) => !earlier.includes(i));
    t.is(raised.length, 1);
    t.is((await variablesOf(admin, raised[0])).reportSummary,
      '备份 BK-20261208-0200 验证未通过：自动检查通过（全量备份 1.2TB，校验和一致）；恢复测试失败（样本：自然人信用记录 500 条；恢复后 3 条记录校验和不符）');
    t.deepEqual(await openKeys(admin, id), ['repairBackup']);
    t.regex(await refusedForm(app, 'app-1', id, 'repairBackup', { failureCause: '备份软件缺陷', repairAction: '修复', repairedBackupId: 'BK-1' }), /repairAction/);
    await step(app, 'app-1', id, 'repairBackup', { failureCause: '备份软件缺陷', repairAction: '升级备份软件并重新备份', repairedBackupId: 'BK-20261208-1100' }, [office, network, leader, worker]);
    await workerReports(worker, id, checkOk('BK-20261208-1100'));
    await step(data, 'data-1', id, 'restoreTest', restoreOk('BK-20261208-1100'), [office]);
    await step(office, 'office-1', id, 'signOff', { signOffComment: '同意' }, [data]);
    t.is(await stateOf(admin, id), 'COMPLETED');
  });

  test.serial(t('the weekly cycle fires again one week later, once'), async (t) => {
    const { admin } = s.staff;
    t.is((await instancesOf(admin, KEY)).length, 4, 'one from the timer, three started by hand');
    s.clock.set(new Date(MONDAY_0200.getTime() + WEEK - 1000));
    await s.runDue();
    t.is((await instancesOf(admin, KEY)).length, 4, 'nothing before the next Monday 02:00');
    s.clock.set(new Date(MONDAY_0200.getTime() + WEEK));
    await s.runDue();
    await s.runDue();
    const all = await instancesOf(admin, KEY);
    t.is(all.length, 5, 'one more, once');
    const [timer] = (await admin.get(`/engine-rest/job-definition?processDefinitionKey=${KEY}`)).body;
    t.is(timer.nextDueDate, '2026-12-21T02:00:00.000+0800');
  });

  test.serial(t('only the data group and the office start an off-cycle check; the application group, which repairs, cannot'), async (t) => {
    const { admin, app } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(app, KEY, { triggerReason: '系统升级后加验' }), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

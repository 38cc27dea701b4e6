import test from 'ava';
import {
  openKeys, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, instancesOf, refusedStart,
} from '../helpers/scenario.ts';
import { vars } from '../helpers/server.ts';

const KEY = 'catalogue-registration';
const entry = { dataItem: '企业行政许可信息', sourceDepartment: '区市场监管局' };
const verified = {
  ...entry, catalogueCode: 'HQ-XK-0012', collectionScope: '辖区内企业的行政许可决定，含许可编号、内容、有效期',
  sharingType: 'public', dataLevel: 'general', accuracyVerified: true,
};
const registered = { validUntil: '2027-12-31T00:00:00.000+0800', usageScope: '信用信息共享平台公示与部门间共享查询', updateFrequency: 'daily' };
const traced = { permissionLevel: 'department', authorizedParties: '区发改委、区市场监管局', traceabilityLevel: 'full', sourceConsistent: true };

scenarioSuite((s, t) => {

  test.serial(t('the office returns the entry for revision; the data group verifies and registers again; the office approves'), async (t) => {
    const { admin, data, office, network, app, leader, worker } = s.staff;
    const id = await startProcess(data, KEY, entry, 'CAT-HQ-XK-0012');
    t.deepEqual(await openKeys(admin, id), ['verifyCollection']);
    await step(data, 'data-1', id, 'verifyCollection', verified, [office, network, app, leader, worker]);
    await step(data, 'data-1', id, 'registerCatalogue', registered, [office, network, app, leader, worker]);
    await step(data, 'data-1', id, 'defineTraceability', traced, [office, network, app, leader, worker]);
    await step(office, 'office-1', id, 'officeApproval', { approvalResult: 'revise', approvalComment: '含自然人信息，应为有条件共享' }, [data, network, app, leader, worker]);
    t.deepEqual(await openKeys(admin, id), ['verifyCollection'], 'back to the data group');

    await step(data, 'data-1', id, 'verifyCollection', { ...verified, sharingType: 'conditional', dataLevel: 'important' }, [office, leader]);
    await step(data, 'data-1', id, 'registerCatalogue', { ...registered, usageScope: '仅限部门间共享查询，不对外公示' }, [office]);
    await step(data, 'data-1', id, 'defineTraceability', { ...traced, permissionLevel: 'authorized' }, [office]);
    await step(office, 'office-1', id, 'officeApproval', { approvalResult: 'approve', approvalComment: '同意登记' }, [data, network, app, leader, worker]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'verifyCollection:data-1', 'registerCatalogue:data-1', 'defineTraceability:data-1', 'officeApproval:office-1',
      'verifyCollection:data-1', 'registerCatalogue:data-1', 'defineTraceability:data-1', 'officeApproval:office-1',
    ]);
    const path = await passed(admin, id);
    t.deepEqual(path.filter((a) => a === 'approvalGateway').length, 2);
    t.is(path.at(-1), 'endRegistered');
    t.like(await variablesOf(admin, id), {
      dataItem: '企业行政许可信息', sharingType: 'conditional', dataLevel: 'important', validUntil: '2027-12-31T00:00:00.000+0800',
      usageScope: '仅限部门间共享查询，不对外公示', permissionLevel: 'authorized', traceabilityLevel: 'full', sourceConsistent: true,
      approvalResult: 'approve',
    });
  });

  test.serial(t('approved at the first pass'), async (t) => {
    const { admin, data, office } = s.staff;
    const id = await startProcess(data, KEY, { dataItem: '行政处罚信息', sourceDepartment: '区城管委' });
    await step(data, 'data-1', id, 'verifyCollection', { ...verified, dataItem: '行政处罚信息', sourceDepartment: '区城管委', catalogueCode: 'HQ-CF-0003' });
    await step(data, 'data-1', id, 'registerCatalogue', { ...registered, updateFrequency: 'weekly' });
    await step(data, 'data-1', id, 'defineTraceability', { ...traced, permissionLevel: 'open', traceabilityLevel: 'keySteps' });
    await step(office, 'office-1', id, 'officeApproval', { approvalResult: 'approve', approvalComment: '同意' });
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await passed(admin, id), [
      'start', 'verifyCollection', 'registerCatalogue', 'defineTraceability', 'officeApproval', 'approvalGateway', 'endRegistered',
    ]);
  });

  test.serial(t('forms refuse what the catalogue cannot hold: missing validity period, over-long usage scope, unknown classification'), async (t) => {
    const { admin, data, office } = s.staff;
    const noItem = await data.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ sourceDepartment: '区税务局' }) });
    t.is(noItem.status, 400);
    t.regex(noItem.body.message, /dataItem/);

    const id = await startProcess(data, KEY, { dataItem: '纳税信用等级', sourceDepartment: '区税务局' });
    t.regex(await refusedForm(data, 'data-1', id, 'verifyCollection', { ...verified, sharingType: 'secret' }), /sharingType/);
    t.regex(await refusedForm(data, 'data-1', id, 'verifyCollection', { ...verified, dataLevel: 'top' }), /dataLevel/);
    t.regex(await refusedForm(data, 'data-1', id, 'verifyCollection', { ...verified, collectionScope: '全部' }), /collectionScope/);
    t.regex(await refusedForm(data, 'data-1', id, 'verifyCollection', { ...verified, accuracyVerified: 'maybe' }), /accuracyVerified/);
    await step(data, 'data-1', id, 'verifyCollection', { ...verified, dataItem: '纳税信用等级', sourceDepartment: '区税务局', dataLevel: 'core', sharingType: 'notShared' });

    const { validUntil: _omit, ...noValidity } = registered;
    t.regex(await refusedForm(data, 'data-1', id, 'registerCatalogue', noValidity), /validUntil/);
    t.regex(await refusedForm(data, 'data-1', id, 'registerCatalogue', { ...registered, validUntil: '明年年底' }), /validUntil/);
    t.regex(await refusedForm(data, 'data-1', id, 'registerCatalogue', { ...registered, usageScope: '用'.repeat(501) }), /usageScope/);
    t.regex(await refusedForm(data, 'data-1', id, 'registerCatalogue', { ...registered, updateFrequency: 'hourly' }), /updateFrequency/);
    t.deepEqual(await openKeys(admin, id), ['registerCatalogue'], 'refused forms leave the task open');
    await step(data, 'data-1', id, 'registerCatalogue', { ...registered, usageScope: '用'.repeat(500) });

    t.regex(await refusedForm(data, 'data-1', id, 'defineTraceability', { ...traced, permissionLevel: undefined }), /permissionLevel/);
    await step(data, 'data-1', id, 'defineTraceability', { ...traced, permissionLevel: 'restricted' });
    t.regex(await refusedForm(office, 'office-1', id, 'officeApproval', { approvalResult: 'approve' }), /approvalComment/);
    t.regex(await refusedForm(office, 'office-1', id, 'officeApproval', { approvalResult: 'maybe', approvalComment: '待定' }), /approvalResult/);
    await step(office, 'office-1', id, 'officeApproval', { approvalResult: 'approve', approvalComment: '核心数据，严格受限' });
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.like(await variablesOf(admin, id), { dataLevel: 'core', sharingType: 'notShared', permissionLevel: 'restricted' });
  });

  test.serial(t('only the data group registers catalogue entries (D2); the office, which approves them, cannot start one'), async (t) => {
    const { admin, office } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(office, KEY, { dataItem: '行政许可信息', sourceDepartment: '区市场监管局' }), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

import test from 'ava';
import {
  openKeys, passed, refusedForm, refusedStart, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf,
} from '../helpers/scenario.ts';

const KEY = 'security-plan-approval';
const DAY = 24 * 3600_000;
const draft = { title: '2026年度安全规划', summary: '全年网络与数据安全建设规划草案' };

scenarioSuite((s, t) => {

  test.serial(t('a late decision reminds the office after 7 days; the decision stays open and is then approved'), async (t) => {
    const { office, leader, network, admin } = s.staff;
    // Only the office (the diagram's candidate starters) may start a plan approval.
    t.regex(await refusedStart(network, KEY, { title: draft.title, planType: 'rules' }), /无权发起流程/);
    const id = await startProcess(office, KEY, { title: draft.title, planType: 'rules' }, 'PLAN-LATE');
    await step(office, 'office-1', id, 'draftPlan', draft, [leader, network]);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' }, [leader]);
    // Other procedures' cycles (the daily patrol...) fire too as days pass: look at this instance only.
    s.clock.advance(7 * DAY - 1000);
    await s.runDue();
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision'], 'not a second early');
    s.clock.advance(1000);
    await s.runDue();
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'remindDecision']);
    t.regex(await refusedForm(office, 'office-1', id, 'remindDecision', {}), /reminderNote/, 'a reminder records how the office followed up');
    await step(office, 'office-1', id, 'remindDecision', { reminderNote: '已电话催办' }, [leader, network]);
    await step(leader, 'leader-1', id, 'leadingGroupDecision', { decision: 'approve' }, [office, network]);
    await step(office, 'office-1', id, 'assignImplementation', { implementingGroups: 'network-security', implementationDeadline: '2027-01-31T00:00:00.000+0800' }, [leader]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'draftPlan:office-1', 'reviewDraft:office-1', 'remindDecision:office-1', 'leadingGroupDecision:leader-1', 'assignImplementation:office-1',
    ]);
    const path = await passed(admin, id);
    t.true(path.includes('decisionReminderTimer') && path.includes('endReminded') && path.includes('endApproved'));
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'nothing left armed');
  });

  test.serial(t('the office returns its own draft, the leading group asks for a revision, then rejects it; every step by its role'), async (t) => {
    const { office, leader, network, data, app, worker, admin } = s.staff;
    const all = [leader, network, data, app, worker];
    const id = await startProcess(office, KEY, { title: draft.title, planType: 'plan' }, 'PLAN-LOOP');
    await step(office, 'office-1', id, 'draftPlan', draft, all);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'return', reviewComment: '请补充数据安全部分' }, all);
    t.deepEqual(await openKeys(admin, id), ['draftPlan'], 'the office review sends the draft back to be redrafted');

    await step(office, 'office-1', id, 'draftPlan', { ...draft, summary: '补充了数据安全部分的全年规划草案' }, all);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' }, all);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision']);
    await step(leader, 'leader-1', id, 'leadingGroupDecision', { decision: 'revise', decisionComment: '应急预案部分需细化后重报' }, [office, network, data, app, worker]);
    t.deepEqual(await openKeys(admin, id), ['draftPlan'], 'a revision goes back to the office draft, not to the review');

    await step(office, 'office-1', id, 'draftPlan', { ...draft, summary: '细化了应急预案部分的全年规划草案' }, all);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' }, all);
    await step(leader, 'leader-1', id, 'leadingGroupDecision', { decision: 'reject', decisionComment: '与上级新规不符，不予批准' }, [office, network, data, app, worker]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await openKeys(admin, id), [], 'nothing to assign after a rejection');
    t.deepEqual(await taskHistory(admin, id), [
      'draftPlan:office-1', 'reviewDraft:office-1',
      'draftPlan:office-1', 'reviewDraft:office-1', 'leadingGroupDecision:leader-1',
      'draftPlan:office-1', 'reviewDraft:office-1', 'leadingGroupDecision:leader-1',
    ]);
    const path = await passed(admin, id);
    t.is(path.at(-1), 'endRejected');
    t.false(path.includes('assignImplementation') || path.includes('endApproved'));
    t.is(path.filter((a) => a === 'reviewGateway').length, 3);
    t.is(path.filter((a) => a === 'decisionGateway').length, 2);
    t.like(await variablesOf(admin, id), { decision: 'reject', summary: '细化了应急预案部分的全年规划草案' });
    // The 7-day reminders armed while each decision waited went with the decisions.
    const acts = (await admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body
      .filter((a: { activityId: string }) => a.activityId === 'decisionReminderTimer');
    t.is(acts.length, 2);
    t.true(acts.every((a: { endTime: string | null; canceled: boolean }) => a.endTime && a.canceled));
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'nothing left armed');
  });

  test.serial(t('forms refuse a draft without a summary and a decision the leading group cannot take'), async (t) => {
    const { office, leader, admin } = s.staff;
    const id = await startProcess(office, KEY, { title: '数据分级管理制度', planType: 'rules' }, 'PLAN-FORMS');
    t.regex(await refusedForm(office, 'office-1', id, 'draftPlan', { title: '数据分级管理制度' }), /summary/);
    t.regex(await refusedForm(office, 'office-1', id, 'draftPlan', { title: '数据分级管理制度', summary: '太短' }), /summary/);
    t.deepEqual(await openKeys(admin, id), ['draftPlan'], 'refused forms leave the draft open');
    await step(office, 'office-1', id, 'draftPlan', { title: '数据分级管理制度', summary: '按核心、重要、一般三级管理信用数据' });
    t.regex(await refusedForm(office, 'office-1', id, 'reviewDraft', { reviewResult: 'approve' }), /reviewResult/);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' });
    t.regex(await refusedForm(leader, 'leader-1', id, 'leadingGroupDecision', { decision: 'postpone' }), /decision/);
    t.regex(await refusedForm(leader, 'leader-1', id, 'leadingGroupDecision', {}), /decision/);
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision'], 'an unknown decision leaves the decision open');
    await step(leader, 'leader-1', id, 'leadingGroupDecision', { decision: 'approve' });
    t.regex(await refusedForm(office, 'office-1', id, 'assignImplementation', { implementingGroups: 'data-security' }), /implementationDeadline/);
    await step(office, 'office-1', id, 'assignImplementation', { implementingGroups: 'data-security', implementationDeadline: '2027-03-31T00:00:00.000+0800' });
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'draftPlan:office-1', 'reviewDraft:office-1', 'leadingGroupDecision:leader-1', 'assignImplementation:office-1',
    ]);
    t.is((await passed(admin, id)).at(-1), 'endApproved');
  });
});

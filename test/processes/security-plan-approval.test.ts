import test from 'ava';
import {
  openKeys, passed, startProcess, scenarioSuite, stateOf, step, taskHistory,
} from '../helpers/scenario.ts';

const KEY = 'security-plan-approval';
const DAY = 24 * 3600_000;
const draft = { title: '2026年度安全规划', summary: '全年网络与数据安全建设规划草案' };

scenarioSuite((s, t) => {

  test.serial(t('a late decision reminds the office after 7 days; the decision stays open and is then approved'), async (t) => {
    const { office, leader, network, admin } = s.staff;
    // Only the office (the diagram's candidate starters) may start a plan approval.
    const refused = await network.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: { title: { value: draft.title }, planType: { value: 'rules' } } });
    t.is(refused.status, 403);
    t.regex(refused.body.message, /无权发起流程/);
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
});

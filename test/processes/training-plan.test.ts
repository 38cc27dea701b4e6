import test from 'ava';
import {
  instancesOf, openKeys, passed, refusedForm, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf, refusedStart,
} from '../helpers/scenario.ts';

const KEY = 'training-plan';
// 5 January, 09:00 in Asia/Shanghai.
const JAN5_2027 = new Date('2027-01-05T01:00:00Z');
const JAN5_2028 = new Date('2028-01-05T01:00:00Z');
const plan = (year: number) => ({
  planYear: year, topics: 'basicsAndProcedures', planContent: '全员安全基础知识培训，各岗位操作规程专项培训', audience: '领导小组成员单位及各工作小组全体人员', sessionsPlanned: 2,
});
const session = (date: string, topic: string, allSessionsHeld: boolean) => ({
  sessionDate: date, sessionTopic: topic, attendeesCount: 30, assessmentMethod: 'exam', passRate: 97, allSessionsHeld,
});

// 1 December 2026, 09:00 in Asia/Shanghai: the yearly start timer is armed from here.
scenarioSuite((s, t) => {

  /** The armed yearly start timer, as the administrator sees it. */
  const nextDue = async () => {
    const r = await s.staff.admin.get(`/engine-rest/job-definition?processDefinitionKey=${KEY}`);
    if (r.status !== 200) throw new Error(`job-definition: ${r.status}`);
    return r.body as { activityId: string; jobConfiguration: string; nextDueDate: string }[];
  };

  test.serial(t('the yearly timer starts a plan on 5 January at 09:00 Shanghai time; the office drafts, the leading group approves, two sessions are recorded; a year later another'), async (t) => {
    const { office, leader, network, app, admin } = s.staff;
    const [armed] = await nextDue();
    t.like(armed, { activityId: 'yearlyStart', jobConfiguration: 'CYCLE: 0 0 9 5 1 ?', nextDueDate: '2027-01-05T09:00:00.000+0800' });

    s.clock.set(new Date(JAN5_2027.getTime() - 1000));
    await s.runDue(); // other procedures' daily and weekly cycles may fire meanwhile
    t.is((await instancesOf(admin, KEY)).length, 0, 'not a second early');
    s.clock.set(JAN5_2027);
    t.true(await s.runDue() >= 1);
    const [first] = await instancesOf(admin, KEY);
    t.truthy(first);
    t.is((await instancesOf(admin, KEY)).length, 1);
    t.deepEqual(await openKeys(admin, first.id), ['draftPlan']);
    t.is((await nextDue())[0].nextDueDate, '2028-01-05T09:00:00.000+0800', 'the next occurrence is a year later');

    await step(office, 'office-1', first.id, 'draftPlan', plan(2027), [leader, network, app]);
    await step(leader, 'leader-1', first.id, 'leadingGroupApproval', { decision: 'approve', decisionComment: '同意' }, [office, network, app]);
    await step(office, 'office-1', first.id, 'recordSession', session('2027-03-10T00:00:00.000+0800', 'basics', false), [leader, network, app]);
    t.deepEqual(await openKeys(admin, first.id), ['recordSession'], 'one of two sessions held: the next is recorded');
    await step(office, 'office-1', first.id, 'recordSession', session('2027-06-16T00:00:00.000+0800', 'procedures', true), [leader, network, app]);

    t.is(await stateOf(admin, first.id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, first.id), [
      'draftPlan:office-1', 'leadingGroupApproval:leader-1', 'recordSession:office-1', 'recordSession:office-1',
    ]);
    const path = await passed(admin, first.id);
    t.is(path[0], 'yearlyStart');
    t.is(path.at(-1), 'endDone');
    t.is(path.filter((e) => e === 'recordSession').length, 2);
    t.like(await variablesOf(admin, first.id), { planYear: 2027, sessionsPlanned: 2, sessionTopic: 'procedures', allSessionsHeld: true });

    s.clock.set(new Date(JAN5_2028.getTime() - 1000));
    await s.runDue();
    t.is((await instancesOf(admin, KEY)).length, 1, 'nothing more during 2027');
    s.clock.set(JAN5_2028);
    t.true(await s.runDue() >= 1);
    const all = await instancesOf(admin, KEY);
    t.is(all.length, 2, 'the second year starts a second plan');
    const second = all.find((x) => x.id !== first.id)!;
    t.is(second.state, 'ACTIVE');
    t.is(second.startUserId, 'system', 'started by the scheduler');
    t.deepEqual(await openKeys(admin, second.id), ['draftPlan']);
    t.is((await nextDue())[0].nextDueDate, '2029-01-05T09:00:00.000+0800');
  });

  test.serial(t('started by hand: bad forms refused, the leading group returns the plan, the revised plan is approved and its one session recorded'), async (t) => {
    const { office, leader, network, data, app, admin } = s.staff;
    const id = await startProcess(office, KEY, {}, 'TRAINING-OFF-CYCLE');
    t.deepEqual(await openKeys(admin, id), ['draftPlan']);
    const refusal = await refusedForm(office, 'office-1', id, 'draftPlan', { ...plan(2028), sessionsPlanned: 0, topics: 'cooking', audience: '' });
    t.regex(refusal, /sessionsPlanned/);
    t.regex(refusal, /topics/);
    t.regex(refusal, /audience/);
    t.regex(await refusedForm(office, 'office-1', id, 'draftPlan', { ...plan(2028), sessionsPlanned: '两场' }), /sessionsPlanned/);
    await step(office, 'office-1', id, 'draftPlan', { ...plan(2028), sessionsPlanned: 1, planContent: '新上线系统岗位操作规程培训' }, [leader, network, data, app]);
    await step(leader, 'leader-1', id, 'leadingGroupApproval', { decision: 'return', decisionComment: '请补充安全基础知识内容' }, [office, app]);
    t.deepEqual(await openKeys(admin, id), ['draftPlan'], 'returned to the office');
    await step(office, 'office-1', id, 'draftPlan', { ...plan(2028), sessionsPlanned: 1 }, [leader]);
    await step(leader, 'leader-1', id, 'leadingGroupApproval', { decision: 'approve' }, [office]);
    t.regex(await refusedForm(office, 'office-1', id, 'recordSession', { ...session('2028-04-01T00:00:00.000+0800', 'basics', true), attendeesCount: 0, passRate: 120 }), /attendeesCount.*passRate|passRate.*attendeesCount/);
    t.regex(await refusedForm(office, 'office-1', id, 'recordSession', { ...session('2028-04-01T00:00:00.000+0800', 'basics', true), sessionDate: 'next week' }), /sessionDate/);
    await step(office, 'office-1', id, 'recordSession', session('2028-04-01T00:00:00.000+0800', 'basics', true), [leader, network, data, app]);

    t.is(await stateOf(admin, id), 'COMPLETED');
    t.deepEqual(await taskHistory(admin, id), [
      'draftPlan:office-1', 'leadingGroupApproval:leader-1', 'draftPlan:office-1', 'leadingGroupApproval:leader-1', 'recordSession:office-1',
    ]);
    const path = await passed(admin, id);
    t.is(path[0], 'manualStart');
    t.false(path.includes('yearlyStart'));
    t.is(path.at(-1), 'endDone');
    t.like(await variablesOf(admin, id), { decision: 'approve', topics: 'basicsAndProcedures', attendeesCount: 30 });
  });

  test.serial(t('only the office drafts a training plan (O7); the data group cannot start one'), async (t) => {
    const { admin, data } = s.staff;
    const before = (await instancesOf(admin, KEY)).length;
    t.regex(await refusedStart(data, KEY, {}), /无权发起流程/);
    t.is((await instancesOf(admin, KEY)).length, before, 'nothing started');
  });
});

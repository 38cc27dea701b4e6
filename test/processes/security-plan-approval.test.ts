import test from 'ava';
import {
  openKeys, passed, refusedForm, refusedStart, startProcess, scenarioSuite, stateOf, step, taskHistory, variablesOf,
} from '../helpers/scenario.ts';
import { vars } from '../helpers/server.ts';
import { ballots, leaders, leaveGroup, vote } from '../helpers/votes.ts';

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

  // The leading group decides as a body (docs/leading-group-vote.md). The tests above ran with
  // leader-1 as its only member; from here on it has more, added as each test needs them.

  /** Starts a plan under `rule` and brings it to the leading group; returns the instance id. */
  async function toTheLeadingGroup(businessKey: string, rule: Record<string, unknown>): Promise<string> {
    const { office } = s.staff;
    const id = await startProcess(office, KEY, { title: draft.title, planType: 'plan', ...rule }, businessKey);
    await step(office, 'office-1', id, 'draftPlan', draft);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' });
    return id;
  }

  /** The history of the decision tasks of an instance: [assignee, deleteReason], sorted. */
  async function decisionHistory(id: string): Promise<string[][]> {
    const r = await s.staff.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=leadingGroupDecision`);
    return r.body.map((h: { assignee: string; deleteReason: string }) => [h.assignee, h.deleteReason]).sort();
  }

  const members = (v: unknown) => (typeof v === 'string' ? JSON.parse(v) : v);

  test.serial(t('会签: each of three members sees and decides only their own task; all approve (two at the same moment), so the plan is approved'), async (t) => {
    const { office, network, admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3']);
    const id = await toTheLeadingGroup('PLAN-ALL', { decisionRule: 'all' });
    const open = await ballots(admin, id);
    t.deepEqual([...open.keys()].sort(), ['leader-1', 'leader-2', 'leader-3'], 'one task per member, assigned to that member');
    t.deepEqual((await office.get(`/engine-rest/task?processInstanceId=${id}`)).body, [], 'the office sees none of them');
    const vars = await variablesOf(admin, id);
    t.deepEqual(members(vars.leadingGroupMembers), ['leader-1', 'leader-2', 'leader-3'], 'the members the group had when the decision was reached');
    t.like(vars, { decisionRule: 'all', approvalsNeeded: 3, approveCount: 0 });

    await vote(l['leader-1']!, 'leader-1', id, { decision: 'approve', decisionComment: '同意' }, [l['leader-2']!, l['leader-3']!, office, network]);
    t.deepEqual([...(await ballots(admin, id)).keys()].sort(), ['leader-2', 'leader-3'], 'one approval of three decides nothing yet');
    const both = await Promise.all(['leader-2', 'leader-3'].map((m) => l[m]!.post(`/engine-rest/task/${open.get(m)!.id}/complete`, {
      variables: { decision: { value: 'approve' } },
    })));
    t.deepEqual(both.map((r) => r.status), [204, 204], JSON.stringify(both.map((r) => r.body)));
    t.deepEqual(await openKeys(admin, id), ['assignImplementation'], 'approved once, by all three');
    t.like(await variablesOf(admin, id), { approveCount: 3, reviseCount: 0, rejectCount: 0 });
    t.deepEqual(String((await variablesOf(admin, id)).voteLog).split(';').filter(Boolean).sort(), ['leader-1:approve', 'leader-2:approve', 'leader-3:approve']);
    t.deepEqual(await decisionHistory(id), [['leader-1', 'completed'], ['leader-2', 'completed'], ['leader-3', 'completed']]);
    await step(office, 'office-1', id, 'assignImplementation', { implementingGroups: 'network-security', implementationDeadline: '2027-01-31T00:00:00.000+0800' });
    t.is(await stateOf(admin, id), 'COMPLETED');
    const path = await passed(admin, id);
    t.true(path.includes('prepareVote') && path.includes('endApproved'));
    t.is(path.filter((a) => a === 'leadingGroupDecision').length, 3, 'one activity instance per member');
  });

  test.serial(t('会签: one member voting against ends the vote at once; the others\' tasks are deleted and the plan is rejected'), async (t) => {
    const { office, admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3']);
    const id = await toTheLeadingGroup('PLAN-ALL-AGAINST', {});
    t.is((await variablesOf(admin, id)).decisionRule, 'all', '会签 is the rule when the office names none');
    const open = await ballots(admin, id);
    await vote(l['leader-1']!, 'leader-1', id, { decision: 'approve' }, [l['leader-3']!]);
    await vote(l['leader-3']!, 'leader-3', id, { decision: 'reject', decisionComment: '不符合上级要求' }, [l['leader-2']!, office]);
    t.deepEqual(await openKeys(admin, id), [], 'all must agree, and one did not: decided without leader-2');
    const late = await l['leader-2']!.post(`/engine-rest/task/${open.get('leader-2')!.id}/complete`, { variables: vars({ decision: 'approve' }) });
    t.is(late.status, 404, 'the deleted task can no longer be completed');
    t.deepEqual(await decisionHistory(id), [['leader-1', 'completed'], ['leader-2', 'deleted'], ['leader-3', 'completed']]);
    t.is(await stateOf(admin, id), 'COMPLETED');
    t.is((await passed(admin, id)).at(-1), 'endRejected');
    t.like(await variablesOf(admin, id), { approveCount: 1, rejectCount: 1, reviseCount: 0 });
    const acts = (await admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=leadingGroupDecision`)).body;
    t.deepEqual(acts.map((a: { canceled: boolean }) => a.canceled).sort(), [false, false, true]);
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'the 7-day reminder went with the vote');
  });

  test.serial(t('或签: one member\'s approval decides, whatever came before it; the last member\'s task is deleted'), async (t) => {
    const { office, admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3']);
    const id = await toTheLeadingGroup('PLAN-ANY', { decisionRule: 'any' });
    t.is((await variablesOf(admin, id)).approvalsNeeded, 1);
    await vote(l['leader-2']!, 'leader-2', id, { decision: 'revise', decisionComment: '建议细化' }, [l['leader-1']!]);
    t.deepEqual([...(await ballots(admin, id)).keys()].sort(), ['leader-1', 'leader-3'], 'a vote for revision does not end it: an approval may still come');
    await vote(l['leader-3']!, 'leader-3', id, { decision: 'approve' }, [l['leader-1']!, l['leader-2']!, office]);
    t.deepEqual(await openKeys(admin, id), ['assignImplementation'], 'approved by one');
    t.deepEqual(await decisionHistory(id), [['leader-1', 'deleted'], ['leader-2', 'completed'], ['leader-3', 'completed']]);
    await step(office, 'office-1', id, 'assignImplementation', { implementingGroups: 'data-security', implementationDeadline: '2027-02-28T00:00:00.000+0800' });
    t.is((await passed(admin, id)).at(-1), 'endApproved');
  });

  test.serial(t('票签: members are read when the decision is reached; more than half of four pass it despite a vote against'), async (t) => {
    const { office, admin } = s.staff;
    await leaders(s, ['leader-2', 'leader-3']);
    const id = await startProcess(office, KEY, { title: draft.title, planType: 'strategy', decisionRule: 'share', voteThreshold: 50 }, 'PLAN-SHARE');
    await step(office, 'office-1', id, 'draftPlan', draft);
    // Joins after the start, before the decision is reached: counted.
    const l = await leaders(s, ['leader-2', 'leader-3', 'leader-4']);
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' });
    t.deepEqual([...(await ballots(admin, id)).keys()].sort(), ['leader-1', 'leader-2', 'leader-3', 'leader-4']);
    t.like(await variablesOf(admin, id), { approvalsNeeded: 3 }, 'more than half of 4 is 3');
    await vote(l['leader-4']!, 'leader-4', id, { decision: 'reject', decisionComment: '反对' }, [l['leader-1']!]);
    await vote(l['leader-1']!, 'leader-1', id, { decision: 'approve' });
    await vote(l['leader-2']!, 'leader-2', id, { decision: 'approve' });
    t.deepEqual([...(await ballots(admin, id)).keys()], ['leader-3'], '2 of 4 is not more than half; leader-3 can still pass it');
    await vote(l['leader-3']!, 'leader-3', id, { decision: 'approve' }, [l['leader-4']!]);
    t.deepEqual(await openKeys(admin, id), ['assignImplementation']);
    t.like(await variablesOf(admin, id), { approveCount: 3, rejectCount: 1, reviseCount: 0 });
  });

  test.serial(t('票签: once more than half can no longer approve, the vote ends; a tie of revise and reject votes sends it back, and the next round is put to the members of then'), async (t) => {
    const { office, admin } = s.staff;
    const l = await leaders(s, ['leader-2', 'leader-3', 'leader-4']);
    const id = await toTheLeadingGroup('PLAN-SHARE-FAIL', { decisionRule: 'share', voteThreshold: 50 });
    await vote(l['leader-1']!, 'leader-1', id, { decision: 'reject' });
    t.is((await ballots(admin, id)).size, 3, '0 approvals and 3 to vote: 3 could still approve');
    await vote(l['leader-2']!, 'leader-2', id, { decision: 'revise' });
    t.deepEqual(await openKeys(admin, id), ['draftPlan'], 'at most 2 of 4 could approve: ended; a revise and a reject vote tie, so it is revised');
    t.deepEqual(await decisionHistory(id), [['leader-1', 'completed'], ['leader-2', 'completed'], ['leader-3', 'deleted'], ['leader-4', 'deleted']]);

    // leader-4 leaves the leading group before the resubmission reaches it.
    await leaveGroup(s, ['leader-4']);
    await step(office, 'office-1', id, 'draftPlan', { ...draft, summary: '按领导小组意见修改后的全年规划草案' });
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' });
    const second = await ballots(admin, id);
    t.deepEqual([...second.keys()].sort(), ['leader-1', 'leader-2', 'leader-3'], 'the second round is put to the members of then');
    t.like(await variablesOf(admin, id), { approvalsNeeded: 2, approveCount: 0, rejectCount: 0, reviseCount: 0, voteLog: '' }, 'counted afresh');
    await vote(l['leader-3']!, 'leader-3', id, { decision: 'approve' });
    await vote(l['leader-1']!, 'leader-1', id, { decision: 'approve' });
    t.deepEqual(await openKeys(admin, id), ['assignImplementation'], '2 of 3 pass it; leader-2 is not asked');
    const path = await passed(admin, id);
    t.is(path.filter((a) => a === 'prepareVote').length, 2);
  });

  test.serial(t('the decision rule is checked when starting, and a leading group without members refuses the submission instead of deciding by nobody'), async (t) => {
    const { office, admin } = s.staff;
    const wrongRule = await office.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ title: draft.title, planType: 'plan', decisionRule: 'majority' }) });
    t.is(wrongRule.status, 400);
    t.regex(wrongRule.body.message, /decisionRule/);
    const wrongShare = await office.post(`/engine-rest/process-definition/key/${KEY}/start`, { variables: vars({ title: draft.title, planType: 'plan', decisionRule: 'share', voteThreshold: 100 }) });
    t.is(wrongShare.status, 400);
    t.regex(wrongShare.body.message, /voteThreshold/);

    const id = await startProcess(office, KEY, { title: draft.title, planType: 'plan' }, 'PLAN-NOBODY');
    await step(office, 'office-1', id, 'draftPlan', draft);
    await leaveGroup(s, ['leader-1', 'leader-2', 'leader-3']);
    const [review] = (await office.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    await office.post(`/engine-rest/task/${review.id}/claim`, { userId: 'office-1' });
    const refused = await office.post(`/engine-rest/task/${review.id}/complete`, { variables: vars({ reviewResult: 'submit' }) });
    t.is(refused.status, 400, JSON.stringify(refused.body));
    t.regex(refused.body.message, /prepareVote/);
    t.regex(refused.body.message, /没有成员|no members/);
    t.deepEqual(await openKeys(admin, id), ['reviewDraft'], 'nothing was saved: the review is still open');
    await leaders(s, []);
    await s.staff.admin.put('/engine-rest/group/leading-group/members/leader-1');
    await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' });
    t.deepEqual([...(await ballots(admin, id)).keys()], ['leader-1']);
  });
});

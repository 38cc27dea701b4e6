import test from 'ava';
import { openKeys, openTasks, scenarioSuite, startProcess, stateOf, step, type Scenario } from '../helpers/scenario.ts';
import { makeUser, type Client } from '../helpers/server.ts';
import { ballots, leaders, leaveGroup, vote } from '../helpers/votes.ts';

/*
 * 转办, 加签/减签 and 终止 (docs/instance-operations.md) run as the people
 * of each role would, on the plan approval and its leading-group vote
 * (docs/leading-group-vote.md), with their refusals, on both databases.
 */

const KEY = 'security-plan-approval';
const draft = { title: '2026年度安全规划', summary: '全年网络与数据安全建设规划草案' };

/** Starts a plan approval as the office and brings it to the leading group's vote. */
async function toVote(s: Scenario, rule: Record<string, unknown>, businessKey: string): Promise<string> {
  const { office } = s.staff;
  const id = await startProcess(office, KEY, { title: draft.title, planType: 'rules', ...rule }, businessKey);
  await step(office, 'office-1', id, 'draftPlan', draft);
  await step(office, 'office-1', id, 'reviewDraft', { reviewResult: 'submit' });
  return id;
}

async function operations(admin: Client, id: string, type: string): Promise<{ userId: string; entityId: string }[]> {
  const r = await admin.get(`/engine-rest/history/user-operation?processInstanceId=${id}&operationType=${type}`);
  if (r.status !== 200) throw new Error(`user-operation: ${r.status}`);
  return r.body;
}

scenarioSuite((s, t) => {
  let office2: Client;
  test.serial.before(async () => {
    office2 = await makeUser(s.server, 'office-2', ['office']);
  });

  test.serial(t('转办: the assignee hands the draft to a colleague of the office, who then owns it; others are refused'), async (t) => {
    const { office, network, leader, admin } = s.staff;
    const id = await startProcess(office, KEY, { title: draft.title, planType: 'rules' }, 'TRANSFER-1');
    const [task] = await openTasks(office, id);
    t.is((await office.post(`/engine-rest/task/${task!.id}/claim`, { userId: 'office-1' })).status, 204);
    // Refusals first: another role, nobody, oneself, one who may not see it, no user.
    t.is((await office.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'network-1' })).status, 400, 'not of a role that may see it');
    t.is((await office.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'nobody-such' })).status, 400, 'unknown user');
    t.is((await office.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'office-1' })).status, 400, 'to oneself');
    t.is((await office.post(`/engine-rest/task/${task!.id}/transfer`, {})).status, 400, 'no userId');
    t.is((await network.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'network-1' })).status, 404, 'a role that may not see it');
    t.is((await leader.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'office-2' })).status, 404);

    const r = await office.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'office-2', comment: '请王五接手起草' });
    t.is(r.status, 204, JSON.stringify(r.body));
    const seen = (await office2.get(`/engine-rest/task/${task!.id}`)).body;
    t.like(seen, { assignee: 'office-2', owner: null, delegationState: null }, 'owned outright, unlike a delegation');
    const comments = (await office2.get(`/engine-rest/task/${task!.id}/comment`)).body;
    t.deepEqual(comments.map((c: { userId: string; message: string }) => [c.userId, c.message]), [['office-1', '请王五接手起草']]);
    const ops = await operations(admin, id, 'Transfer');
    t.is(ops.length, 1);
    t.is(ops[0]!.userId, 'office-1');
    // The new owner completes it; a closed task cannot be transferred.
    await office2.post(`/engine-rest/task/${task!.id}/complete`, { variables: { title: { value: draft.title }, summary: { value: draft.summary } } });
    t.deepEqual(await openKeys(admin, id), ['reviewDraft']);
    t.is((await office.post(`/engine-rest/task/${task!.id}/transfer`, { userId: 'office-2' })).status, 404, 'closed');
    await admin.delete(`/engine-rest/process-instance/${id}`);
  });

  test.serial(t('转办 of a vote (assigned by name, no candidates): only to a member of the assignee\'s role who holds no ballot of it'), async (t) => {
    const { leader, office, admin } = s.staff;
    const clients = await leaders(s, ['leader-2']);
    const id = await toVote(s, { decisionRule: 'any' }, 'TRANSFER-VOTE');
    const mine = (await ballots(admin, id)).get('leader-1')!;
    t.is((await leader.post(`/engine-rest/task/${mine.id}/transfer`, { userId: 'office-1' })).status, 400, 'the office is not of the leading group');
    t.truthy((await ballots(admin, id)).get('leader-2'), 'leader-2 has a ballot of their own');
    const twice = await leader.post(`/engine-rest/task/${mine.id}/transfer`, { userId: 'leader-2' });
    t.is(twice.status, 400, 'one vote each: leader-2 already holds a ballot');
    t.regex(twice.body.message, /already have an unfinished instance/);
    // One who joined the group after the vote opened holds no ballot: the vote may go to them.
    const late = await leaders(s, ['leader-4']);
    t.is((await leader.post(`/engine-rest/task/${mine.id}/transfer`, { userId: 'leader-4' })).status, 204);
    t.is((await late['leader-4']!.get(`/engine-rest/task/${mine.id}`)).body.assignee, 'leader-4');
    t.is((await leader.get(`/engine-rest/task/${mine.id}`)).status, 404, 'the former assignee no longer sees it');
    t.is((await clients['leader-2']!.get(`/engine-rest/task/${mine.id}`)).status, 404, 'nor does the one refused');
    t.is((await office.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '测试结束' })).status, 204);
    await leaveGroup(s, ['leader-2', 'leader-4']);
  });

  test.serial(t('加签: the office adds a member to a 票签; the added vote counts and the condition reads the new count'), async (t) => {
    const { office, leader, network, admin } = s.staff;
    const clients = await leaders(s, ['leader-2']);
    // leader-3 joins the leading group after the vote opened: two members at the vote, more than half is 2 approvals.
    const third = await makeUser(s.server, 'leader-3', ['leading-group']);
    await leaveGroup(s, ['leader-3']);
    const id = await toVote(s, { decisionRule: 'share', voteThreshold: 50 }, 'ADD-SIGNER');
    t.is((await admin.put('/engine-rest/group/leading-group/members/leader-3')).status, 204);
    const task = (await ballots(admin, id)).get('leader-1')!;
    t.is((await leader.post(`/engine-rest/task/${task.id}/signers`, { userId: 'leader-3' })).status, 403, 'a signer may not add signers');
    t.is((await network.post(`/engine-rest/task/${task.id}/signers`, { userId: 'leader-3' })).status, 404);
    t.is((await office.post(`/engine-rest/task/${task.id}/signers`, { userId: 'leader-2' })).status, 400, 'already a signer');
    t.is((await office.post(`/engine-rest/task/${task.id}/signers`, { userId: 'network-1' })).status, 400, 'not of the signers\' role');
    t.is((await office.post(`/engine-rest/task/${task.id}/signers`, { userId: 'nobody-such' })).status, 400);
    const draftTask = (await admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=draftPlan`)).body[0];
    t.is((await office.post(`/engine-rest/task/${draftTask.id}/signers`, { userId: 'leader-3' })).status, 404, 'a closed task');

    const added = await office.post(`/engine-rest/task/${task.id}/signers`, { userId: 'leader-3', comment: '请张三一并表决' });
    t.is(added.status, 200, JSON.stringify(added.body));
    const votes = await ballots(admin, id);
    t.deepEqual([...votes.keys()].sort(), ['leader-1', 'leader-2', 'leader-3']);
    t.is(votes.get('leader-3')!.id, added.body.id);
    t.deepEqual((await third.get(`/engine-rest/task/${added.body.id}/comment`)).body.map((c: { message: string }) => c.message), ['请张三一并表决']);
    t.is((await operations(admin, id, 'AddSigner')).length, 1);

    // Without the third signer one rejection would decide it (0 + 2 - 1 < 2); with it the vote goes on.
    await vote(leader, 'leader-1', id, { decision: 'reject' });
    t.deepEqual(await openKeys(admin, id), ['leadingGroupDecision', 'leadingGroupDecision']);
    await vote(clients['leader-2']!, 'leader-2', id, { decision: 'approve' });
    await vote(third, 'leader-3', id, { decision: 'approve' });
    t.deepEqual(await openKeys(admin, id), ['assignImplementation'], 'two approvals of three pass');
    t.like(await (await admin.get(`/engine-rest/process-instance/${id}/variables/voteLog`)).body, { value: 'leader-1:reject;leader-2:approve;leader-3:approve;' });
    await office.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '测试结束' });
    await leaveGroup(s, ['leader-2', 'leader-3']);
  });

  test.serial(t('减签: a removed signer\'s task is deleted, never the last one; a 票签 is decided by a removal'), async (t) => {
    const { office, leader, admin } = s.staff;
    const clients = await leaders(s, ['leader-2', 'leader-3']);
    // Three members, more than half: 2 approvals needed.
    const id = await toVote(s, { decisionRule: 'share', voteThreshold: 50 }, 'REMOVE-SIGNER');
    const task = (await ballots(admin, id)).get('leader-1')!;
    t.is((await leader.delete(`/engine-rest/task/${task.id}/signers/leader-2`)).status, 403);
    t.is((await office.delete(`/engine-rest/task/${task.id}/signers/office-1`)).status, 404, 'not a signer');
    await vote(leader, 'leader-1', id, { decision: 'reject' });
    const other = (await ballots(admin, id)).get('leader-2')!;
    // 0 approvals + 3 members - 1 done = 2: it can still pass. Removing leader-3 leaves 0 + 2 - 1 < 2: decided.
    t.is((await office.delete(`/engine-rest/task/${other.id}/signers/leader-3`)).status, 204);
    t.is(await stateOf(admin, id), 'COMPLETED', 'rejected at once: reviseCount 0 < rejectCount 1');
    const removed = (await admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=leadingGroupDecision&taskAssignee=leader-3`)).body;
    t.is(removed.length, 1);
    t.is(removed[0].deleteReason, 'signerRemoved');
    t.is((await clients['leader-2']!.get(`/engine-rest/task/${other.id}`)).status, 404, 'the condition ended the others too');
    t.is((await operations(admin, id, 'RemoveSigner')).length, 1);

    // The last unfinished signer stays (409); a 或签 removal is re-evaluated but cannot decide without an approval.
    const id2 = await toVote(s, { decisionRule: 'any' }, 'REMOVE-LAST');
    await vote(leader, 'leader-1', id2, { decision: 'reject' });
    const second = (await ballots(admin, id2)).get('leader-2')!;
    t.is((await office.delete(`/engine-rest/task/${second.id}/signers/leader-3`)).status, 204);
    t.deepEqual([...(await ballots(admin, id2)).keys()], ['leader-2']);
    const last = await office.delete(`/engine-rest/task/${second.id}/signers/leader-2`);
    t.is(last.status, 409, JSON.stringify(last.body));
    await vote(clients['leader-2']!, 'leader-2', id2, { decision: 'approve' });
    t.deepEqual(await openKeys(admin, id2), ['assignImplementation']);
    const draftTask = (await openTasks(admin, id2))[0]!;
    t.is((await office.post(`/engine-rest/task/${draftTask.id}/signers`, { userId: 'leader-2' })).status, 400, 'not a multi-instance task');
    await office.post(`/engine-rest/process-instance/${id2}/terminate`, { reason: '测试结束' });
    await leaveGroup(s, ['leader-2', 'leader-3']);
  });

  test.serial(t('终止: the initiator or the office ends an instance with a reason; it stays in history as EXTERNALLY_TERMINATED'), async (t) => {
    const { office, network, leader, admin } = s.staff;
    const id = await toVote(s, {}, 'TERMINATE');
    t.is((await office.post(`/engine-rest/process-instance/${id}/terminate`, {})).status, 400, 'a reason is required');
    t.is((await office.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '  ' })).status, 400);
    t.is((await network.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '无权' })).status, 404, 'one who may not see it');
    t.is((await leader.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '无权' })).status, 403, 'a signer is not the initiator');
    t.is((await office2.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '规划已由上级统一下发，本次审批终止' })).status, 204, 'the office');
    const [h] = (await admin.get(`/engine-rest/history/process-instance?processInstanceId=${id}`)).body;
    t.like(h, { state: 'EXTERNALLY_TERMINATED', deleteReason: '规划已由上级统一下发，本次审批终止' });
    t.deepEqual(await openKeys(admin, id), []);
    t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${id}`)).body, [], 'the reminder timer went too');
    const ops = await operations(admin, id, 'Terminate');
    t.is(ops.length, 1);
    t.is(ops[0]!.userId, 'office-2');
    t.is((await office.post(`/engine-rest/process-instance/${id}/terminate`, { reason: '再次' })).status, 404, 'already ended');
  });
});

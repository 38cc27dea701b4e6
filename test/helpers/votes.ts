import { client, makeUser, vars, type Client } from './server.ts';
import { openTasks, type Scenario, type TaskView } from './scenario.ts';

/*
 * The leading group deciding as a body (docs/leading-group-vote.md): its
 * members are read when the decision is reached, and each votes on a task
 * of their own. These helpers add members, and vote as one member while
 * checking that the others can neither see nor complete that member's task.
 */

export const LEADING_GROUP = 'leading-group';

/** The scenario's leader-1 plus `ids`, made members of the leading group (users created on first use); returns a client each. */
export async function leaders(s: Scenario, ids: string[]): Promise<Record<string, Client>> {
  const out: Record<string, Client> = { 'leader-1': s.staff.leader };
  for (const id of ids) {
    const exists = (await s.staff.admin.get(`/engine-rest/user?id=${id}`)).body.length > 0;
    if (exists) {
      const r = await s.staff.admin.put(`/engine-rest/group/${LEADING_GROUP}/members/${id}`);
      if (r.status !== 204) throw new Error(`membership ${id}: ${r.status}`);
      out[id] = client(s.server.url, id, `${id}-password`);
    } else {
      out[id] = await makeUser(s.server, id, [LEADING_GROUP]);
    }
  }
  return out;
}

/** Takes `ids` out of the leading group (the users stay). */
export async function leaveGroup(s: Scenario, ids: string[]): Promise<void> {
  for (const id of ids) {
    const r = await s.staff.admin.delete(`/engine-rest/group/${LEADING_GROUP}/members/${id}`);
    if (r.status !== 204) throw new Error(`leave ${id}: ${r.status}`);
  }
}

/** The open decision tasks of an instance (administrator's view), by assignee. */
export async function ballots(admin: Client, instanceId: string, key = 'leadingGroupDecision'): Promise<Map<string, TaskView & { assignee: string }>> {
  const tasks = (await openTasks(admin, instanceId)).filter((t) => t.taskDefinitionKey === key) as (TaskView & { assignee: string })[];
  return new Map(tasks.map((t) => [t.assignee, t]));
}

/**
 * `member` votes `values` on their own decision task: they see exactly that
 * one decision task of the instance; each of `others` (other members, other
 * roles) neither sees it nor may complete it.
 */
export async function vote(
  member: Client, memberId: string, instanceId: string, values: Record<string, unknown>, others: Client[] = [], key = 'leadingGroupDecision',
): Promise<void> {
  const mine = (await openTasks(member, instanceId)).filter((t) => t.taskDefinitionKey === key) as (TaskView & { assignee: string })[];
  if (mine.length !== 1 || mine[0]!.assignee !== memberId) throw new Error(`${memberId} should see exactly their own ${key}, sees ${JSON.stringify(mine)}`);
  const task = mine[0]!;
  for (const other of others) {
    const seen = await other.get(`/engine-rest/task?processInstanceId=${instanceId}`);
    if (seen.status !== 403 && (seen.status !== 200 || seen.body.some((t: TaskView) => t.id === task.id))) throw new Error(`someone else sees ${memberId}'s ${key}`);
    const r = await other.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) });
    if (r.status !== 404 && r.status !== 403) throw new Error(`someone else completing ${memberId}'s ${key} got ${r.status}`);
  }
  const done = await member.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) });
  if (done.status !== 204) throw new Error(`${memberId} voting: ${done.status} ${JSON.stringify(done.body)}`);
}

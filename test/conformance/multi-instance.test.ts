import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';
import { assertNothingLeft, assertRefusedFixture, deployFixture, json, start, tasksOf } from './helpers.ts';

/*
 * Multi-instance user tasks (会签) as Camunda 7 runs them: one task per
 * instance with its assignee resolved in that instance's scope, parallel and
 * sequential, loopCardinality, a completion condition ending the rest, and
 * Camunda's loop variables readable by expressions.
 */

const REVIEWERS = ['rev-a', 'rev-b', 'rev-c'];

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client; office: Client; rev: Record<string, Client> };
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    const server = await startTestServer(backend);
    const rev: Record<string, Client> = {};
    for (const id of REVIEWERS) rev[id] = await makeUser(server, id, ['leading-group']);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password), office: await makeUser(server, 'office-mi', ['office']), rev };
    for (const name of ['mi-parallel', 'mi-sequential', 'mi-cardinality', 'mi-condition']) {
      const r = await deployFixture(server, name);
      if (r.status !== 200) throw new Error(`deploy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
  test.after.always(async () => c?.server.stop());

  /** Finishes the task after the loop (the office's), so the instance ends. */
  async function finishAfter(id: string) {
    const [after] = await tasksOf(c.admin, id);
    if (after?.taskDefinitionKey !== 'after') throw new Error(`expected the task after the loop, got ${JSON.stringify(after)}`);
    const r = await c.office.post(`/engine-rest/task/${after.id}/complete`, {});
    if (r.status !== 204) throw new Error(`complete after: ${r.status} ${JSON.stringify(r.body)}`);
  }

  test.serial(t('parallel over a Json list: one task per reviewer, each assigned in its own scope and done only by them'), async (t) => {
    const id = await start(c.admin, 'mi-parallel', { reviewers: json(REVIEWERS) });
    const tasks = await tasksOf(c.admin, id);
    t.deepEqual(tasks.map((x) => x.taskDefinitionKey), ['review', 'review', 'review']);
    t.deepEqual(tasks.map((x) => x.assignee).sort(), REVIEWERS);
    t.is(new Set(tasks.map((x) => x.executionId)).size, 3, 'each instance has an execution of its own');
    const byAssignee = new Map(tasks.map((x) => [x.assignee, x]));
    // Each reviewer sees only their own task; another's is not theirs to see or complete.
    const seenByA = (await c.rev['rev-a']!.get(`/engine-rest/task?processInstanceId=${id}`)).body;
    t.deepEqual(seenByA.map((x: any) => x.id), [byAssignee.get('rev-a').id]);
    const intruder = await c.rev['rev-a']!.post(`/engine-rest/task/${byAssignee.get('rev-b').id}/complete`, {});
    t.is(intruder.status, 404);
    t.is(typeof intruder.body.message, 'string');

    t.is((await c.rev['rev-b']!.post(`/engine-rest/task/${byAssignee.get('rev-b').id}/complete`, {})).status, 204);
    const left = await tasksOf(c.admin, id);
    t.deepEqual(left.map((x) => x.assignee).sort(), ['rev-a', 'rev-c'], 'the others stay open');
    t.is((await c.rev['rev-a']!.post(`/engine-rest/task/${byAssignee.get('rev-a').id}/complete`, {})).status, 204);
    t.is((await c.rev['rev-c']!.post(`/engine-rest/task/${byAssignee.get('rev-c').id}/complete`, {})).status, 204);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=review`)).body;
    t.deepEqual(history.map((h: any) => [h.assignee, h.deleteReason]).sort(), REVIEWERS.map((r) => [r, 'completed']));
    const acts = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}`)).body;
    t.is(acts.filter((a: any) => a.activityId === 'review').length, 3, 'one activity instance per reviewer');
    t.is(acts.filter((a: any) => a.activityId === 'review#multiInstanceBody' && a.activityType === 'multiInstanceBody').length, 1);
  });

  test.serial(t('three reviewers complete at the same moment: all three count, the flow goes on once'), async (t) => {
    const id = await start(c.admin, 'mi-parallel', { reviewers: json(REVIEWERS) });
    const tasks = await tasksOf(c.admin, id);
    const answers = await Promise.all(tasks.map((x) => c.rev[x.assignee]!.post(`/engine-rest/task/${x.id}/complete`, {})));
    t.deepEqual(answers.map((r) => r.status), [204, 204, 204], JSON.stringify(answers.map((r) => r.body)));
    const open = await tasksOf(c.admin, id);
    t.deepEqual(open.map((x) => x.taskDefinitionKey), ['after'], 'exactly one task after the loop');
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=review`)).body;
    t.deepEqual(history.map((h: any) => h.completedBy).sort(), REVIEWERS);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('sequential: the next reviewer gets a task when the previous one completes; loop variables as Camunda sets them'), async (t) => {
    const id = await start(c.admin, 'mi-sequential', { reviewers: json(REVIEWERS) });
    for (const [i, reviewer] of REVIEWERS.entries()) {
      const tasks = await tasksOf(c.admin, id);
      t.is(tasks.length, 1, 'one at a time');
      t.is(tasks[0].assignee, reviewer);
      t.is(tasks[0].name, `第 ${i + 1} 位 / 3，活跃 1，已完成 ${i}`);
      t.is((await c.rev[reviewer]!.post(`/engine-rest/task/${tasks[0].id}/complete`, {})).status, 204);
    }
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=review&sortBy=startTime&sortOrder=asc`)).body;
    t.deepEqual(history.map((h: any) => h.assignee), REVIEWERS);
  });

  test.serial(t('loopCardinality from a variable: that many tasks for the candidate group'), async (t) => {
    const id = await start(c.admin, 'mi-cardinality', { copies: { value: 3, type: 'Integer' } });
    const tasks = await tasksOf(c.admin, id);
    t.deepEqual(tasks.map((x) => x.name).sort(), ['核对 0', '核对 1', '核对 2']);
    t.true(tasks.every((x) => x.assignee === null));
    for (const task of tasks) {
      t.is((await c.office.post(`/engine-rest/task/${task.id}/claim`, { userId: 'office-mi' })).status, 204);
      t.is((await c.office.post(`/engine-rest/task/${task.id}/complete`, {})).status, 204);
    }
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('a completion condition ends the remaining instances: their tasks are deleted, history says so'), async (t) => {
    const id = await start(c.admin, 'mi-condition', { reviewers: json(REVIEWERS) });
    const tasks = await tasksOf(c.admin, id);
    t.deepEqual(tasks.map((x) => x.name), ['投票 3/3', '投票 3/3', '投票 3/3'], 'nrOfActiveInstances and nrOfInstances as the tasks open');
    const byAssignee = new Map(tasks.map((x) => [x.assignee, x]));
    t.is((await c.rev['rev-a']!.post(`/engine-rest/task/${byAssignee.get('rev-a').id}/complete`, {})).status, 204);
    t.is((await tasksOf(c.admin, id)).filter((x) => x.taskDefinitionKey === 'review').length, 2, '1 of 3 is not more than half');
    t.is((await c.rev['rev-c']!.post(`/engine-rest/task/${byAssignee.get('rev-c').id}/complete`, {})).status, 204);
    const open = await tasksOf(c.admin, id);
    t.deepEqual(open.map((x) => x.taskDefinitionKey), ['after'], "rev-b's task ended with the loop");
    const late = await c.rev['rev-b']!.post(`/engine-rest/task/${byAssignee.get('rev-b').id}/complete`, {});
    t.is(late.status, 404);
    const history = (await c.admin.get(`/engine-rest/history/task?processInstanceId=${id}&taskDefinitionKey=review`)).body;
    t.deepEqual(history.map((h: any) => [h.assignee, h.deleteReason]).sort(), [['rev-a', 'completed'], ['rev-b', 'deleted'], ['rev-c', 'completed']]);
    const acts = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=review`)).body;
    t.deepEqual(acts.map((a: any) => a.canceled).sort(), [false, false, true]);
    await finishAfter(id);
    await assertNothingLeft(t, c.server, c.admin, id);
  });

  test.serial(t('multi-instance that would not run as Camunda runs it is refused at deployment, naming the element, and nothing is stored'), async (t) => {
    await assertRefusedFixture(t, c.server, c.admin, 'mi-refused', [
      ['notify', /multi-instance on notify \(ManualTask\)/],
      ['review', /multi-instance review needs a camunda:collection or a loopCardinality/],
    ]);
    t.is((await c.admin.get('/engine-rest/process-definition?key=mi-refused')).body.length, 0);
  });
}

import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, client, makeUser, startTestServer, type Client, type TestServer } from '../helpers/server.ts';
import { deployFixture, json, start, tasksOf } from './helpers.ts';

/*
 * 加签/减签 (docs/instance-operations.md) on the plain multi-instance
 * fixtures: a parallel one over a Json list takes a signer added and removed,
 * with its loop variables as Camunda counts them; a sequential one and one
 * counted by loopCardinality alone are refused up front (400), nothing changed.
 */

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client };
  const t = (title: string) => `${backend.name}: ${title}`;

  test.before(async () => {
    const server = await startTestServer(backend);
    for (const id of ['sg-a', 'sg-b', 'sg-c', 'sg-d']) await makeUser(server, id, ['leading-group']);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password) };
    for (const name of ['mi-parallel', 'mi-sequential', 'mi-cardinality']) {
      const r = await deployFixture(server, name);
      if (r.status !== 200) throw new Error(`deploy ${name}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  });
  test.after.always(async () => c?.server.stop());

  test.serial(t('parallel over a Json list: the added signer gets a task in their own scope; the collection stays as it was'), async (t) => {
    const id = await start(c.admin, 'mi-parallel', { reviewers: json(['sg-a', 'sg-b']) });
    const [first] = await tasksOf(c.admin, id);
    const added = await c.admin.post(`/engine-rest/task/${first.id}/signers`, { userId: 'sg-c' });
    t.is(added.status, 200, JSON.stringify(added.body));
    const open = await tasksOf(c.admin, id);
    t.deepEqual(open.map((x) => x.assignee).sort(), ['sg-a', 'sg-b', 'sg-c']);
    const vars = (await c.admin.get(`/engine-rest/task/${added.body.id}/variables`)).body;
    t.like(vars, { reviewer: { value: 'sg-c' }, loopCounter: { value: 2 } });
    t.is(JSON.parse((await c.admin.get(`/engine-rest/process-instance/${id}/variables/reviewers`)).body.value).length, 2, 'the collection is not appended to');
    t.is((await c.admin.delete(`/engine-rest/task/${first.id}/signers/sg-a`)).status, 204);
    const left = await tasksOf(c.admin, id);
    t.deepEqual(left.map((x) => x.assignee).sort(), ['sg-b', 'sg-c']);
    // The two left complete; then the loop is done (the removed one is not waited for).
    for (const x of left) t.is((await c.admin.post(`/engine-rest/task/${x.id}/complete`, {})).status, 204);
    t.deepEqual((await tasksOf(c.admin, id)).map((x) => x.taskDefinitionKey), ['after']);
    const acts = (await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${id}&activityId=review`)).body;
    t.is(acts.filter((a: { canceled: boolean }) => a.canceled).length, 1, 'the removed instance is canceled in history');
  });

  test.serial(t('one vote each, under concurrency: three instances transferred to one person at once, one goes through, the others 400'), async (t) => {
    const id = await start(c.admin, 'mi-parallel', { reviewers: json(['sg-a', 'sg-b', 'sg-c']) });
    const open = await tasksOf(c.admin, id);
    t.is(open.length, 3);
    // Sent together: each passes the early check before any commits; the check under the row lock decides.
    const replies = await Promise.all(open.map((x) => c.admin.post(`/engine-rest/task/${x.id}/transfer`, { userId: 'sg-d', comment: '换人' })));
    t.deepEqual(replies.map((r) => r.status).sort(), [204, 400, 400], JSON.stringify(replies.map((r) => r.body)));
    for (const r of replies.filter((x) => x.status === 400)) t.regex(r.body.message, /sg-d/);
    const after = await tasksOf(c.admin, id);
    t.is(after.filter((x) => x.assignee === 'sg-d').length, 1, 'sg-d holds one ballot');
    // And a 加签 of sg-d, who now holds one: refused.
    t.is((await c.admin.post(`/engine-rest/task/${after[0]!.id}/signers`, { userId: 'sg-d' })).status, 400);
    t.is((await tasksOf(c.admin, id)).length, 3);
  });

  test.serial(t('sequential and loopCardinality-only multi-instance are refused with 400, nothing changed'), async (t) => {
    const seq = await start(c.admin, 'mi-sequential', { reviewers: json(['sg-a', 'sg-b']) });
    const [one] = await tasksOf(c.admin, seq);
    const r = await c.admin.post(`/engine-rest/task/${one.id}/signers`, { userId: 'sg-c' });
    t.is(r.status, 400);
    t.regex(r.body.message, /顺序多实例/);
    t.is((await c.admin.delete(`/engine-rest/task/${one.id}/signers/sg-a`)).status, 400);
    t.is((await tasksOf(c.admin, seq)).length, 1);
    const card = await start(c.admin, 'mi-cardinality', { copies: { value: 2, type: 'Integer' } });
    const [copy] = await tasksOf(c.admin, card);
    const r2 = await c.admin.post(`/engine-rest/task/${copy.id}/signers`, { userId: 'sg-c' });
    t.is(r2.status, 400);
    t.regex(r2.body.message, /collection/);
    t.is((await tasksOf(c.admin, card)).length, 2);
  });
}

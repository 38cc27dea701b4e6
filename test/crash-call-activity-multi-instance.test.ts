import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { backends } from './helpers/db.ts';
import { bootPatiently, database, Tail, type Running } from './helpers/child-server.ts';
import { deployFixtures, must, send } from './helpers/crash-client.ts';

/*
 * kill -9 in the middle of a parallel multi-instance call activity: each
 * caller has one child per item; one child of each is completed first, then
 * two more of each all at once while the real server is SIGKILLed, and the
 * fourth is still open. After a restart the completions whose answer was lost
 * are sent again and the open children completed: every child ends exactly
 * once with what camunda:in gave it, and every caller leaves the call
 * activity exactly once with its own variables only.
 */

const CALLERS = 3;
const ITEMS = ['a', 'b', 'c', 'd'];

interface Child { id: string; index: number }

/** A caller's children in item order (camunda:in gives each childIndex = loopCounter * 10). */
async function childrenOf(url: string, caller: string): Promise<Child[]> {
  const list: { id: string }[] = await must(url, 'GET', `/engine-rest/history/process-instance?superProcessInstanceId=${caller}`);
  const out: Child[] = [];
  for (const { id } of list) {
    const vars: { name: string; value: unknown }[] = await must(url, 'GET', `/engine-rest/history/variable-instance?processInstanceId=${id}&variableName=childIndex`);
    out.push({ id, index: Number(vars[0]?.value) / 10 });
  }
  return out.sort((a, b) => a.index - b.index);
}

const variablesOf = async (url: string, instance: string): Promise<Record<string, unknown>> => Object.fromEntries(
  (await must(url, 'GET', `/engine-rest/history/variable-instance?processInstanceId=${instance}`)).map((v: { name: string; value: unknown }) => [v.name, v.value]),
);

for (const backend of backends) {
  test.serial(`${backend.name}: kill -9 among the children of a parallel multi-instance call activity: each child and each caller ends once`, async (t) => {
    t.timeout(300_000);
    const tail = new Tail();
    const { dbEnv, sql, cleanup } = await database(backend);
    let running: Running | undefined;
    try {
      running = await bootPatiently(dbEnv, tail, `${backend.name}#0`);
      await deployFixtures(running.url, 'ca-mi-crash', ['ca-child', 'ca-mi-parallel']);
      const callers: string[] = [];
      const kids = new Map<string, Child[]>();
      /** Each child's work task, and the result it is completed with. */
      const work = new Map<string, string>();
      for (let i = 0; i < CALLERS; i++) {
        const caller = (await must(running.url, 'POST', '/engine-rest/process-definition/key/ca-mi-parallel/start', {
          variables: { items: { value: JSON.stringify(ITEMS), type: 'Json' }, shared: { value: 'S', type: 'String' }, stopAfter: { value: 99, type: 'Integer' } },
        })).id;
        callers.push(caller);
        const children = await childrenOf(running.url, caller);
        t.deepEqual(children.map((c) => c.index), [0, 1, 2, 3], 'one child per item');
        kids.set(caller, children);
        for (const child of children) {
          const [task] = await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${child.id}`);
          work.set(child.id, task.id);
        }
      }
      const complete = (url: string, child: string) => send(url, 'POST', `/engine-rest/task/${work.get(child)}/complete`, { variables: { result: { value: `done-${child}` } } });
      // The first child of each caller ends before anything goes wrong.
      for (const caller of callers) {
        const r = await complete(running.url, kids.get(caller)![0]!.id);
        t.true(!r.lost && r.status === 204);
      }
      // The second and third of each all at once; the kill lands among them once the first is answered.
      const url = running.url;
      const lost: string[] = [];
      let answered = (): void => undefined;
      const firstAnswer = new Promise<void>((resolve) => (answered = resolve));
      const sent = callers.flatMap((caller) => kids.get(caller)!.slice(1, 3)).map(async (child) => {
        const r = await complete(url, child.id);
        if (r.lost) return void lost.push(child.id);
        t.is(r.status, 204, JSON.stringify(r.body));
        answered();
      });
      await Promise.race([firstAnswer, sleep(20_000, undefined, { ref: false })]);
      await sleep(Math.floor(Math.random() * 100));
      running.child.kill('SIGKILL');
      t.is((await running.exited).signal, 'SIGKILL');
      await Promise.all(sent);
      t.log(`${lost.length} of ${CALLERS * 2} completions of unknown outcome`);

      running = await bootPatiently(dbEnv, tail, `${backend.name}#1`);
      // What the kill cut off is sent again: done already (404) or done now (204), never twice.
      for (const child of lost) {
        const r = await complete(running.url, child);
        t.true(!r.lost && [204, 404].includes(r.status), `retry for ${child}: ${JSON.stringify(r)}`);
      }
      for (const caller of callers) {
        t.deepEqual(await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${caller}`), [], 'the caller waits for its last child');
        const last = kids.get(caller)![3]!;
        t.is((await must(running.url, 'GET', `/engine-rest/history/process-instance?processInstanceId=${last.id}`))[0]?.state, 'ACTIVE');
        const r = await complete(running.url, last.id);
        t.true(!r.lost && r.status === 204, JSON.stringify(r));
      }

      for (const caller of callers) {
        const children = await childrenOf(running.url, caller);
        t.deepEqual(children, kids.get(caller), 'no child lost or started twice');
        for (const child of children) {
          const [h] = await must(running.url, 'GET', `/engine-rest/history/process-instance?processInstanceId=${child.id}`);
          t.is(h.state, 'COMPLETED');
          t.deepEqual(await variablesOf(running.url, child.id), {
            childItem: ITEMS[child.index], childIndex: child.index * 10, childShared: 'S', result: `done-${child.id}`,
          }, 'what camunda:in gave it, and its own completion');
          const tasks = await must(running.url, 'GET', `/engine-rest/history/task?processInstanceId=${child.id}`);
          t.deepEqual(tasks.map((x: any) => `${x.id}:${x.deleteReason}`), [`${work.get(child.id)}:completed`], 'its task completed once');
          const ends = await must(running.url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${child.id}&activityId=end`);
          t.is(ends.length, 1, 'the child ended once');
        }
        const calls: any[] = await must(running.url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${caller}&activityId=call`);
        const called = calls.map((a) => a.calledProcessInstanceId).filter(Boolean).sort();
        t.deepEqual(called, children.map((c) => c.id).sort(), 'one instance of the call activity per child');
        t.true(calls.every((a) => a.endTime && !a.canceled), 'every instance of the call activity ended, none cancelled');
        const open: any[] = await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${caller}`);
        t.deepEqual(open.map((x) => x.taskDefinitionKey), ['after'], 'the caller left the call activity once');
        t.is((await must(running.url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${caller}&activityId=after`)).length, 1);
        const vars = await must(running.url, 'GET', `/engine-rest/process-instance/${caller}/variables`);
        t.deepEqual(Object.keys(vars).sort(), ['items', 'shared', 'stopAfter'], 'the caller holds its own variables, nothing of its children or its loop');
        t.deepEqual(typeof vars.items.value === 'string' ? JSON.parse(vars.items.value) : vars.items.value, ITEMS);
        t.is(vars.shared.value, 'S');
        t.is(vars.stopAfter.value, 99);
        await must(running.url, 'POST', `/engine-rest/task/${open[0].id}/complete`, {});
        t.is((await must(running.url, 'GET', `/engine-rest/history/process-instance?processInstanceId=${caller}`))[0]?.state, 'COMPLETED');
        t.is((await must(running.url, 'GET', `/engine-rest/history/activity-instance?processInstanceId=${caller}&activityId=end`)).length, 1, 'the caller ended once');
      }
      running.child.kill('SIGKILL');
      await running.exited;
      running = undefined;
      const db = await sql();
      const open = await db('activity_instances as a').join('process_instances as i', 'i.id', 'a.process_instance_id')
        .whereIn('i.definition_key', ['ca-child', 'ca-mi-parallel']).whereNull('a.end_time').count('* as n').first();
      t.is(Number(open?.n), 0, 'no element left running');
    } catch (err) {
      t.log(tail.text());
      throw err;
    } finally {
      if (running) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
      await cleanup();
    }
  });
}

import { setTimeout as sleep } from 'node:timers/promises';
import test from 'ava';
import { backends } from './helpers/db.ts';
import { bootPatiently, database, Tail, type Running } from './helpers/child-server.ts';
import { deployFixtures, must, send } from './helpers/crash-client.ts';

/*
 * kill -9 in the middle of call activities: callers start (each starting its
 * child in the same transaction) and children's tasks are completed (each
 * resuming its caller in the same transaction) while the real server is
 * SIGKILLed; after a restart every caller has exactly one child, and a child
 * is completed exactly when its caller has gone on past the call activity,
 * once, with what camunda:out passed back.
 */

const startBody = (key: string) => ({ businessKey: key, variables: { amount: { value: 5, type: 'Integer' } } });

for (const backend of backends) {
  test.serial(`${backend.name}: call activities lose nothing and do nothing twice across kill -9`, async (t) => {
    t.timeout(300_000);
    const tail = new Tail();
    const { dbEnv, sql, cleanup } = await database(backend);
    let running: Running | undefined;
    const unknownStarts = new Set<string>();
    const ackedStarts = new Set<string>();
    /** Child tasks whose completion was sent; the answer decides whether it is retried. */
    const lostCompletions: string[] = [];
    try {
      running = await bootPatiently(dbEnv, tail, `${backend.name}#0`);
      await deployFixtures(running.url, 'call-activity-crash', ['ca-parent', 'ca-child']);
      for (let i = 0; i < 6; i++) {
        await must(running.url, 'POST', '/engine-rest/process-definition/key/ca-parent/start', startBody(`pre-${i}`));
        ackedStarts.add(`pre-${i}`);
      }
      const url = running.url;
      const tasks: { id: string }[] = await must(url, 'GET', '/engine-rest/task?processDefinitionKey=ca-child');
      t.is(tasks.length, 6, 'each caller started its child');
      // The kill lands among completions (each resuming a caller) and starts (each starting a child),
      // once the first has been acknowledged, so that some commit and others are cut off.
      let acked = (): void => undefined;
      const firstAck = new Promise<void>((resolve) => (acked = resolve));
      const complete = async (task: { id: string }) => {
        const r = await send(url, 'POST', `/engine-rest/task/${task.id}/complete`, { variables: { result: { value: `done-${task.id}` } } });
        if (r.lost) lostCompletions.push(task.id);
        else t.is(r.status, 204);
        if (!r.lost) acked();
      };
      const startOne = async (key: string) => {
        const r = await send(url, 'POST', '/engine-rest/process-definition/key/ca-parent/start', startBody(key));
        if (r.lost) unknownStarts.add(key);
        else if (r.status === 200) ackedStarts.add(key);
        if (!r.lost) acked();
      };
      // Three clients, each completing a child's task and starting a caller in turn.
      const work = [0, 1, 2].map(async (w) => {
        for (let i = w; i < tasks.length; i += 3) {
          await complete(tasks[i]!);
          await startOne(`mid-${i}`);
        }
      });
      await Promise.race([firstAck, sleep(20_000, undefined, { ref: false })]);
      await sleep(Math.floor(Math.random() * 150));
      running.child.kill('SIGKILL');
      t.is((await running.exited).signal, 'SIGKILL');
      await Promise.all(work);
      t.log(`${lostCompletions.length} completions and ${unknownStarts.size} starts of unknown outcome`);

      running = await bootPatiently(dbEnv, tail, `${backend.name}#1`);
      for (const id of lostCompletions) {
        const r = await send(running.url, 'POST', `/engine-rest/task/${id}/complete`, { variables: { result: { value: `done-${id}` } } });
        t.true(!r.lost && (r.status === 204 || r.status === 404), `retry of ${id}: ${JSON.stringify(r)}`);
      }
      const parents: any[] = await must(running.url, 'GET', '/engine-rest/history/process-instance?processDefinitionKey=ca-parent');
      for (const key of ackedStarts) t.is(parents.filter((p) => p.businessKey === key).length, 1, `acknowledged start ${key} happened once`);
      for (const key of unknownStarts) t.true(parents.filter((p) => p.businessKey === key).length <= 1, `start ${key} of unknown outcome happened at most once`);
      for (const p of parents) {
        const children: any[] = await must(running.url, 'GET', `/engine-rest/history/process-instance?superProcessInstanceId=${p.id}`);
        t.is(children.length, 1, `caller ${p.businessKey} has exactly one child`);
        const child = children[0];
        const parentTasks: any[] = await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${p.id}`);
        const childTasks: any[] = await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${child.id}`);
        const vars = await must(running.url, 'GET', `/engine-rest/process-instance/${p.id}/variables`);
        if (child.state === 'COMPLETED') {
          t.deepEqual(parentTasks.map((x) => x.taskDefinitionKey), ['after'], `caller ${p.businessKey} went on once`);
          t.deepEqual(childTasks, []);
          t.regex(String(vars.childResult?.value), /^done-/, 'camunda:out saved with the resume');
        } else {
          t.is(child.state, 'ACTIVE');
          t.deepEqual(parentTasks, [], `caller ${p.businessKey} still waits`);
          t.deepEqual(childTasks.map((x) => x.taskDefinitionKey), ['work']);
          t.false('childResult' in vars);
          await must(running.url, 'POST', `/engine-rest/task/${childTasks[0].id}/complete`, { variables: { result: { value: 'late' } } });
          const next: any[] = await must(running.url, 'GET', `/engine-rest/task?processInstanceId=${p.id}`);
          t.deepEqual(next.map((x) => x.taskDefinitionKey), ['after'], 'a child left waiting by the crash still resumes its caller');
        }
      }
      running.child.kill('SIGKILL');
      await running.exited;
      running = undefined;
      const db = await sql();
      const open = await db('activity_instances as a').join('process_instances as i', 'i.id', 'a.process_instance_id')
        .where('i.definition_key', 'ca-child').whereNull('a.end_time').count('* as n').first();
      t.is(Number(open?.n), 0, 'no child has an element left running');
      t.deepEqual(await db('process_instances').where({ definition_key: 'ca-child' }).whereNot({ state: 'COMPLETED' }).pluck('id'), []);
    } finally {
      if (running) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
      await cleanup();
    }
  });
}

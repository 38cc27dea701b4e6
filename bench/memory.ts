/**
 * Memory benchmark: the server's heap and RSS do not depend on how many
 * instances are waiting, because no instance lives in memory between requests.
 *
 * 1. Starts the real server in this process on PostgreSQL (a fresh database,
 *    dropped afterwards) or, without one, on PGlite in a temp DATA_DIR (PGlite runs
 *    inside this process, so its page cache and WebAssembly memory count in RSS).
 * 2. Starts one instance of bench/fixtures/one-task.bpmn through the API.
 * 3. Clones it in SQL to BENCH_INSTANCES (100 000) waiting instances: new instance
 *    and task ids, the same engine_state and execution ids (the task's execution_id
 *    must match the one inside engine_state; the unique index is per instance).
 *    Times an inbox page and the two count endpoints, with the heap they take meanwhile.
 * 4. Completes BENCH_COMPLETE (2 000) randomly chosen clones over HTTP, 8 at a time,
 *    and prints heap/RSS (after global.gc()) before, halfway and after.
 *
 * Run:  node --expose-gc --import tsx bench/memory.ts
 * Env:  BENCH_INSTANCES, BENCH_COMPLETE, BENCH_DATABASE_URL / DATABASE_URL
 *       (default postgres://postgres@127.0.0.1:5432/postgres if reachable).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Knex } from 'knex';
import {
  client, createUser, findPostgres, freshDatabase, inProcessServer, mb, PROCESS_KEY, runLoad, USER, type Call,
} from './lib.ts';

const INSTANCES = Number(process.env.BENCH_INSTANCES ?? 100_000);
const COMPLETE = Number(process.env.BENCH_COMPLETE ?? 2_000);
const gc = (globalThis as { gc?: () => void }).gc;

interface Snapshot { phase: string; waiting: number; heapUsed: number; heapTotal: number; rss: number; external: number }
const snapshots: Snapshot[] = [];

async function snapshot(db: Knex, phase: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    gc?.();
    await new Promise((r) => setImmediate(r));
  }
  const m = process.memoryUsage();
  const [{ n }] = await db('process_instances').where({ state: 'ACTIVE' }).count({ n: '*' });
  snapshots.push({ phase, waiting: Number(n), heapUsed: m.heapUsed, heapTotal: m.heapTotal, rss: m.rss, external: m.external + m.arrayBuffers });
}

/** Copies instance `source` (its row, tasks, activity history, variables) `count` times. */
async function cloneInstance(db: Knex, source: string, count: number): Promise<void> {
  await db.transaction(async (trx) => {
    await trx.raw(`create temp table clone_ids on commit drop as
      select g, gen_random_uuid()::text as instance_id, gen_random_uuid()::text as task_id from generate_series(1, ?) g`, [count]);
    await trx.raw(`insert into process_instances (id, definition_id, definition_key, business_key, tenant_id, state, engine_state, rev, start_user_id, start_time)
      select c.instance_id, p.definition_id, p.definition_key, 'clone-' || c.g, p.tenant_id, p.state, p.engine_state, p.rev, p.start_user_id, now() - c.g * interval '1 ms'
      from clone_ids c cross join process_instances p where p.id = ?`, [source]);
    await trx.raw(`insert into tasks (id, process_instance_id, definition_id, definition_key, task_definition_key, execution_id, name, description,
        assignee, owner, candidate_users, candidate_groups, priority, due, follow_up, form_key, created_at)
      select c.task_id, c.instance_id, t.definition_id, t.definition_key, t.task_definition_key, t.execution_id, t.name, t.description,
        t.assignee, t.owner, t.candidate_users, t.candidate_groups, t.priority, t.due, t.follow_up, t.form_key, now() - c.g * interval '1 ms'
      from clone_ids c cross join tasks t where t.process_instance_id = ?`, [source]);
    await trx.raw(`insert into activity_instances (process_instance_id, execution_id, activity_id, activity_name, activity_type, task_id, assignee, start_time, end_time, canceled)
      select c.instance_id, a.execution_id, a.activity_id, a.activity_name, a.activity_type, case when a.task_id is null then null else c.task_id end,
        a.assignee, a.start_time, a.end_time, a.canceled
      from clone_ids c cross join activity_instances a where a.process_instance_id = ? order by c.g, a.seq`, [source]);
    await trx.raw(`insert into variables (process_instance_id, name, type, value, updated_at)
      select c.instance_id, v.name, v.type, v.value, v.updated_at from clone_ids c cross join variables v where v.process_instance_id = ?`, [source]);
  });
  for (const table of ['process_instances', 'tasks', 'activity_instances', 'variables']) await db.raw(`analyze ${table}`);
}

/** Best time of 5 calls, and the largest transient heap growth seen while they ran (sampled every 2 ms). */
async function timed(call: Call, url: string): Promise<string> {
  const times: number[] = [];
  let count = 0;
  gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 2);
  for (let i = 0; i < 5; i++) {
    const s = performance.now();
    const r = await call('GET', url);
    times.push(performance.now() - s);
    count = Array.isArray(r.body) ? r.body.length : r.body?.count;
  }
  clearInterval(sampler);
  return `${Math.min(...times).toFixed(1)} ms (best of 5, ${count} ${url.includes('count') ? 'counted' : 'rows'}; transient heap +${mb(peak - base)})`;
}

async function main(): Promise<void> {
  const started = performance.now();
  console.log(`node ${process.version}, ${os.cpus().length} CPUs; global.gc ${gc ? 'available' : 'MISSING (run with --expose-gc; figures are noisier)'}`);
  const pgUrl = await findPostgres();
  const database = pgUrl ? await freshDatabase(pgUrl) : undefined;
  const dataDir = database ? undefined : fs.mkdtempSync(path.join(os.tmpdir(), 'bpmn-bench-data-'));
  const server = await inProcessServer(database?.url, { dataDir });
  console.log(`database: ${database ? 'PostgreSQL (fresh database)' : `PGlite in ${dataDir} (no PostgreSQL reachable)`}`);
  try {
    await createUser(server.url);
    const call = client(server.url, USER.user, USER.password);
    const r = await call('POST', `/engine-rest/process-definition/key/${PROCESS_KEY}/start`, {
      businessKey: 'source', variables: { note: { value: 'cloned', type: 'String' }, amount: { value: 42, type: 'Integer' } },
    });
    if (r.status !== 200) throw new Error(`start: ${r.status} ${JSON.stringify(r.body)}`);
    const source = r.body.id as string;
    // Warm the code paths once (start and complete), so JIT code does not count as growth.
    for (let i = 0; i < 50; i++) {
      const s = await call('POST', `/engine-rest/process-definition/key/${PROCESS_KEY}/start`, {});
      const t = await call('GET', `/engine-rest/task?processInstanceId=${s.body.id}`);
      await call('POST', `/engine-rest/task/${t.body[0].id}/complete`, {});
    }
    const [{ size }] = (await server.db.raw('select pg_column_size(engine_state) as size from process_instances where id = ?', [source])).rows;
    console.log(`engine_state of one waiting instance: ${size} bytes stored`);
    await snapshot(server.db, 'server up, 1 waiting instance');

    const c0 = performance.now();
    await cloneInstance(server.db, source, INSTANCES - 1);
    console.log(`cloned to ${INSTANCES} waiting instances in SQL in ${((performance.now() - c0) / 1000).toFixed(1)} s`);
    await snapshot(server.db, `after cloning to ${INSTANCES}`);
    console.log(`inbox page GET /task?candidateGroup=office&maxResults=15: ${await timed(call, '/engine-rest/task?candidateGroup=office&maxResults=15')}`);
    console.log(`GET /task/count?candidateGroup=office:               ${await timed(call, '/engine-rest/task/count?candidateGroup=office')}`);
    console.log(`GET /process-instance/count:                         ${await timed(call, '/engine-rest/process-instance/count')}`);

    const picked: string[] = await server.db('tasks').whereNull('end_time').whereNot('process_instance_id', source)
      .orderByRaw('random()').limit(COMPLETE).pluck('id');
    const complete = async (i: number) => {
      const res = await call('POST', `/engine-rest/task/${picked[i]}/complete`, {});
      if (res.status !== 204) throw new Error(`complete ${picked[i]}: ${res.status} ${JSON.stringify(res.body)}`);
    };
    const half = Math.floor(picked.length / 2);
    const first = await runLoad(half, 8, complete);
    await snapshot(server.db, `after completing ${half} random clones`);
    const second = await runLoad(picked.length - half, 8, (i) => complete(half + i));
    await snapshot(server.db, `after completing ${picked.length} random clones`);
    for (const [label, l] of [['first half', first], ['second half', second]] as const) {
      console.log(`completions, ${label}: ${l.rate.toFixed(1)}/s at 8 parallel, p50 ${l.p50.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms`);
    }
    const [{ n }] = await server.db('process_instances').where({ state: 'COMPLETED' }).whereLike('business_key', 'clone-%').count({ n: '*' });
    console.log(`clones completed according to the database: ${n}`);
  } finally {
    await server.stop();
    await database?.drop();
  }

  console.log();
  const head = ['phase', 'waiting', 'heapUsed', 'heapTotal', 'RSS', 'external+buffers'];
  const body = snapshots.map((s) => [s.phase, String(s.waiting), mb(s.heapUsed), mb(s.heapTotal), mb(s.rss), mb(s.external)]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(line(head));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const b of body) console.log(line(b));
  const [up, cloned, mid, end] = snapshots as [Snapshot, Snapshot, Snapshot, Snapshot];
  const delta = (from: Snapshot, to: Snapshot) => `heapUsed ${mb(to.heapUsed - from.heapUsed)}, RSS ${mb(to.rss - from.rss)}`;
  console.log(`\nserver up (${up.waiting} waiting) → end (${end.waiting} waiting; ${cloned.waiting} at the peak): ${delta(up, end)}`);
  console.log(`second half of the completions alone: ${delta(mid, end)}`);
  console.log(database
    ? '(RSS right after cloning may be lower: V8 shrinks an idle heap; heapUsed is the figure to read)'
    : '(PGlite runs in this process: its WebAssembly memory, in external+buffers, grows with the data it touched and never shrinks)');
  console.log(`total ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});

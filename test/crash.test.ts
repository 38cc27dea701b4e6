import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import test, { type ExecutionContext } from 'ava';
import type { Knex } from 'knex';
import { backends } from './helpers/db.ts';
import { boot, database, Tail, type Running } from './helpers/child-server.ts';
import { ADMIN } from './helpers/server.ts';

/*
 * Durability under kill -9: the real server runs as a child process, clients
 * start plan approvals and complete their draft tasks concurrently, and the
 * server is SIGKILLed at a random moment, restarted, and loaded again. At the
 * end every acknowledged command must have taken effect exactly once, every
 * command with an unknown outcome must have taken effect at most once, and
 * every instance must be internally consistent (instance row, engine state,
 * tasks, activity history, variables), on PGlite and on PostgreSQL.
 */

const PLAN = 'security-plan-approval';
/** The path the workload drives instances along (the review submits, nobody decides). */
const FLOW = ['draftPlan', 'reviewDraft', 'leadingGroupDecision'];
const CYCLES = 5;
const WORKERS = 6;
const OFFICE = { user: 'crash-office', password: 'crash-office-password' };
const SUMMARY = '本年度网络安全规划草案全文（崩溃测试）';

// ---------------------------------------------------------------- HTTP

type Outcome =
  | { lost: false; status: number; body: any }
  /** The connection failed before a whole response arrived: the command may or may not have happened. */
  | { lost: true; error: string };

function basic(user: string, password: string): string {
  return `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;
}

async function call(url: string, auth: string, method: string, route: string, body?: unknown): Promise<Outcome> {
  try {
    const res = await fetch(`${url}${route}`, {
      method,
      headers: { Authorization: auth, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    const text = await res.text();
    return { lost: false, status: res.status, body: text ? JSON.parse(text) : null };
  } catch (err) {
    const e = err as Error & { cause?: { code?: string } };
    return { lost: true, error: `${e.message}${e.cause?.code ? ` (${e.cause.code})` : ''}` };
  }
}

// ---------------------------------------------------------------- the workload's ledger

interface TaskRef {
  taskId: string;
  instanceId: string;
}

/** What the clients saw; the database must agree with it at the end. */
class Ledger {
  seq = 0;
  /** Business keys of every start sent (each start gets its own). */
  attemptedStarts = new Set<string>();
  /** instance id → business key, for starts answered 200. */
  ackedStarts = new Map<string, string>();
  /** Business keys of starts whose answer never arrived. */
  unknownStarts = new Set<string>();
  /** Open draftPlan tasks nobody has tried to complete yet. */
  pool: TaskRef[] = [];
  /** Completions whose answer never arrived: retried after the restart. */
  retry: TaskRef[] = [];
  /** Acknowledged instances whose task lookup was cut off. */
  lookups: string[] = [];
  /** Completions answered 204 (task id → instance id), and the crash cycle they happened in. */
  ackedCompletions = new Map<string, { instanceId: string; cycle: number }>();
  /** Retried completions answered 404: the first attempt must have committed. */
  completedBeforeCrash = new Set<string>();
  /** Completions whose answer never arrived, counted once per attempt. */
  unknownCompletions = 0;
  unexpected: string[] = [];
  inFlight = 0;
  /** Called on every acknowledged command. */
  onAck: () => void = () => undefined;
}

const startBody = (businessKey: string) => ({
  businessKey,
  variables: { title: { value: `规划 ${businessKey}`, type: 'String' }, planType: { value: 'plan', type: 'String' } },
});
const draftBody = (instanceId: string) => ({
  variables: { title: { value: `规划 ${instanceId}`, type: 'String' }, summary: { value: SUMMARY, type: 'String' } },
});

function makeOps(url: string, ledger: Ledger, cycle: number, prefix: string) {
  const office = basic(OFFICE.user, OFFICE.password);
  async function tracked(method: string, route: string, body?: unknown): Promise<Outcome> {
    ledger.inFlight++;
    try {
      return await call(url, office, method, route, body);
    } finally {
      ledger.inFlight--;
    }
  }

  async function lookup(instanceId: string): Promise<void> {
    const r = await tracked('GET', `/engine-rest/task?processInstanceId=${instanceId}`);
    if (r.lost) {
      ledger.lookups.push(instanceId);
    } else if (r.status === 200 && r.body.length === 1 && r.body[0].taskDefinitionKey === 'draftPlan') {
      ledger.pool.push({ taskId: r.body[0].id, instanceId });
    } else {
      ledger.unexpected.push(`tasks of ${instanceId}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }

  async function start(): Promise<void> {
    const businessKey = `${prefix}-${ledger.seq++}`;
    ledger.attemptedStarts.add(businessKey);
    const r = await tracked('POST', `/engine-rest/process-definition/key/${PLAN}/start`, startBody(businessKey));
    if (r.lost) {
      ledger.unknownStarts.add(businessKey);
    } else if (r.status === 200 && typeof r.body?.id === 'string') {
      ledger.ackedStarts.set(r.body.id, businessKey);
      ledger.onAck();
      await lookup(r.body.id);
    } else {
      ledger.unexpected.push(`start ${businessKey}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }

  async function complete(task: TaskRef, isRetry: boolean): Promise<void> {
    const r = await tracked('POST', `/engine-rest/task/${task.taskId}/complete`, draftBody(task.instanceId));
    if (r.lost) {
      ledger.unknownCompletions++;
      ledger.retry.push(task);
    } else if (r.status === 204) {
      ledger.ackedCompletions.set(task.taskId, { instanceId: task.instanceId, cycle });
      ledger.onAck();
    } else if (r.status === 404 && isRetry) {
      ledger.completedBeforeCrash.add(task.taskId);
    } else {
      ledger.unexpected.push(`complete ${task.taskId}${isRetry ? ' (retry)' : ''}: ${r.status} ${JSON.stringify(r.body)}`);
    }
  }

  /** One client: retries first, then a mix of starts and completions, until told to stop. */
  async function worker(ctl: { stop: boolean }): Promise<void> {
    while (!ctl.stop) {
      const retry = ledger.retry.shift();
      if (retry) {
        await complete(retry, true);
        continue;
      }
      const pending = ledger.lookups.shift();
      if (pending) {
        await lookup(pending);
        continue;
      }
      if (ledger.pool.length && Math.random() < 0.5) {
        // Take a random open task, so completions hit old and new instances alike.
        const [task] = ledger.pool.splice(Math.floor(Math.random() * ledger.pool.length), 1);
        await complete(task!, false);
      } else {
        await start();
      }
    }
  }

  /** Settles what earlier crashes left open, with no kill in the way. */
  async function drain(): Promise<void> {
    for (let guard = 0; (ledger.retry.length || ledger.lookups.length) && guard < 10_000; guard++) {
      const retry = ledger.retry.shift();
      if (retry) await complete(retry, true);
      const pending = ledger.lookups.shift();
      if (pending) await lookup(pending);
    }
  }

  return { worker, drain };
}

// ---------------------------------------------------------------- the test

for (const backend of backends) {
  test.serial(`${backend.name}: no task is lost or duplicated across kill -9`, async (t) => {
    t.timeout(180_000);
    const tail = new Tail();
    const { dbEnv, sql, cleanup } = await database(backend);
    let running: Running | undefined;
    try {
      const ledger = new Ledger();
      const prefix = `crash-${backend.name}`;
      const began = Date.now();

      for (let cycle = 0; cycle < CYCLES; cycle++) {
        running = await boot(dbEnv, tail, `${backend.name}#${cycle}`);
        if (cycle === 0) await createOfficeUser(running.url);
        // One request first, so the kill lands among commands rather than among
        // the fresh process's first password checks (scrypt, cached afterwards).
        await warmUp(running.url);
        const ops = makeOps(running.url, ledger, cycle, prefix);
        const before = { starts: ledger.ackedStarts.size, completions: ledger.ackedCompletions.size };
        const ctl = { stop: false };
        const workloadStart = Date.now();
        const acked = new Promise<void>((resolve) => (ledger.onAck = resolve));
        const workers = Array.from({ length: WORKERS }, () => ops.worker(ctl));
        const delay = 30 + Math.floor(Math.random() * 870);
        // A random moment, but not before this cycle has got something done (a
        // fresh process is slow at first), so every cycle has work to lose.
        await Promise.all([sleep(delay), Promise.race([acked, sleep(20_000, undefined, { ref: false })])]);
        const killedAfter = Date.now() - workloadStart;
        // Same tick: no new request can be sent between the stop flag and the kill.
        ctl.stop = true;
        const inFlight = ledger.inFlight;
        running.child.kill('SIGKILL');
        const exit = await running.exited;
        t.is(exit.signal, 'SIGKILL');
        await Promise.all(workers);
        t.log(`cycle ${cycle}: boot ${running.bootMs} ms, killed after ${killedAfter} ms with ${inFlight} requests in flight; `
          + `+${ledger.ackedStarts.size - before.starts} starts, +${ledger.ackedCompletions.size - before.completions} completions acknowledged; `
          + `${ledger.unknownStarts.size} starts and ${ledger.unknownCompletions} completions of unknown outcome so far`);
        running = undefined;
      }

      // Final restart: settle every unknown completion, then check through the API.
      running = await boot(dbEnv, tail, `${backend.name}#final`);
      t.log(`final boot ${running.bootMs} ms`);
      const url = running.url;
      const ops = makeOps(url, ledger, CYCLES, prefix);
      const retried = ledger.retry.length;
      await ops.drain();
      t.log(`${ledger.unknownCompletions} completions of unknown outcome, all retried (${retried} after the final restart): `
        + `${ledger.completedBeforeCrash.size} had committed before the kill, the others were done by the retry`);
      t.deepEqual(ledger.unexpected, [], `unexpected answers\n${tail.text()}`);
      t.true(ledger.ackedStarts.size > 0 && ledger.ackedCompletions.size > 0, 'the workload did some work');

      const admin = basic(ADMIN.user, ADMIN.password);
      const office = basic(OFFICE.user, OFFICE.password);
      const get = async (route: string, auth = admin) => {
        const r = await call(url, auth, 'GET', route);
        if (r.lost) throw new Error(`GET ${route}: ${r.error}`);
        return r;
      };

      // 1. Every acknowledged start exists; every unknown start happened at most once.
      for (const [id, businessKey] of ledger.ackedStarts) {
        const r = await get(`/engine-rest/process-instance/${id}`);
        t.is(r.status, 200, `acknowledged instance ${id} exists`);
        t.is(r.body.businessKey, businessKey);
      }
      let unknownThatHappened = 0;
      for (const businessKey of ledger.unknownStarts) {
        const r = await get(`/engine-rest/history/process-instance?processInstanceBusinessKey=${businessKey}`);
        t.true(r.body.length <= 1, `start ${businessKey} of unknown outcome happened at most once`);
        unknownThatHappened += r.body.length;
      }
      t.log(`${ledger.ackedStarts.size} acknowledged starts, ${ledger.unknownStarts.size} of unknown outcome (${unknownThatHappened} had committed); `
        + `${ledger.ackedCompletions.size} acknowledged completions`);
      // Every acknowledged or settled completion is completed, and no longer in any inbox.
      for (const taskId of [...ledger.ackedCompletions.keys(), ...ledger.completedBeforeCrash]) {
        const r = await get(`/engine-rest/history/task?taskId=${taskId}`);
        t.is(r.body.length, 1);
        t.is(r.body[0]?.deleteReason, 'completed', `task ${taskId} is completed`);
        t.truthy(r.body[0]?.endTime);
        t.is((await get(`/engine-rest/task/${taskId}`)).status, 404);
      }

      // 5. The server still works: complete a draft left open before a crash, and a
      // review of a draft completed before a crash, then a brand-new instance end to end.
      const openDraft = ledger.pool[0];
      if (openDraft) {
        const r = await call(url, office, 'POST', `/engine-rest/task/${openDraft.taskId}/complete`, draftBody(openDraft.instanceId));
        t.false(r.lost);
        t.is(!r.lost && r.status, 204, 'a draft opened before a crash can be completed');
        ledger.ackedCompletions.set(openDraft.taskId, { instanceId: openDraft.instanceId, cycle: CYCLES });
        const next = await get(`/engine-rest/task?processInstanceId=${openDraft.instanceId}`, office);
        t.deepEqual(next.body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['reviewDraft']);
      }
      const crashed = [...ledger.ackedCompletions].find(([, v]) => v.cycle < CYCLES);
      if (crashed) {
        const instanceId = crashed[1].instanceId;
        const review = await get(`/engine-rest/task?processInstanceId=${instanceId}`, office);
        t.is(review.body.length, 1);
        t.is(review.body[0]?.taskDefinitionKey, 'reviewDraft');
        const r = await call(url, office, 'POST', `/engine-rest/task/${review.body[0].id}/complete`, {
          variables: { reviewResult: { value: 'submit', type: 'String' } },
        });
        t.is(!r.lost && r.status, 204, 'a review opened before a crash can be completed');
        const decision = await get(`/engine-rest/task?processInstanceId=${instanceId}`);
        t.deepEqual(decision.body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey), ['leadingGroupDecision']);
      }
      const fresh = await call(url, office, 'POST', `/engine-rest/process-definition/key/${PLAN}/start`, startBody(`${prefix}-final`));
      t.is(!fresh.lost && fresh.status, 200);
      if (!fresh.lost && fresh.status === 200) {
        ledger.attemptedStarts.add(`${prefix}-final`);
        ledger.ackedStarts.set(fresh.body.id, `${prefix}-final`);
        const [task] = (await get(`/engine-rest/task?processInstanceId=${fresh.body.id}`, office)).body;
        t.is(task?.taskDefinitionKey, 'draftPlan');
        const done = await call(url, office, 'POST', `/engine-rest/task/${task.id}/complete`, draftBody(fresh.body.id));
        t.is(!done.lost && done.status, 204);
        ledger.ackedCompletions.set(task.id, { instanceId: fresh.body.id, cycle: CYCLES });
      }

      // Stop cleanly: SIGTERM, so PGlite (one process per folder) can be opened here.
      running.child.kill('SIGTERM');
      const exit = await running.exited;
      t.deepEqual(exit, { code: 0, signal: null }, `clean stop\n${tail.text()}`);
      running = undefined;

      await checkDatabase(t, await sql(), ledger);
      t.log(`${backend.name}: ${((Date.now() - began) / 1000).toFixed(1)} s in all`);
      if (!t.passed) t.log(tail.text());
    } finally {
      if (running) {
        running.child.kill('SIGKILL');
        await running.exited;
      }
      await cleanup();
    }
  });
}

async function createOfficeUser(url: string): Promise<void> {
  const admin = basic(ADMIN.user, ADMIN.password);
  const created = await call(url, admin, 'POST', '/engine-rest/user/create', {
    profile: { id: OFFICE.user, firstName: '办公室' }, credentials: { password: OFFICE.password },
  });
  if (created.lost || created.status !== 204) throw new Error(`office user: ${JSON.stringify(created)}`);
  const member = await call(url, admin, 'PUT', `/engine-rest/group/office/members/${OFFICE.user}`, {});
  if (member.lost || member.status !== 204) throw new Error(`office membership: ${JSON.stringify(member)}`);
  // The leading group votes as a body and refuses a submission while it has no members (docs/leading-group-vote.md).
  const leader = await call(url, admin, 'POST', '/engine-rest/user/create', { profile: { id: 'crash-leader', firstName: '领导' }, credentials: { password: 'crash-leader-password' } });
  if (leader.lost || leader.status !== 204) throw new Error(`leader: ${JSON.stringify(leader)}`);
  const seat = await call(url, admin, 'PUT', '/engine-rest/group/leading-group/members/crash-leader', {});
  if (seat.lost || seat.status !== 204) throw new Error(`leading-group membership: ${JSON.stringify(seat)}`);
}

async function warmUp(url: string): Promise<void> {
  const r = await call(url, basic(OFFICE.user, OFFICE.password), 'GET', '/engine-rest/task?maxResults=1');
  if (r.lost || r.status !== 200) throw new Error(`warm-up: ${JSON.stringify(r)}`);
}

interface InstanceSql { id: string; state: string; business_key: string | null; definition_key: string; rev: number; engine_state: string | null }
interface TaskSql { id: string; process_instance_id: string; task_definition_key: string; execution_id: string; end_time: Date | null; delete_reason: string | null }
interface ActivitySql { process_instance_id: string; execution_id: string; activity_id: string; activity_type: string; task_id: string | null; end_time: Date | null; canceled: boolean }

/** The invariants, straight from the tables. */
async function checkDatabase(t: ExecutionContext, db: Knex, ledger: Ledger): Promise<void> {
  const instances: InstanceSql[] = await db('process_instances')
    .select('id', 'state', 'business_key', 'definition_key', 'rev', db.raw('engine_state::text as engine_state'));
  const tasks: TaskSql[] = await db('tasks')
    .select('id', 'process_instance_id', 'task_definition_key', 'execution_id', 'end_time', 'delete_reason')
    .orderBy([{ column: 'end_time', order: 'asc' }, { column: 'created_at', order: 'asc' }]);
  const activities: ActivitySql[] = await db('activity_instances')
    .select('process_instance_id', 'execution_id', 'activity_id', 'activity_type', 'task_id', 'end_time', 'canceled');
  const variables: { process_instance_id: string; name: string }[] = await db('variables').select('process_instance_id', 'name');

  const byId = new Map(instances.map((i) => [i.id, i]));
  const tasksOf = group(tasks, (x) => x.process_instance_id);
  const activitiesOf = group(activities, (x) => x.process_instance_id);
  const variablesOf = group(variables, (x) => x.process_instance_id);
  const taskById = new Map(tasks.map((x) => [x.id, x]));

  // 1. Nothing acknowledged was lost, nothing was started twice, nothing came from nowhere.
  for (const id of ledger.ackedStarts.keys()) t.true(byId.has(id), `acknowledged instance ${id} is in the database`);
  for (const taskId of [...ledger.ackedCompletions.keys(), ...ledger.completedBeforeCrash]) {
    const row = taskById.get(taskId);
    t.truthy(row?.end_time, `acknowledged completion of ${taskId} has an end time`);
    t.is(row?.delete_reason, 'completed', `task ${taskId} ended as completed`);
  }
  const keys = instances.map((i) => i.business_key);
  t.is(new Set(keys).size, keys.length, 'no business key was started twice');
  for (const i of instances) {
    t.true(ledger.attemptedStarts.has(i.business_key ?? ''), `instance ${i.id} (${i.business_key}) comes from a start the clients sent`);
    if (!ledger.ackedStarts.has(i.id)) t.true(ledger.unknownStarts.has(i.business_key ?? ''), `unacknowledged instance ${i.id} comes from a start of unknown outcome`);
  }
  // Every unknown completion was settled by its retry, so the completed drafts are exactly those the clients know of.
  const knownDone = new Set([...ledger.ackedCompletions.keys(), ...ledger.completedBeforeCrash]);
  for (const x of tasks) {
    if (x.end_time && x.task_definition_key === 'draftPlan') t.true(knownDone.has(x.id), `completed draft ${x.id} is one the clients completed`);
  }

  let completedDrafts = 0;
  for (const instance of instances) {
    const where = `instance ${instance.id} (${instance.business_key})`;
    const own = tasksOf.get(instance.id) ?? [];
    const open = own.filter((x) => !x.end_time);
    const done = own.filter((x) => x.end_time);
    t.is(instance.definition_key, PLAN);

    // 2. One open task per step, exactly one open task per active instance, one task per execution.
    const openPerKey = group(open, (x) => x.task_definition_key);
    for (const [key, list] of openPerKey) t.is(list.length, 1, `${where}: one open ${key} task`);
    const executions = own.map((x) => x.execution_id);
    t.is(new Set(executions).size, executions.length, `${where}: no execution has two tasks`);
    t.is(instance.state, 'ACTIVE', `${where}: the workload never ends an instance`);

    if (instance.state === 'ACTIVE') {
      t.is(open.length, 1, `${where}: an active instance waits on exactly one task`);
      // 3. The engine state agrees with the task table.
      t.truthy(instance.engine_state, `${where}: an active instance has an engine state`);
      for (const x of open) t.true(instance.engine_state?.includes(x.execution_id), `${where}: engine state knows the open task's execution ${x.execution_id}`);
    } else {
      t.is(open.length, 0, `${where}: a finished instance has no open task`);
    }

    // 4. Tasks follow the diagram in order: the completed ones are a prefix of the path, the open one is next.
    t.true(done.every((x) => x.delete_reason === 'completed'), `${where}: no task was cancelled`);
    const path = done.map((x) => x.task_definition_key);
    t.deepEqual(path, FLOW.slice(0, path.length), `${where}: completed tasks follow the diagram`);
    if (instance.state === 'ACTIVE') t.deepEqual(open.map((x) => x.task_definition_key), [FLOW[path.length]], `${where}: the open task is the next step`);
    // Each completion moved the revision by exactly one: none was applied twice, none half-applied.
    t.is(instance.rev, 1 + done.length, `${where}: revision counts the completions`);
    if (path.includes('draftPlan')) completedDrafts++;

    // Activity history matches the tasks: one row per task execution, ended exactly when the task ended.
    const acts = activitiesOf.get(instance.id) ?? [];
    const actByExecution = new Map(acts.map((a) => [a.execution_id, a]));
    for (const x of own) {
      const a = actByExecution.get(x.execution_id);
      t.truthy(a, `${where}: task ${x.id} has an activity row`);
      t.is(a?.activity_id, x.task_definition_key);
      t.is(a?.task_id, x.id);
      t.is(a?.end_time == null, x.end_time == null, `${where}: activity ${x.task_definition_key} ended iff its task did`);
    }
    const openUserTasks = acts.filter((a) => a.activity_type === 'userTask' && !a.end_time).map((a) => a.execution_id).sort();
    t.deepEqual(openUserTasks, open.map((x) => x.execution_id).sort(), `${where}: open user-task activities are the open tasks`);
    const draftActs = acts.filter((a) => a.activity_id === 'draftPlan');
    t.is(draftActs.length, 1, `${where}: draftPlan entered once`);
    if (path.includes('draftPlan')) t.true(draftActs.every((a) => a.end_time && !a.canceled), `${where}: draftPlan activity ended`);
    t.is(acts.filter((a) => a.activity_type === 'startEvent').length, 1, `${where}: started once`);

    // Variables were saved with the command that set them.
    const names = new Set((variablesOf.get(instance.id) ?? []).map((v) => v.name));
    t.true(names.has('title') && names.has('planType'), `${where}: start variables saved`);
    if (path.includes('draftPlan')) t.true(names.has('summary'), `${where}: draft variables saved with the completion`);
  }
  t.is(completedDrafts, knownDone.size, 'as many drafts completed as the clients were told or found');
}

function group<T>(rows: T[], key: (row: T) => string): Map<string, T[]> {
  const map = new Map<string, T[]>();
  for (const row of rows) {
    const k = key(row);
    const list = map.get(k);
    if (list) list.push(row);
    else map.set(k, [row]);
  }
  return map;
}

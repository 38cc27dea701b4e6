import test from 'ava';
import { ManualClock } from '../../src/clock.ts';
import { backends, type Backend } from './db.ts';
import { ADMIN, client, makeUser, startTestServer, vars, type Client, type TestServer } from './server.ts';

/*
 * Scenario tests of the shipped procedures (processes/): the real server on
 * a fresh database with every diagram of processes/ deployed at start-up,
 * one user per role speaking over HTTP, and an injected clock with the
 * scheduler loop off, so a test moves time and fires the due timers itself.
 */

/** The role groups of the organisation, one user each, plus a worker (machine) and the administrator. */
export interface Staff {
  admin: Client;
  leader: Client;
  office: Client;
  network: Client;
  data: Client;
  app: Client;
  /** A machine in the `workers` group: external tasks, messages from monitoring. */
  worker: Client;
}

/** The user id behind each client of Staff. */
export const STAFF_IDS = {
  admin: ADMIN.user, leader: 'leader-1', office: 'office-1', network: 'network-1', data: 'data-1', app: 'app-1', worker: 'worker-1',
} as const;

export interface Scenario {
  server: TestServer;
  clock: ManualClock;
  staff: Staff;
  /** Fires every timer, start timer and thrown message due at the clock's time; returns how many. */
  runDue(): Promise<number>;
  stop(): Promise<void>;
}

/**
 * Starts the server at `now` (start timers are armed from it) with the
 * scheduler off, and creates one user per role. `env` adds configuration,
 * e.g. `PUBLIC_PORT: '0'` for the internet zone's listener.
 */
export async function startScenario(backend: Backend, now = new Date('2026-12-01T01:00:00Z'), env: Record<string, string> = {}): Promise<Scenario> {
  const clock = new ManualClock(now);
  const server = await startTestServer(backend, env, { clock, runScheduler: false });
  const staff: Staff = {
    admin: client(server.url, ADMIN.user, ADMIN.password),
    leader: await makeUser(server, STAFF_IDS.leader, ['leading-group']),
    office: await makeUser(server, STAFF_IDS.office, ['office']),
    network: await makeUser(server, STAFF_IDS.network, ['network-security']),
    data: await makeUser(server, STAFF_IDS.data, ['data-security']),
    app: await makeUser(server, STAFF_IDS.app, ['app-security']),
    worker: await makeUser(server, STAFF_IDS.worker, ['workers']),
  };
  return { server, clock, staff, runDue: () => server.scheduler.runDue(), stop: () => server.stop() };
}

/**
 * A procedure's scenario tests on every database: one server per database,
 * started before the file's tests and stopped after them. `body` registers
 * the tests (serially: they share the server and its clock); `s` is filled
 * in once the server is up, and `t` prefixes a title with the database.
 */
export function scenarioSuite(body: (s: Scenario, t: (title: string) => string, backend: Backend) => void, env: Record<string, string> = {}): void {
  for (const backend of backends) {
    const s = {} as Scenario;
    // Serial, so that a file's own before hooks registered after this one see the server.
    test.serial.before(async () => {
      Object.assign(s, await startScenario(backend, undefined, env));
    });
    test.after.always(async () => s.stop?.());
    body(s, (title) => `${backend.name}: ${title}`, backend);
  }
}

export interface TaskView {
  id: string;
  taskDefinitionKey: string;
  name: string;
  processInstanceId: string;
}

/** The open tasks of an instance that `who` can see, by task definition key. */
export async function openTasks(who: Client, instanceId: string): Promise<TaskView[]> {
  const r = await who.get(`/engine-rest/task?processInstanceId=${instanceId}&sortBy=created&sortOrder=asc`);
  if (r.status !== 200) throw new Error(`task list: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** The keys of every open task of an instance (as the administrator sees them), sorted. */
export async function openKeys(admin: Client, instanceId: string): Promise<string[]> {
  return (await openTasks(admin, instanceId)).map((t) => t.taskDefinitionKey).sort();
}

/**
 * Does one task as a person of its role: finds the open task `key` of the
 * instance in `who`'s view, checks that `others` (users of other roles)
 * can neither see nor complete it, claims it and completes it with `values`.
 */
export async function step(
  who: Client, userId: string, instanceId: string, key: string, values: Record<string, unknown>, others: Client[] = [],
): Promise<void> {
  const task = (await openTasks(who, instanceId)).find((t) => t.taskDefinitionKey === key);
  if (!task) {
    const seen = (await openTasks(who, instanceId)).map((t) => t.taskDefinitionKey);
    throw new Error(`${userId} sees no open task ${key}; sees ${JSON.stringify(seen)}`);
  }
  for (const other of others) {
    // A worker (machine) is refused the task list altogether (403); people of other roles see nothing.
    const seen = await other.get(`/engine-rest/task?processInstanceId=${instanceId}`);
    if (seen.status !== 403 && (seen.status !== 200 || seen.body.some((t: TaskView) => t.id === task.id))) throw new Error(`another role sees ${key} (${seen.status})`);
    const r = await other.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) });
    if (r.status !== 404 && r.status !== 403) throw new Error(`another role completing ${key} got ${r.status}`);
  }
  const claim = await who.post(`/engine-rest/task/${task.id}/claim`, { userId });
  if (claim.status !== 204) throw new Error(`claim ${key}: ${claim.status} ${JSON.stringify(claim.body)}`);
  const done = await who.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) });
  if (done.status !== 204) throw new Error(`complete ${key}: ${done.status} ${JSON.stringify(done.body)}`);
}

/** Completing task `key` with `values` is refused with 400 (a form rule); returns the error message. */
export async function refusedForm(who: Client, userId: string, instanceId: string, key: string, values: Record<string, unknown>): Promise<string> {
  const task = (await openTasks(who, instanceId)).find((t) => t.taskDefinitionKey === key);
  if (!task) throw new Error(`no open task ${key}`);
  await who.post(`/engine-rest/task/${task.id}/claim`, { userId });
  const r = await who.post(`/engine-rest/task/${task.id}/complete`, { variables: vars(values) });
  if (r.status !== 400) throw new Error(`expected 400 for ${key}, got ${r.status} ${JSON.stringify(r.body)}`);
  return String(r.body.message);
}

/** Starts the latest version of `key` with a start form's values, as `who`; returns the instance id. */
export async function startProcess(who: Client, key: string, values: Record<string, unknown> = {}, businessKey?: string): Promise<string> {
  const r = await who.post(`/engine-rest/process-definition/key/${key}/start`, { businessKey, variables: vars(values) });
  if (r.status !== 200) throw new Error(`start ${key}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/**
 * Starting `key` by hand as `who` is refused with 403 (not among the
 * diagram's candidate starters, or a machine); returns the error message.
 */
export async function refusedStart(who: Client, key: string, values: Record<string, unknown> = {}): Promise<string> {
  const r = await who.post(`/engine-rest/process-definition/key/${key}/start`, { variables: vars(values) });
  if (r.status !== 403) throw new Error(`expected 403 starting ${key}, got ${r.status} ${JSON.stringify(r.body)}`);
  return String(r.body.message);
}

/** Who completed which task of an instance, in the order they were completed: `['draftPlan:office-1', ...]`. */
export async function taskHistory(admin: Client, instanceId: string): Promise<string[]> {
  const r = await admin.get(`/engine-rest/history/task?processInstanceId=${instanceId}&sortBy=startTime&sortOrder=asc`);
  const done = r.body.filter((x: { endTime: string | null; deleteReason: string | null }) => x.endTime && x.deleteReason === 'completed');
  const at = (x: { endTime: string }) => new Date(x.endTime.replace(/([+-]\d\d)(\d\d)$/, '$1:$2')).getTime();
  return done.sort((a: { endTime: string }, b: { endTime: string }) => at(a) - at(b))
    .map((x: { taskDefinitionKey: string; completedBy?: string; assignee: string }) => `${x.taskDefinitionKey}:${x.completedBy ?? x.assignee}`);
}

/** The ids of the elements an instance passed through (ended, not cancelled), in order. */
export async function passed(admin: Client, instanceId: string): Promise<string[]> {
  const r = await admin.get(`/engine-rest/history/activity-instance?processInstanceId=${instanceId}&sortBy=startTime&sortOrder=asc`);
  return r.body.filter((a: { endTime: string | null; canceled: boolean }) => a.endTime && !a.canceled).map((a: { activityId: string }) => a.activityId);
}

/** The state of an instance in history: ACTIVE, COMPLETED, ... */
export async function stateOf(admin: Client, instanceId: string): Promise<string> {
  const [h] = (await admin.get(`/engine-rest/history/process-instance?processInstanceId=${instanceId}`)).body;
  return h?.state;
}

/** The instances of a process (history view), oldest first. */
export async function instancesOf(admin: Client, key: string): Promise<{ id: string; state: string; startUserId: string | null; businessKey: string | null }[]> {
  const r = await admin.get(`/engine-rest/history/process-instance?processDefinitionKey=${key}&sortBy=startTime&sortOrder=asc`);
  return r.body;
}

/** A process instance's variables as plain values. */
export async function variablesOf(who: Client, instanceId: string): Promise<Record<string, unknown>> {
  const r = await who.get(`/engine-rest/process-instance/${instanceId}/variables`);
  if (r.status !== 200) throw new Error(`variables: ${r.status}`);
  return Object.fromEntries(Object.entries(r.body as Record<string, { value: unknown }>).map(([k, v]) => [k, v.value]));
}

/** Fetches and locks the external tasks of `topic` as the worker; returns them (empty when none). */
export async function fetchExternal(worker: Client, topic: string, workerId: string = STAFF_IDS.worker): Promise<{ id: string; processInstanceId: string; variables: Record<string, { value: unknown }> }[]> {
  const r = await worker.post('/engine-rest/external-task/fetchAndLock', { workerId, maxTasks: 10, topics: [{ topicName: topic, lockDuration: 60_000 }] });
  if (r.status !== 200) throw new Error(`fetchAndLock: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/** Completes a locked external task with variables. */
export async function completeExternal(worker: Client, taskId: string, values: Record<string, unknown>, workerId: string = STAFF_IDS.worker): Promise<void> {
  const r = await worker.post(`/engine-rest/external-task/${taskId}/complete`, { workerId, variables: vars(values) });
  if (r.status !== 204) throw new Error(`external complete: ${r.status} ${JSON.stringify(r.body)}`);
}

/** The start timers of a process, as Camunda's job definitions (admin view). */
export async function startTimers(s: Scenario, key: string): Promise<{ activityId: string; jobConfiguration: string; nextDueDate: string }[]> {
  const r = await s.staff.admin.get(`/engine-rest/job-definition?processDefinitionKey=${key}`);
  if (r.status !== 200) throw new Error(`job-definition: ${r.status}`);
  return r.body;
}

/**
 * Moves the clock to one second before `at`, in two moves: first to two
 * seconds before, firing whatever the other shipped procedures have due by
 * then (their start timers run on the same clock), then one second on;
 * returns how many fire in that last second.
 */
export async function justBefore(s: Scenario, at: Date): Promise<number> {
  s.clock.set(new Date(at.getTime() - 2000));
  await s.runDue();
  s.clock.set(new Date(at.getTime() - 1000));
  return s.runDue();
}

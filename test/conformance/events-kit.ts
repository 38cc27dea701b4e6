import test, { type ExecutionContext } from 'ava';
import { backends, type Backend } from '../helpers/db.ts';
import type { Clock } from '../../src/clock.ts';
import { ADMIN, client, makeUser, NO_PROCESSES, startTestServer, type Client, type TestServer } from '../helpers/server.ts';
import { assertNothingLeft, deployFixture } from './helpers.ts';

/*
 * What the conformance tests of events and gateways share: a server with no
 * shipped procedures, the small diagrams of ./fixtures deployed over REST as
 * Camunda Modeler does, and the check that an ended instance left nothing open.
 */

export interface Conformance {
  server: TestServer;
  admin: Client;
  /** A person of the office, candidate of every user task in the fixtures. */
  office: Client;
  /** A machine in the workers group, for external tasks. */
  worker: Client;
}

export async function startConformance(backend: Backend, diagrams: string[], prefix: string, clock?: Clock): Promise<Conformance> {
  const server = await startTestServer(backend, NO_PROCESSES, { runScheduler: false, ...(clock ? { clock } : {}) });
  for (const name of diagrams) {
    const res = await deployFixture(server, name.replace(/\.bpmn$/, ''));
    if (res.status !== 200) throw new Error(`deploy ${name}: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return {
    server, admin: client(server.url, ADMIN.user, ADMIN.password),
    office: await makeUser(server, `${prefix}-office`, ['office']),
    worker: await makeUser(server, `${prefix}-worker`, ['workers']),
  };
}

/**
 * One suite per database: a conformance server with `diagrams` deployed,
 * stopped afterwards; `define` declares the tests, `t` prefixes a title
 * with the database's name. `c` is filled in before the first test runs.
 * With `clock`, each database's server runs on the clock it makes (timer tests).
 */
export function conformanceSuite(diagrams: string[], prefix: string, define: (c: Conformance, t: (title: string) => string, clock?: Clock) => void, makeClock?: () => Clock): void {
  for (const backend of backends) {
    const c = {} as Conformance;
    const clock = makeClock?.();
    test.before(async () => {
      Object.assign(c, await startConformance(backend, diagrams, prefix, clock));
    });
    test.after.always(async () => c.server?.stop());
    define(c, (title) => `${backend.name}: ${title}`, clock);
  }
}

/** The keys of an instance's open tasks (administrator's view), sorted. */
export async function openKeys(c: Conformance, instanceId: string): Promise<string[]> {
  const r = await c.admin.get(`/engine-rest/task?processInstanceId=${instanceId}`);
  if (r.status !== 200) throw new Error(`task list: ${r.status}`);
  return r.body.map((x: { taskDefinitionKey: string }) => x.taskDefinitionKey).sort();
}

/** Claims and completes the open task `key` of an instance as the office user. */
export async function complete(c: Conformance, instanceId: string, key: string, variables: Record<string, unknown> = {}): Promise<void> {
  const r = await c.office.get(`/engine-rest/task?processInstanceId=${instanceId}&taskDefinitionKey=${key}`);
  const [task] = r.body;
  if (!task) throw new Error(`no open task ${key}; open: ${JSON.stringify(await openKeys(c, instanceId))}`);
  const done = await c.office.post(`/engine-rest/task/${task.id}/complete`, { variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, { value: v }])) });
  if (done.status !== 204) throw new Error(`complete ${key}: ${done.status} ${JSON.stringify(done.body)}`);
}

export async function start(c: Conformance, key: string, variables: Record<string, unknown> = {}): Promise<string> {
  const r = await c.office.post(`/engine-rest/process-definition/key/${key}/start`, { variables: Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, { value: v }])) });
  if (r.status !== 200) throw new Error(`start ${key}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

export async function stateOf(c: Conformance, instanceId: string): Promise<string> {
  const [h] = (await c.admin.get(`/engine-rest/history/process-instance?processInstanceId=${instanceId}`)).body;
  return h?.state;
}

/** Task history of an instance as `key:deleteReason`, sorted. */
export async function taskEnds(c: Conformance, instanceId: string): Promise<string[]> {
  const r = await c.admin.get(`/engine-rest/history/task?processInstanceId=${instanceId}`);
  return r.body.map((x: { taskDefinitionKey: string; deleteReason: string | null }) => `${x.taskDefinitionKey}:${x.deleteReason}`).sort();
}

/** Activities of an instance that ended normally, sorted. */
export async function passed(c: Conformance, instanceId: string): Promise<string[]> {
  const r = await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${instanceId}`);
  return r.body.filter((a: { endTime: string | null; canceled: boolean }) => a.endTime && !a.canceled).map((a: { activityId: string }) => a.activityId).sort();
}

/** Activities of an instance that were cancelled, sorted. */
export async function cancelled(c: Conformance, instanceId: string): Promise<string[]> {
  const r = await c.admin.get(`/engine-rest/history/activity-instance?processInstanceId=${instanceId}`);
  return r.body.filter((a: { canceled: boolean }) => a.canceled).map((a: { activityId: string }) => a.activityId).sort();
}

/** The instance's variables as plain values. */
export async function variablesOf(c: Conformance, instanceId: string): Promise<Record<string, unknown>> {
  const r = await c.admin.get(`/engine-rest/history/variable-instance?processInstanceId=${instanceId}`);
  return Object.fromEntries(r.body.map((v: { name: string; value: unknown }) => [v.name, v.value]));
}

/** After an instance ended: nothing of it is open anywhere (helpers.ts assertNothingLeft, the one check). */
export async function assertNothingOpen(t: ExecutionContext, c: Conformance, instanceId: string): Promise<void> {
  await assertNothingLeft(t, c.server, c.admin, instanceId);
}

/**
 * The last steps of many tests: completing the open task `last` ends the
 * instance with nothing open; where given, the task history (`key:deleteReason`,
 * sorted) and the cancelled elements (sorted) are as `expected`.
 */
export async function finishWith(
  t: ExecutionContext, c: Conformance, instanceId: string, last: string,
  expected: { taskEnds?: string[]; cancelled?: string[] } = {},
): Promise<void> {
  await complete(c, instanceId, last);
  await assertNothingOpen(t, c, instanceId);
  if (expected.taskEnds) t.deepEqual(await taskEnds(c, instanceId), expected.taskEnds);
  if (expected.cancelled) t.deepEqual(await cancelled(c, instanceId), expected.cancelled);
}

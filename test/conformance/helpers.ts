import fs from 'node:fs';
import path from 'node:path';
import type { Assertions } from 'ava';
import { ADMIN, type Client, type TestServer } from '../helpers/server.ts';

/*
 * The conformance suite (issue 14): one small diagram per behaviour of
 * Camunda 7, deployed and driven over REST on every database, checking open
 * tasks, variables, history and the end state.
 */

const dir = path.resolve(import.meta.dirname, 'fixtures');

/** Deploys fixtures/<name>.bpmn over REST (multipart, as Camunda Modeler does) as the administrator; returns the answer. */
export async function deployFixture(server: TestServer, name: string): Promise<{ status: number; body: any }> {
  return deployXml(server, name, fs.readFileSync(path.join(dir, `${name}.bpmn`), 'utf8'));
}

/** Deploys a diagram written in the test itself, as deployFixture does. */
export async function deployXml(server: TestServer, name: string, xml: string): Promise<{ status: number; body: any }> {
  const form = new FormData();
  form.append('deployment-name', name);
  form.append('deployment-source', 'conformance');
  form.append(`${name}.bpmn`, new Blob([xml]), `${name}.bpmn`);
  const res = await fetch(`${server.url}/engine-rest/deployment/create`, {
    method: 'POST', body: form, headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}` },
  });
  return { status: res.status, body: await res.json() };
}

/**
 * Deploys a fixture that must be refused: 400 ParseException ENGINE-09005,
 * each `[element, says]` named in a problem of its own with its line, and
 * nothing stored: no deployment, and no definition under the fixture's name
 * (every refused fixture's process id is its file name). Returns the answer's
 * body for checks of the caller's own.
 */
export async function assertRefusedFixture(
  t: Assertions, server: TestServer, admin: Client, name: string, problems: [element: string, says: RegExp][],
): Promise<any> {
  const before = (await admin.get('/engine-rest/deployment/count')).body.count;
  const r = await deployFixture(server, name);
  t.is(r.status, 400);
  t.is(r.body.type, 'ParseException');
  t.regex(r.body.message, /ENGINE-09005/);
  for (const [element, says] of problems) {
    t.regex(r.body.message, new RegExp(`${says.source}[^|]*\\| resource ${name}\\.bpmn \\| element ${element} \\| line \\d+`));
  }
  t.is((await admin.get('/engine-rest/deployment/count')).body.count, before);
  t.is((await admin.get(`/engine-rest/process-definition?key=${name}`)).body.length, 0);
  return r.body;
}

/** A Camunda Json variable, as a REST client sends one. */
export const json = (value: unknown) => ({ value: JSON.stringify(value), type: 'Json' });

/** Starts the latest `key` as `who` with Camunda-typed variables; returns the instance id. */
export async function start(who: Client, key: string, variables: Record<string, unknown>): Promise<string> {
  const r = await who.post(`/engine-rest/process-definition/key/${key}/start`, { variables });
  if (r.status !== 200) throw new Error(`start ${key}: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body.id;
}

/** Open tasks of an instance as the administrator sees them, oldest first. */
export async function tasksOf(admin: Client, instanceId: string): Promise<any[]> {
  const r = await admin.get(`/engine-rest/task?processInstanceId=${instanceId}&sortBy=created&sortOrder=asc`);
  if (r.status !== 200) throw new Error(`task list: ${r.status} ${JSON.stringify(r.body)}`);
  return r.body;
}

/**
 * After an instance ended: it is gone from the runtime, history says
 * COMPLETED, and nothing of it is left open (task, external task, timer,
 * message or signal subscription, running element). Tasks, external tasks
 * and timers are asked over REST; subscriptions and running elements, which
 * this server's REST does not list, also from the database.
 */
export async function assertNothingLeft(t: Assertions, server: TestServer, admin: Client, instanceId: string): Promise<void> {
  t.is((await admin.get(`/engine-rest/process-instance/${instanceId}`)).status, 404, 'the instance is no longer running');
  const hist = await admin.get(`/engine-rest/history/process-instance?processInstanceId=${instanceId}`);
  t.is(hist.body[0]?.state, 'COMPLETED');
  t.deepEqual(await tasksOf(admin, instanceId), [], 'no open task');
  t.deepEqual((await admin.get(`/engine-rest/external-task?processInstanceId=${instanceId}`)).body, [], 'no open external task');
  t.deepEqual((await admin.get(`/engine-rest/job?processInstanceId=${instanceId}`)).body, [], 'no timer');
  t.deepEqual(await server.db('message_subscriptions').where({ process_instance_id: instanceId }).pluck('activity_id'), [], 'no subscription');
  const open = await admin.get(`/engine-rest/history/activity-instance?processInstanceId=${instanceId}&unfinished=true`);
  t.deepEqual(open.body, [], 'no element left unfinished in history');
  t.deepEqual(await server.db('activity_instances').where({ process_instance_id: instanceId }).whereNull('end_time').pluck('activity_id'), [], 'no running element');
}

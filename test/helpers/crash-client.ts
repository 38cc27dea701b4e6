import fs from 'node:fs';
import path from 'node:path';
import { ADMIN } from './server.ts';

/*
 * What the kill -9 tests send to a real server process they kill: as the
 * administrator, each request either answered or lost (the process died
 * before answering, so whether it committed is for the test to find out).
 */

const AUTH = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

export type Outcome = { lost: false; status: number; body: any } | { lost: true };

/** One request; `lost` when no answer came (connection cut, or none within `timeoutMs`). */
export async function send(url: string, method: string, route: string, body?: unknown, timeoutMs = 30_000): Promise<Outcome> {
  try {
    const res = await fetch(`${url}${route}`, {
      method, headers: { Authorization: AUTH, ...(body === undefined ? {} : { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body), signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    return { lost: false, status: res.status, body: text ? JSON.parse(text) : null };
  } catch {
    return { lost: true };
  }
}

/** A request that must succeed (the server is up and the call is right): its body. */
export async function must(url: string, method: string, route: string, body?: unknown): Promise<any> {
  const r = await send(url, method, route, body);
  if (r.lost || r.status >= 300) throw new Error(`${method} ${route}: ${JSON.stringify(r)}`);
  return r.body;
}

/** Deploys the conformance fixtures named, as Camunda Modeler does. */
export async function deployFixtures(url: string, deploymentName: string, names: string[]): Promise<void> {
  const fixtures = path.resolve(import.meta.dirname, '../conformance/fixtures');
  const form = new FormData();
  form.append('deployment-name', deploymentName);
  for (const name of names) form.append(`${name}.bpmn`, new Blob([fs.readFileSync(path.join(fixtures, `${name}.bpmn`))]), `${name}.bpmn`);
  const res = await fetch(`${url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: AUTH } });
  if (res.status !== 200) throw new Error(`deploy: ${res.status} ${await res.text()}`);
}

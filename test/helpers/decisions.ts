import fs from 'node:fs';
import path from 'node:path';
import { ADMIN, type TestServer } from './server.ts';

const dir = path.resolve(import.meta.dirname, '../fixtures/dmn-rest');

/** A fixture of test/fixtures/dmn-rest, bytes as on disk. */
export const readDmnFixture = (name: string) => fs.readFileSync(path.join(dir, name));

/**
 * Deploys files (a dmn-rest fixture's name, or [name, bytes]) in one multipart
 * request as Camunda Modeler does, as the administrator; `settings` are form
 * fields such as `deploy-changed-only`.
 */
export async function deployDmn(server: TestServer, name: string, files: (string | [string, Buffer])[], settings: Record<string, string> = {}) {
  const form = new FormData();
  form.append('deployment-name', name);
  for (const [k, v] of Object.entries(settings)) form.append(k, v);
  for (const f of files) {
    const [fileName, bytes] = typeof f === 'string' ? [f, readDmnFixture(f)] : f;
    form.append(fileName, new Blob([bytes]), fileName);
  }
  const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
  const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic } });
  return { status: res.status, body: (await res.json()) as any };
}

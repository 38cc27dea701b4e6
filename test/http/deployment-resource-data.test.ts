import test from 'ava';
import { backends } from '../helpers/db.ts';
import { fixture } from '../helpers/fixtures.ts';
import { ADMIN, client, startTestServer, type Client, type TestServer } from '../helpers/server.ts';

/*
 * A deployment's resources come back as files: the web DMN editor opens a
 * table from `/data`, and a browser or curl saves it under its own name. The
 * media type follows the file name (Camunda: .bpmn, .dmn → application/xml),
 * the name is given plainly and exactly (RFC 6266 `filename*`).
 */

for (const backend of backends) {
  let c!: { server: TestServer; admin: Client };
  const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;
  test.before(async () => {
    const server = await startTestServer(backend);
    c = { server, admin: client(server.url, ADMIN.user, ADMIN.password) };
  });
  test.after.always(async () => c?.server.stop());

  async function deployOne(name: string, bytes: Buffer): Promise<string> {
    const form = new FormData();
    form.append('deployment-name', name);
    form.append(name, new Blob([bytes]), name);
    const res = await fetch(`${c.server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic } });
    if (res.status !== 200) throw new Error(`deploy ${name}: ${res.status} ${await res.text()}`);
    return ((await res.json()) as { id: string }).id;
  }

  async function data(deploymentId: string, name: string): Promise<Response> {
    const resources: { id: string; name: string }[] = (await c.admin.get(`/engine-rest/deployment/${deploymentId}/resources`)).body;
    const r = resources.find((x) => x.name === name)!;
    return fetch(`${c.server.url}/engine-rest/deployment/${deploymentId}/resources/${r.id}/data`, { headers: { Authorization: basic } });
  }

  test.serial(`${backend.name}: a .dmn resource is served as XML under its own name, byte for byte`, async (t) => {
    const bytes = fixture('report-level.dmn');
    const id = await deployOne('report-level.dmn', bytes);
    const res = await data(id, 'report-level.dmn');
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /^application\/xml/);
    t.is(res.headers.get('content-disposition'), `attachment; filename="report-level.dmn"; filename*=UTF-8''report-level.dmn`);
    t.true(Buffer.compare(Buffer.from(await res.arrayBuffer()), bytes) === 0);
  });

  test.serial(`${backend.name}: a Chinese resource name comes back exactly in filename*, and readable in filename`, async (t) => {
    const bytes = fixture('report-level.dmn');
    const id = await deployOne('上报级别 (2026).dmn', bytes);
    const res = await data(id, '上报级别 (2026).dmn');
    t.is(res.status, 200);
    t.regex(res.headers.get('content-type') ?? '', /^application\/xml/);
    const disposition = res.headers.get('content-disposition') ?? '';
    t.is(disposition, `attachment; filename="____ (2026).dmn"; filename*=UTF-8''%E4%B8%8A%E6%8A%A5%E7%BA%A7%E5%88%AB%20%282026%29.dmn`);
    t.is(decodeURIComponent(disposition.split("UTF-8''")[1]), '上报级别 (2026).dmn');
  });
}

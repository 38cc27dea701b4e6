import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { ADMIN, repoRoot, startTestServer, type TestServer } from '../helpers/server.ts';

// The BPMN Model Interchange Working Group's test files, kept in the repository with their
// licence notice (CC BY 3.0, test/fixtures/miwg/NOTICE.md), so a fresh clone runs this test.
const miwgRoot = path.resolve(repoRoot, 'test/fixtures/miwg');
const files = ['reference', 'camunda-modeler-export'].flatMap((dir) => {
  const full = path.join(miwgRoot, dir);
  return fs.existsSync(full) ? fs.readdirSync(full).filter((f) => f.endsWith('.bpmn')).sort().map((f) => path.join(dir, f)) : [];
});
const basic = `Basic ${Buffer.from(`${ADMIN.user}:${ADMIN.password}`).toString('base64')}`;

for (const backend of backends) {
  let server!: TestServer;
  test.before(async () => {
    server = await startTestServer(backend);
  });
  test.after.always(async () => server?.stop());

  test(`${backend.name}: every MIWG file deploys byte-identical or is refused with a 400 naming why; none gives a 500`, async (t) => {
    if (!files.length) return t.fail(`no MIWG files under ${miwgRoot}`);
    const table: string[] = [];
    let deployed = 0;
    for (const file of files) {
      const bytes = fs.readFileSync(path.join(miwgRoot, file));
      const form = new FormData();
      form.append('deployment-name', file);
      form.append('deployment-source', 'miwg');
      form.append(path.basename(file), new Blob([bytes]), path.basename(file));
      const res = await fetch(`${server.url}/engine-rest/deployment/create`, { method: 'POST', body: form, headers: { Authorization: basic } });
      const body: any = await res.json();
      t.true(res.status === 200 || res.status === 400, `${file}: status ${res.status} ${JSON.stringify(body).slice(0, 300)}`);
      if (res.status === 200) {
        deployed++;
        const [resource] = await (await fetch(`${server.url}/engine-rest/deployment/${body.id}/resources`, { headers: { Authorization: basic } })).json() as { id: string }[];
        const data = await fetch(`${server.url}/engine-rest/deployment/${body.id}/resources/${resource.id}/data`, { headers: { Authorization: basic } });
        t.true(Buffer.compare(Buffer.from(await data.arrayBuffer()), bytes) === 0, `${file}: resource data differs`);
        const definitions = Object.values(body.deployedProcessDefinitions ?? {}) as { id: string; key: string; startableInTasklist: boolean }[];
        // Starting each one must run it or refuse it cleanly, never crash.
        const starts: string[] = [];
        for (const d of definitions.filter((x) => x.startableInTasklist)) {
          const started = await fetch(`${server.url}/engine-rest/process-definition/${d.id}/start`, {
            method: 'POST', body: '{}', headers: { Authorization: basic, 'Content-Type': 'application/json' },
          });
          t.true(started.status === 200 || started.status === 400, `${file}: start ${d.key} gave ${started.status}`);
          starts.push(started.status === 200 ? 'started' : 'start refused');
        }
        table.push(`${file.padEnd(40)} deployed   ${definitions.length ? definitions.map((d, i) => `${d.key}${starts[i] ? ` (${starts[i]})` : ''}`).join(', ') : '(no executable process)'}`);
      } else {
        t.is(body.type, 'ParseException', file);
        t.true(body.message.startsWith('ENGINE-09005'), file);
        const [first] = body.details[path.basename(file)].errors;
        t.truthy(first.message, `${file}: the refusal names a reason`);
        table.push(`${file.padEnd(40)} refused    ${first.message.slice(0, 90)}${first.mainElementId ? ` (element ${first.mainElementId}, line ${first.line})` : ''}`);
      }
    }
    t.log(`\n${'file'.padEnd(40)} outcome    reason / definitions\n${table.join('\n')}`);
    t.true(deployed > 0);
    const health = await fetch(`${server.url}/health`);
    t.is(health.status, 200, 'the server is still up');
  });
}

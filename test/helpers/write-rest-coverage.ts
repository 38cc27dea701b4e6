import fs from 'node:fs';
import { backends } from './db.ts';
import { camundaPairs, coverageMarkdown, DOC, measure, PATHS_MODULE, pathsModule } from './rest-coverage.ts';
import { ADMIN, client, startTestServer } from './server.ts';

/*
 * `npm run rest-coverage`: writes src/http/camunda-rest.ts from the fixture (first: the server's
 * refusals match against it), then measures a fresh server on PGlite and writes docs/rest-coverage.md.
 */
fs.writeFileSync(PATHS_MODULE, pathsModule(camundaPairs()));
// Imported only now, so the server is built with the module just written.
const server = await startTestServer(backends[0]);
try {
  const results = await measure(client(server.url, ADMIN.user, ADMIN.password));
  fs.writeFileSync(DOC, coverageMarkdown(results));
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  console.log(`implemented ${count('implemented')}, refused ${count('refused')}, missing ${count('missing')} of ${results.length}`);
  for (const r of results.filter((x) => x.outcome === 'missing')) console.log(`missing: ${r.pair} (${r.why})`);
} finally {
  await server.stop();
}

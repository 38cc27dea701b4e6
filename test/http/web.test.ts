import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import { backends } from '../helpers/db.ts';
import { repoRoot, startTestServer, type TestServer } from '../helpers/server.ts';

const webRoot = path.join(repoRoot, 'dist', 'web');
const pglite = backends.find((b) => b.name === 'pglite')!;
let server!: TestServer;

test.before(async (t) => {
  if (!fs.existsSync(path.join(webRoot, 'index.html'))) throw new Error('dist/web/index.html is missing: `npm ci` builds it (npm run build:web)');
  server = await startTestServer(pglite);
  t.pass();
});
test.after.always(async () => server?.stop());

test('the web app is served at / and for client routes, with a strict content policy', async (t) => {
  for (const p of ['/', '/login', '/task/some-id', '/start/security-plan-approval:1:abc']) {
    const res = await fetch(`${server.url}${p}`);
    t.is(res.status, 200, p);
    t.regex(res.headers.get('content-type') ?? '', /^text\/html/, p);
    t.is(res.headers.get('cache-control'), 'no-cache');
    t.regex(res.headers.get('content-security-policy') ?? '', /script-src 'self'/);
    t.regex(await res.text(), /<div id="app">/);
  }
});

test('its assets are local files with long caching; nothing comes from a CDN', async (t) => {
  const html = await (await fetch(`${server.url}/`)).text();
  const assets = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]);
  t.true(assets.length >= 2);
  for (const a of assets) {
    t.true(a.startsWith('/assets/'), `${a} is served by this server`);
    const res = await fetch(`${server.url}${a}`);
    t.is(res.status, 200, a);
    t.regex(res.headers.get('cache-control') ?? '', /immutable/);
    t.notRegex(await res.text(), /https?:\/\/(cdn|unpkg|jsdelivr)/i);
  }
  t.is((await fetch(`${server.url}/assets/missing-file.js`)).status, 404);
});

test('the API is not shadowed: /engine-rest and /health answer as before, paths cannot escape the folder', async (t) => {
  const unknown = await fetch(`${server.url}/engine-rest/no-such-route`);
  t.is(unknown.status, 401);
  t.regex(unknown.headers.get('content-type') ?? '', /json/);
  t.is((await fetch(`${server.url}/engine-rest`)).status, 401);
  t.deepEqual(await (await fetch(`${server.url}/health`)).json(), { status: 'UP', database: 'UP' });
  t.is((await fetch(`${server.url}/public/process`)).status, 404, 'the internet zone\'s paths do not exist on the private listener');
  const escape = await fetch(`${server.url}/%2e%2e/package.json`);
  t.notRegex(await escape.text(), /credit-bpmn-server/);
  t.is((await fetch(`${server.url}/`, { method: 'POST' })).status, 404);
});

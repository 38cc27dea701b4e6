import test from 'ava';
import { backends } from '../helpers/db.ts';
import { startTestServer, type TestServer } from '../helpers/server.ts';

// CORS does not depend on the database; one backend is enough.
const [backend] = backends;
let server!: TestServer;
test.before(async () => {
  server = await startTestServer(backend, { CORS_ORIGINS: 'https://modeler.example.gov.cn' });
});
test.after.always(async () => server?.stop());

const preflight = (origin: string) =>
  fetch(`${server.url}/engine-rest/deployment/create`, {
    method: 'OPTIONS',
    headers: { Origin: origin, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
  });

test('preflight from the desktop Modeler (origin null) is answered without credentials', async (t) => {
  const res = await preflight('null');
  t.is(res.status, 204);
  t.is(res.headers.get('access-control-allow-origin'), 'null');
  t.regex(res.headers.get('access-control-allow-methods') ?? '', /POST/);
  t.regex(res.headers.get('access-control-allow-headers') ?? '', /Authorization/);
});

test('a configured web origin is allowed, others are not', async (t) => {
  t.is((await preflight('https://modeler.example.gov.cn')).headers.get('access-control-allow-origin'), 'https://modeler.example.gov.cn');
  t.is((await preflight('https://evil.example')).headers.get('access-control-allow-origin'), null);
  const probe = await fetch(`${server.url}/engine-rest/deployment?maxResults=0`, { headers: { Origin: 'null' } });
  t.is(probe.status, 401, 'the probe still needs credentials');
  t.is(probe.headers.get('access-control-allow-origin'), 'null', 'and the Modeler can read the 401');
});

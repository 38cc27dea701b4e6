import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import test from 'ava';
import { freePort, Tail } from '../helpers/child-server.ts';
import { ADMIN, client, repoRoot } from '../helpers/server.ts';

const run = promisify(execFile);

/**
 * The release as an operator gets it: `npm pack` of the built checkout,
 * unpacked into an empty folder, `npm install --omit=dev` there (no build,
 * no dev dependency: from the npm cache when it holds them), `npm start`.
 *
 * It packs the dist/ that `npm ci` (npm's prepare) built, rather than
 * building here: rebuilding would empty dist/web under the browser tests
 * running beside this one. A dist/ older than the sources is refused.
 */
function newestMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) newest = Math.max(newest, fs.statSync(path.join(entry.parentPath, entry.name)).mtimeMs);
  }
  return newest;
}

let child: ChildProcess | undefined;
/** Process groups started here (npm, a shell, and the server each started beneath them). */
const groups: number[] = [];
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'release-'));
test.after.always(async () => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // the group has ended
    }
  }
  await sleep(500);
  fs.rmSync(temp, { recursive: true, force: true });
});

test('the npm pack tarball installs with --omit=dev, starts with npm start on compiled JavaScript, and serves the API and the web app', async (t) => {
  t.timeout(600_000);
  const main = path.join(repoRoot, 'dist', 'src', 'main.js');
  if (!fs.existsSync(main) || fs.statSync(main).mtimeMs < newestMtime(path.join(repoRoot, 'src'))) {
    t.fail('dist/ 缺失或过旧 / dist/ is missing or older than src/: run npm run build');
    return;
  }

  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', temp], { cwd: repoRoot, maxBuffer: 64 << 20 });
  const [{ filename, files }] = JSON.parse(packed.stdout) as { filename: string; files: { path: string }[] }[];
  const paths = files.map((f) => f.path);
  for (const needed of ['dist/src/main.js', 'dist/src/engine/sandbox-worker.mjs', 'dist/src/services/notification-templates/task-offered.txt',
    'dist/migrations/20261125000001_identity.js', 'dist/web/index.html', 'processes/backup-verification.bpmn', 'LICENSE', 'README.md', 'CHANGELOG.md']) {
    t.true(paths.includes(needed), `the tarball holds ${needed}`);
  }
  t.false(paths.some((p) => p.startsWith('src/') || p.startsWith('test/') || p.endsWith('.ts') || p.endsWith('.map')), 'no sources, tests or maps in the tarball');

  // An empty folder: unpack, install the runtime dependencies only.
  await run('tar', ['xzf', path.join(temp, filename), '-C', temp]);
  const app = path.join(temp, 'package');
  await run('npm', ['install', '--omit=dev', '--prefer-offline', '--no-audit', '--no-fund'], { cwd: app, maxBuffer: 64 << 20 });
  t.false(fs.existsSync(path.join(app, 'node_modules', 'typescript')), 'no TypeScript compiler installed');
  t.false(fs.existsSync(path.join(app, 'node_modules', 'tsx')), 'no TypeScript loader installed');

  const port = await freePort();
  const dataDir = path.join(temp, 'data');
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !['DATABASE_URL', 'SM4_KEY', 'SM4_KEY_FILE', 'PROCESSES_DIR', 'NODE_OPTIONS'].includes(k)));
  const tail = new Tail();
  child = spawn('npm', ['start'], {
    cwd: app, stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    env: { ...env, PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, ADMIN_USER: ADMIN.user, ADMIN_PASSWORD: ADMIN.password, LOG_LEVEL: 'info' },
  });
  groups.push(child.pid!);
  child.stdout!.on('data', (b: Buffer) => tail.add('[out]', b));
  child.stderr!.on('data', (b: Buffer) => tail.add('[err]', b));
  let exited = false;
  child.once('exit', () => (exited = true));

  // Waiting for a process to boot on a possibly loaded machine: bounded polling.
  const url = `http://127.0.0.1:${port}`;
  const began = Date.now();
  let live = 0;
  while (Date.now() - began < 240_000 && !exited) {
    live = await fetch(`${url}/health/live`).then((r) => r.status, () => 0);
    if (live === 200) break;
    await sleep(100);
  }
  t.is(live, 200, tail.text());

  const admin = client(url, ADMIN.user, ADMIN.password);
  const count = await admin.get('/engine-rest/process-definition/count');
  t.is(count.status, 200, tail.text());
  t.is(count.body.count, fs.readdirSync(path.join(repoRoot, 'processes')).filter((f) => f.endsWith('.bpmn')).length, 'the shipped processes/ are deployed');
  t.is((await client(url, ADMIN.user, 'wrong-password').get('/engine-rest/process-definition/count')).status, 401);
  const page = await fetch(`${url}/`);
  t.is(page.status, 200);
  t.regex(await page.text(), /<html/);
  // It runs the compiled server with plain node, not a TypeScript loader.
  const ps = await run('ps', ['-o', 'args=', '--ppid', String(child.pid)]).catch(() => ({ stdout: '' }));
  t.notRegex(ps.stdout, /tsx|\.ts\b/, ps.stdout);
  const stopped = new Promise((r) => child!.once('exit', r));
  process.kill(-child.pid!, 'SIGTERM');
  await stopped;

  // The README's worked example, pasted as one block into a shell in the release's folder
  // (on a free port instead of 8081): it starts its own server, waits for it, and completes the task.
  const readme = fs.readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## 示例 · Worked example'));
  const script = /```sh\n([\s\S]*?)```/.exec(section)![1]!.replaceAll('8081', String(await freePort()));
  t.regex(script, /npm start/);
  const shellEnv = Object.fromEntries(Object.entries(env).filter(([k]) => !['DATA_DIR', 'PORT', 'ADMIN_USER', 'ADMIN_PASSWORD', 'HOST'].includes(k)));
  child = spawn('bash', ['-c', script], { cwd: app, env: shellEnv, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  groups.push(child.pid!);
  let out = '';
  child.stdout!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr!.on('data', (b: Buffer) => (out += b.toString('utf8')));
  const code = await new Promise((r) => child!.once('exit', r));
  t.is(code, 0, out);
  t.notRegex(out, /"type":"\w+(Exception|Error)"|Unauthorized/, out);
  t.regex(out, /"taskDefinitionKey":"reviewDraft"/, out);
  t.regex(out, /"taskDefinitionKey":"draftPlan"/, out);
  t.regex(out, /"assignee":"wang"/, 'the history shows wang completed the first task');
});

// npm's `prepare`: `npm ci` / `npm install` in a checkout, and `npm pack`, build dist/ (server and web
// app). An unpacked release ships dist/ built and no src/ nor dev dependencies: there, nothing is built.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
if (fs.existsSync(path.join(root, 'src', 'main.ts'))) {
  const build = spawnSync('npm', ['run', 'build'], { cwd: root, stdio: 'inherit' });
  process.exit(build.status ?? 1);
}

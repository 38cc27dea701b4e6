// `npm run <tool>` for the operator's tools in src/cli (verify-trace, reset-admin, reencrypt, migrate):
// a checkout runs the TypeScript source through tsx (a dev dependency), so the tools never run a stale
// build; the installed release, which ships no src/, runs the compiled dist/ with plain node.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const [name, ...args] = process.argv.slice(2);
const root = path.resolve(import.meta.dirname, '..');
const source = path.join(root, 'src', 'cli', `${name}.ts`);
const compiled = path.join(root, 'dist', 'src', 'cli', `${name}.js`);
const checkout = fs.existsSync(source);
if (!fs.existsSync(checkout ? source : compiled)) {
  process.stderr.write(`没有这个工具 / no such tool: ${name}\n`);
  process.exit(2);
}
const argv = checkout ? ['--import', 'tsx', source, ...args] : [compiled, ...args];
const run = spawnSync(process.execPath, argv, { stdio: 'inherit' });
process.exit(run.status ?? 1);

import { spawn } from 'node:child_process';
import { repoRoot } from './server.ts';

/** The settings that say which database a tool opens and with which key: never inherited from the test's own environment. */
const DATABASE_ENV = ['DATABASE_URL', 'DATA_DIR', 'SM4_KEY', 'SM4_KEY_FILE', 'BACKUP_DIR'];

/**
 * `npm run -s <script> [-- args]` in the repository, as an operator runs it
 * on the host, with exactly the database settings in `env`. Resolves with
 * the exit code and what it printed (stdout then stderr, interleaved as written).
 */
export function runNpmScript(script: string, env: Record<string, string>, args: string[] = []): Promise<{ code: number | null; out: string }> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !DATABASE_ENV.includes(k)));
  const child = spawn('npm', ['run', '-s', script, ...(args.length ? ['--', ...args] : [])], { cwd: repoRoot, env: { ...base, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (b: Buffer) => (out += b.toString('utf8')));
  child.stderr.on('data', (b: Buffer) => (out += b.toString('utf8')));
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

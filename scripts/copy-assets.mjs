// The files the compiled server reads beside its own code, which tsc does not copy:
// the script sandbox's worker and the notification templates.
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
const assets = ['src/engine/sandbox-worker.mjs', 'src/services/notification-templates'];
for (const asset of assets) {
  fs.cpSync(path.join(root, asset), path.join(root, 'dist', asset), { recursive: true });
}

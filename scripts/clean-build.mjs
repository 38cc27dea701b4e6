// The compiled server is rebuilt from scratch, so a deleted source file leaves no stale .js behind;
// dist/web (the web app, built separately by vite) stays.
import fs from 'node:fs';
import path from 'node:path';

const dist = path.resolve(import.meta.dirname, '..', 'dist');
for (const part of ['src', 'migrations', 'knexfile.js']) fs.rmSync(path.join(dist, part), { recursive: true, force: true });

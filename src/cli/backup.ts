import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeDbClock } from '../clock.ts';
import { loadConfig } from '../config.ts';
import { backupId, makeBackupService, writeHeads } from '../services/backups.ts';
import { makeTraceService } from '../services/trace.ts';
import { withExportedSnapshot } from '../store/backup.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb } from '../store/db.ts';
import { SYSTEM } from '../types.ts';

/**
 * `npm run backup`, on the host, into BACKUP_DIR (default DATA_DIR/backups):
 * - embedded database: the server must be stopped (one process per data
 *   folder); a running server backs itself up on its schedule or on
 *   POST /engine-rest/backup. Writes `<id>.tar.gz` and `<id>.heads.json`.
 * - PostgreSQL (DATABASE_URL): `pg_dump --format=custom` (PG_DUMP names
 *   another binary) of a snapshot exported for it, while servers run; the
 *   trace heads are read in the same snapshot. Writes `<id>.dump` and `<id>.heads.json`.
 * Prints the file written. Exit code 0 on success, 2 on failure.
 */
async function main(): Promise<number> {
  const config = loadConfig();
  const dir = config.backup.dir ?? path.join(config.dataDir, 'backups');
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (config.databaseUrl) return backupPostgres(config.databaseUrl, dir);
  const lock = acquireDataDirLock(config.dataDir);
  const db = makeDb({ dataDir: config.dataDir });
  try {
    const service = makeBackupService(db, makeDbClock(db), makeTraceService(db), { dir, embedded: true, intervalHours: 0, keepDays: config.backup.keepDays });
    const backup = await service.take(SYSTEM);
    process.stdout.write(`已备份 / backed up: ${backup.file} (${backup.size} bytes, ${backup.heads.length} trace chains)\n`);
    return 0;
  } finally {
    await db.destroy();
    lock.release();
  }
}

async function backupPostgres(url: string, dir: string): Promise<number> {
  const db = makeDb({ databaseUrl: url, poolMax: 2 });
  try {
    const time = new Date();
    const id = backupId(time);
    const file = path.join(dir, `${id}.dump`);
    const heads = await withExportedSnapshot(db, async (snapshot, heads) => {
      const run = spawnSync(process.env.PG_DUMP ?? 'pg_dump', ['--format=custom', `--snapshot=${snapshot}`, `--file=${file}`, `--dbname=${url}`], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (run.error || run.status !== 0) throw new Error(`pg_dump 失败 / pg_dump failed: ${run.error?.message ?? `exit ${run.status}`}`);
      return heads;
    });
    await writeHeads(dir, id, time, heads);
    process.stdout.write(`已备份 / backed up: ${file} (${fs.statSync(file).size} bytes, ${heads.length} trace chains)\n`);
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`备份失败 / backup failed: ${(err as Error).message}\n`);
  process.exit(2);
});

import { loadConfig } from '../config.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb, migrateLatest } from '../store/db.ts';

/**
 * `npm run migrate`: brings the schema up to date with the server's own
 * connection settings (DATABASE_URL, else the embedded database in DATA_DIR),
 * as the server does at start-up; for upgrading a database before starting
 * the new version. Migrations only go forward (see docs/operations.md, upgrades).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const lock = config.databaseUrl ? undefined : acquireDataDirLock(config.dataDir);
  const db = makeDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const [, pending] = await db.migrate.list() as [unknown[], { file: string }[]];
    await migrateLatest(db);
    process.stdout.write(`迁移完成 / migrated: ${pending.length} applied now\n`);
  } finally {
    await db.destroy();
    lock?.release();
  }
}

main().catch((err) => {
  process.stderr.write(`迁移失败 / migration failed: ${(err as Error).message}\n`);
  process.exit(1);
});

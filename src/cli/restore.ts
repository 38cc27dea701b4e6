import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import { loadConfig } from '../config.ts';
import { readHeads } from '../services/backups.ts';
import { makeTraceService } from '../services/trace.ts';
import { isEmptyDatabase, matchHeads } from '../store/backup.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb } from '../store/db.ts';

/**
 * `npm run restore -- <backup file>`, on the host, the server stopped:
 * - embedded (`<id>.tar.gz`): DATA_DIR's database is moved aside to
 *   `pgdata.before-restore-<time>` (kept for the inquiry), the backup loaded in its place;
 * - PostgreSQL (`<id>.dump`): into DATABASE_URL, which must be an empty
 *   database (create a new one; a restore never overwrites live data).
 * Then the trace chain is verified and the heads recorded at backup time are
 * looked up: each must be found with its hash (docs/operations.md says what
 * a mismatch means). Exit code 0 when all holds, 1 when the chain or a head
 * does not, 2 when the restore could not be done.
 */
async function main(): Promise<number> {
  const [file, ...rest] = process.argv.slice(2);
  if (!file || rest.length || file.startsWith('-')) {
    process.stderr.write('用法 / usage: npm run restore -- <backup file (.tar.gz or .dump)>\n');
    return 2;
  }
  const heads = readHeads(path.resolve(file));
  const config = loadConfig();
  if (config.databaseUrl) return restorePostgres(config.databaseUrl, path.resolve(file), heads);
  if (!file.endsWith('.tar.gz')) throw new Error('嵌入式数据库从 .tar.gz 恢复 / the embedded database restores from a .tar.gz');
  const lock = acquireDataDirLock(config.dataDir);
  const pgdata = path.join(config.dataDir, 'pgdata');
  const stamp = new Date().toISOString().replace(/[-:.]/g, '');
  try {
    // Loaded beside the current folder first: a bad archive leaves the current one in place.
    const staging = `${pgdata}.restoring-${stamp}`;
    const loaded = makeDb({ pglite: new PGlite(staging, { loadDataDir: new Blob([fs.readFileSync(file)]) }) });
    try {
      await loaded.raw('select 1');
    } finally {
      await loaded.destroy();
    }
    if (fs.existsSync(pgdata)) {
      const aside = `${pgdata}.before-restore-${stamp}`;
      fs.renameSync(pgdata, aside);
      process.stdout.write(`原数据库已移至 / the database there was moved to: ${aside}\n`);
    }
    fs.renameSync(staging, pgdata);
    const db = makeDb({ dataDir: config.dataDir });
    try {
      return await check(db, heads);
    } finally {
      await db.destroy();
    }
  } finally {
    lock.release();
  }
}

async function restorePostgres(url: string, file: string, heads: ReturnType<typeof readHeads>): Promise<number> {
  const db = makeDb({ databaseUrl: url, poolMax: 2 });
  try {
    if (!await isEmptyDatabase(db)) throw new Error('DATABASE_URL 指向的数据库不是空的：请新建一个数据库 / the database DATABASE_URL names is not empty: restore into a new one');
    const run = spawnSync(process.env.PG_RESTORE ?? 'pg_restore', ['--no-owner', '--exit-on-error', `--dbname=${url}`, file], { stdio: ['ignore', 'inherit', 'inherit'] });
    if (run.error || run.status !== 0) throw new Error(`pg_restore 失败 / pg_restore failed: ${run.error?.message ?? `exit ${run.status}`}`);
    return await check(db, heads);
  } finally {
    await db.destroy();
  }
}

/** Verifies the restored chain and finds the heads exported at backup time. */
async function check(db: Knex, heads: ReturnType<typeof readHeads>): Promise<number> {
  const report = await makeTraceService(db).verify();
  const { missing } = await matchHeads(db, heads);
  process.stdout.write(`${JSON.stringify({ verified: report.ok, rows: report.rows, broken: report.broken, headsAtBackup: heads.length, headsMissing: missing }, null, 2)}\n`);
  if (!report.ok) {
    process.stdout.write(`留痕链断裂 / trace chain broken at row ${report.broken!.id}: ${report.broken!.reason}\n`);
    return 1;
  }
  if (missing.length) {
    process.stdout.write('备份时的链头未找到或哈希不同：备份被改过或不是那次备份，不要启动服务器 / heads recorded at backup time are missing or differ: the backup was altered or is another one; do not start the server\n');
    return 1;
  }
  process.stdout.write(`已恢复，留痕链完整，${heads.length} 个链头均已找到 / restored; the trace verifies and all ${heads.length} heads recorded at backup time are found\n`);
  return 0;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`恢复失败 / restore failed: ${(err as Error).message}\n`);
  process.exit(2);
});

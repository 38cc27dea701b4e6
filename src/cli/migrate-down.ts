import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../config.ts';
import { acquireDataDirLock } from '../store/data-dir-lock.ts';
import { makeDb, migrationsDir } from '../store/db.ts';
import { DOWN_LOSES } from '../store/migration-reversal.ts';

/**
 * `npm run migrate:down -- <migration> [--yes]`: undoes the migrations applied
 * after `<migration>` (the last one the older release knows; its name as in
 * GET /engine-rest/schema/log or `knex_migrations`), newest first, so that
 * the older release runs again without restoring a backup. Each must be
 * reversible (src/store/migration-reversal.ts, or its own `downLoses`); if
 * one is not, nothing is undone and the tool says to restore the backup
 * taken before the upgrade. Without `--yes` it prints the plan and what
 * would be lost, and changes nothing. The server must be stopped. Each
 * migration is undone in a transaction of its own: a failure part way says
 * which were undone and which remain.
 * Exit code 0 when done (or planned), 1 when refused, 2 on failure.
 */
async function main(): Promise<number> {
  const args = process.argv.slice(2);
  const yes = args.includes('--yes');
  const [target, ...rest] = args.filter((a) => a !== '--yes');
  if (!target || rest.length || target.startsWith('-')) {
    process.stderr.write('用法 / usage: npm run migrate:down -- <last migration to keep> [--yes]\n');
    return 1;
  }
  const config = loadConfig();
  const lock = config.databaseUrl ? undefined : acquireDataDirLock(config.dataDir);
  const db = makeDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  try {
    const applied: string[] = (await db('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name);
    const at = applied.findIndex((n) => n === target || n === `${target}.ts`);
    if (at < 0) {
      process.stderr.write(`没有已执行的迁移 ${target} / no applied migration ${target}\n`);
      return 1;
    }
    const undo = applied.slice(at + 1).reverse();
    const plan = await Promise.all(undo.map(async (name) => ({ name, loses: await losesOf(name) })));
    for (const p of plan) process.stdout.write(`${p.loses ? '回退 / undo' : '不可回退 / NOT reversible'}  ${p.name}${p.loses ? `  (丢失 / loses: ${p.loses})` : ''}\n`);
    if (!undo.length) {
      process.stdout.write('无需回退 / nothing to undo\n');
      return 0;
    }
    const refused = plan.filter((p) => !p.loses);
    if (refused.length) {
      process.stdout.write('有迁移不可回退，未做任何更改：请恢复升级前的备份（docs/operations.md）/ some migrations are not reversible; nothing was changed: restore the backup taken before the upgrade (docs/operations.md)\n');
      return 1;
    }
    if (!yes) {
      process.stdout.write('仅为计划；加 --yes 执行 / a plan only; add --yes to carry it out\n');
      return 0;
    }
    // Each down is a transaction of its own (Knex's): one that fails leaves those before it undone.
    for (const [i, name] of undo.entries()) {
      try {
        await db.migrate.down();
      } catch (err) {
        process.stdout.write(`回退 ${name} 失败；已回退 / undoing ${name} failed; undone: ${undo.slice(0, i).join(', ') || '—'}; `
          + `仍在 / still applied: ${undo.slice(i).join(', ')}。修复原因后重新运行，或恢复备份 / fix the cause and run again, or restore the backup\n`);
        throw err;
      }
    }
    process.stdout.write(`已回退 ${undo.length} 个迁移 / ${undo.length} migration(s) undone\n`);
    return 0;
  } finally {
    await db.destroy();
    lock?.release();
  }
}

/** What undoing `name` loses, from the registry or the migration's own `downLoses`; undefined: not reversible. */
async function losesOf(name: string): Promise<string | undefined> {
  if (DOWN_LOSES[name]) return DOWN_LOSES[name];
  const file = ['.ts', '.js'].map((ext) => path.join(migrationsDir, name.replace(/\.ts$/, ext))).find((f) => fs.existsSync(f));
  if (!file) return undefined;
  const mod = await import(pathToFileURL(file).href) as { downLoses?: unknown };
  return typeof mod.downLoses === 'string' ? mod.downLoses : undefined;
}

main().then((code) => process.exit(code), (err) => {
  process.stderr.write(`回退失败 / migrate:down failed: ${(err as Error).message}\n`);
  process.exit(2);
});

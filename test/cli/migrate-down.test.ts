import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import test from 'ava';
import { makeDb } from '../../src/store/db.ts';
import { runNpmScript } from '../helpers/npm-script.ts';

/**
 * `npm run migrate:down` (docs/operations.md, "Upgrades and rollback"): undoes
 * the migrations after the one named, newest first, only when each is
 * reversible; otherwise changes nothing and says to restore the backup.
 * The data folder is migrated exactly to 20261207000043 first, so the
 * test does not depend on migrations added after it.
 */
const LAST = '20261207000043_statistics.ts';
const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'migrate-down-'));
test.after.always(() => fs.rmSync(temp, { recursive: true, force: true }));

const applied = async (dataDir: string): Promise<string[]> => {
  const db = makeDb({ dataDir });
  try {
    return (await db('knex_migrations').orderBy('id').select('name')).map((r: { name: string }) => r.name);
  } finally {
    await db.destroy();
  }
};

test('plans, refuses a non-reversible migration without changing anything, and undoes reversible ones', async (t) => {
  t.timeout(300_000);
  const dataDir = path.join(temp, 'data');
  const db = makeDb({ dataDir });
  try {
    for (let last = ''; last !== LAST;) {
      await db.migrate.up();
      last = (await db('knex_migrations').orderBy('id', 'desc').first('name')).name;
    }
  } finally {
    await db.destroy();
  }
  const before = await applied(dataDir);

  // Back past the job suspension migration: a suspended job would run again, so it is refused.
  const refused = await runNpmScript('migrate:down', { DATA_DIR: dataDir }, ['20261207000038_task_attachments', '--yes']);
  t.is(refused.code, 1, refused.out);
  t.regex(refused.out, /NOT reversible {2}20261207000040_job_suspension\.ts/);
  t.regex(refused.out, /restore the backup taken before the upgrade/);
  t.deepEqual(await applied(dataDir), before, 'nothing was undone');

  // Without --yes: the plan and what it loses, nothing changed.
  const plan = await runNpmScript('migrate:down', { DATA_DIR: dataDir }, ['20261207000040_job_suspension']);
  t.is(plan.code, 0, plan.out);
  t.regex(plan.out, /undo {2}20261207000043_statistics\.ts[\s\S]*undo {2}20261207000042_history_logs\.ts {2}\(丢失 \/ loses: /);
  t.deepEqual(await applied(dataDir), before);

  const done = await runNpmScript('migrate:down', { DATA_DIR: dataDir }, ['20261207000040_job_suspension', '--yes']);
  t.is(done.code, 0, done.out);
  t.deepEqual(await applied(dataDir), before.slice(0, -2));
  const check = makeDb({ dataDir });
  try {
    t.false(await check.schema.hasTable('history_details'), 'the undone migration\'s tables are gone');
    t.true(await check.schema.hasTable('filters'), 'the kept migrations\' are not');
  } finally {
    await check.destroy();
  }
  const unknown = await runNpmScript('migrate:down', { DATA_DIR: dataDir }, ['no_such_migration']);
  t.is(unknown.code, 1);
  t.regex(unknown.out, /no applied migration no_such_migration/);
});

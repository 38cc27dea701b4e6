import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import type { Knex } from 'knex';
import pg from 'pg';
import { makeDb, migrateLatest, migrationsDir } from '../../src/store/db.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** A database under test, fresh and migrated, with a way to throw it away. */
export interface TestDb {
  db: Knex;
  /** Connection string on PostgreSQL, undefined on PGlite (in memory). */
  url: string | undefined;
  drop(): Promise<void>;
}

export interface Backend {
  name: 'pglite' | 'postgres';
  create(options?: { migrate?: boolean }): Promise<TestDb>;
}

const pgUrl = process.env.TEST_DATABASE_URL;

/**
 * The databases every suite runs on: always the embedded PGlite, and
 * PostgreSQL when TEST_DATABASE_URL points at a server (CI sets it).
 * On PostgreSQL each suite gets a database of its own, dropped afterwards.
 *
 * A migrated database is a copy of a template migrated once (graphile-worker's
 * way): on PostgreSQL `create database … template`, on PGlite a dump of the data
 * folder loaded into a new in-memory instance. Migrating from nothing costs
 * 2–4 s on PGlite (most of it initdb) and 0.4 s on PostgreSQL; a copy costs
 * 0.6 s and 0.08 s. `migrate: false` still gives an empty database, for the
 * tests that watch the server migrate one.
 */
export const backends: Backend[] = [
  {
    name: 'pglite',
    async create({ migrate = true } = {}) {
      const db = migrate ? makeDb({ pglite: new PGlite({ loadDataDir: await pgliteTemplate() }) }) : makeDb({});
      return { db, url: undefined, drop: () => db.destroy() };
    },
  },
  ...(pgUrl
    ? [{
      name: 'postgres' as const,
      async create({ migrate = true } = {}) {
        const name = `bpmn_test_${process.pid}_${randomBytes(4).toString('hex')}`;
        const template = migrate ? await postgresTemplate(pgUrl) : undefined;
        await withAdmin(pgUrl, (admin) => admin.query(`create database ${name}${template ? ` template ${template}` : ''}`));
        const url = withDatabase(pgUrl, name);
        const db = makeDb({ databaseUrl: url });
        return {
          db,
          url,
          async drop() {
            await db.destroy();
            await withAdmin(pgUrl, (admin) => admin.query(`drop database if exists ${name} with (force)`));
          },
        };
      },
    }]
    : []),
];

/**
 * What a template is built from: the migrations' names and contents, the
 * code they run through, and the PGlite release (a data folder is read only by
 * the release that wrote it). A changed migration gives a new template instead
 * of a stale one. Old templates are left on the server (a few MB each): drop
 * `bpmn_tpl_*` databases by hand when they pile up.
 */
const templateKey = (() => {
  const hash = createHash('sha256');
  for (const file of fs.readdirSync(migrationsDir).sort()) {
    hash.update(file).update(fs.readFileSync(path.join(migrationsDir, file)));
  }
  // What every migration runs through, and the names Knex records for them.
  for (const file of ['src/store/exec-script.ts', 'src/store/migration-source.ts']) hash.update(fs.readFileSync(path.join(repoRoot, file)));
  hash.update(JSON.parse(fs.readFileSync(path.join(repoRoot, 'node_modules/@electric-sql/pglite/package.json'), 'utf8')).version);
  return hash.digest('hex').slice(0, 16);
})();

let pgliteDump: Promise<Blob> | undefined;

/**
 * The migrated PGlite data folder as a dump, kept on disk under
 * node_modules/.cache so that every test process after the first loads it;
 * written under a temporary name and renamed, so a reader never sees half of one.
 */
function pgliteTemplate(): Promise<Blob> {
  pgliteDump ??= (async () => {
    const dir = path.join(repoRoot, 'node_modules', '.cache', 'credit-bpmn-test');
    const file = path.join(dir, `pglite-${templateKey}.tar`);
    if (fs.existsSync(file)) return new Blob([fs.readFileSync(file)]);
    const db = makeDb({});
    try {
      await migrateLatest(db);
      const dump = await (db.client as { pglite: PGlite }).pglite.dumpDataDir('none');
      fs.mkdirSync(dir, { recursive: true });
      const temp = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`;
      fs.writeFileSync(temp, Buffer.from(await dump.arrayBuffer()));
      fs.renameSync(temp, file);
      return dump;
    } finally {
      await db.destroy();
    }
  })();
  return pgliteDump;
}

let pgTemplate: Promise<string> | undefined;

/**
 * The name of the migrated template database on the server at `serverUrl`,
 * built by the first test process that needs it while the others wait on an
 * advisory lock; built under a temporary name and renamed when complete, so
 * that a process killed half-way leaves no template that looks ready.
 */
function postgresTemplate(serverUrl: string): Promise<string> {
  pgTemplate ??= withAdmin(serverUrl, async (admin) => {
    const name = `bpmn_tpl_${templateKey}`;
    await admin.query(`select pg_advisory_lock(hashtext('bpmn-test-template'))`);
    try {
      const found = await admin.query('select 1 from pg_database where datname = $1', [name]);
      if (found.rowCount) return name;
      const building = `bpmn_tpl_building_${randomBytes(4).toString('hex')}`;
      await admin.query(`create database ${building}`);
      const db = makeDb({ databaseUrl: withDatabase(serverUrl, building) });
      try {
        await migrateLatest(db);
      } finally {
        await db.destroy();
      }
      await admin.query(`alter database ${building} rename to ${name}`);
      return name;
    } finally {
      await admin.query(`select pg_advisory_unlock(hashtext('bpmn-test-template'))`);
    }
  });
  return pgTemplate;
}

/** One connection to the server's maintenance database, for create and drop (which cannot run in a transaction). */
async function withAdmin<T>(serverUrl: string, fn: (admin: pg.Client) => Promise<T>): Promise<T> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    return await fn(admin);
  } finally {
    await admin.end();
  }
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * Whether a session of this PostgreSQL database comes to wait for a row lock
 * while saving instance states (saveInstanceStates), checked until it does
 * or 20 000 checks have passed. Tests hold an instance's row and wait here
 * until a command or a batch has read it and reached its save.
 */
export async function saveWaitsForLock(db: Knex): Promise<boolean> {
  for (let i = 0; i < 20_000; i++) {
    const waiting = await db.raw(`select 1 from pg_stat_activity where datname = current_database() and wait_event_type = 'Lock' and query like 'update process_instances p%'`);
    if (waiting.rows.length) return true;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return false;
}

import { randomBytes } from 'node:crypto';
import type { Knex } from 'knex';
import { makeDb, migrateLatest } from '../../src/store/db.ts';

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
 */
export const backends: Backend[] = [
  {
    name: 'pglite',
    async create({ migrate = true } = {}) {
      const db = makeDb({});
      if (migrate) await migrateLatest(db);
      return { db, url: undefined, drop: () => db.destroy() };
    },
  },
  ...(pgUrl
    ? [{
      name: 'postgres' as const,
      async create({ migrate = true } = {}) {
        const name = `bpmn_test_${process.pid}_${randomBytes(4).toString('hex')}`;
        const admin = makeDb({ databaseUrl: pgUrl });
        await admin.raw(`create database ${name}`);
        await admin.destroy();
        const url = new URL(pgUrl);
        url.pathname = `/${name}`;
        const db = makeDb({ databaseUrl: url.toString() });
        if (migrate) await migrateLatest(db);
        return {
          db,
          url: url.toString(),
          async drop() {
            await db.destroy();
            const a = makeDb({ databaseUrl: pgUrl });
            await a.raw(`drop database if exists ${name} with (force)`);
            await a.destroy();
          },
        };
      },
    }]
    : []),
];

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

import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { PGlite } from '@electric-sql/pglite';
import knex, { type Knex } from 'knex';
import ClientPGLite from 'knex-pglite';
import pg from 'pg';
import type { Logger } from 'pino';
import { FAILED_SQL, knexLog } from '../log.ts';
import { markAcquireFailure } from './errors.ts';
import { migrationSource } from './migration-source.ts';

/** A Knex handle or a transaction: every store function takes one first. */
export type Db = Knex | Knex.Transaction;

/** One engine execution of one instance: how tasks, timers, waits and element rows are keyed. */
export interface ExecutionRef {
  instanceId: string;
  executionId: string;
}

/** `refs` as the pairs a two-column `where (process_instance_id, execution_id) in (...)` takes. */
export const refPairs = (refs: ExecutionRef[]): [string, string][] => refs.map((r) => [r.instanceId, r.executionId]);

export interface DbOptions {
  /** PostgreSQL connection string; without it the embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** PGlite data directory; `undefined` with no URL means in memory (tests). */
  dataDir?: string | undefined;
  poolMax?: number;
  /** Where Knex's own warnings go (text only, see knexLog). */
  log?: Logger | undefined;
  /**
   * An embedded database already opened by the caller, e.g. one loaded from a
   * dump of a migrated database (the tests' template); the handle owns it and
   * closes it on destroy.
   */
  pglite?: PGlite | undefined;
}

// In a checkout src/store → migrations/ (.ts); in the release dist/src/store → dist/migrations (.js).
export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

// `pg` returns int8 (counts, bigserial) as strings and PGlite as numbers.
// Parse them as numbers here, the one place, so store code sees one shape.
// Our int8 values (counts, sequence numbers) stay far below 2^53.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

/** Opens Knex on PostgreSQL (`databaseUrl`) or on embedded PGlite. */
export function makeDb(options: DbOptions): Knex {
  return withSafeErrors(open(options));
}

/**
 * A failed statement's error names its SQL with placeholders, never with
 * the values bound to them (Knex would otherwise write them into the
 * message), and carries the SQL, so the logger can tell it from the reason
 * (log.ts safeError). Knex's log hooks print text only.
 */
const SAFE_LOGGING = { compileSqlOnError: false } as const;

function withSafeErrors(db: Knex): Knex {
  db.on('query-error', (err: unknown, query: { sql?: unknown }) => {
    if (err && typeof err === 'object' && typeof query?.sql === 'string') {
      Object.defineProperty(err, FAILED_SQL, { value: query.sql, enumerable: false, configurable: true });
    }
  });
  return db;
}

function open(options: DbOptions): Knex {
  if (options.databaseUrl) {
    return markingAcquireFailures(knex({
      ...SAFE_LOGGING,
      log: knexLog(options.log),
      client: 'pg',
      connection: options.databaseUrl,
      pool: { min: 0, max: options.poolMax ?? 10 },
      migrations: { migrationSource: migrationSource(migrationsDir) },
    }));
  }
  let connection: object = {};
  if (options.pglite) {
    connection = { pglite: options.pglite };
  } else if (options.dataDir) {
    // PGlite needs the parent of its data directory to exist.
    fs.mkdirSync(options.dataDir, { recursive: true });
    connection = { filename: path.join(options.dataDir, 'pgdata') };
  }
  // Marked as on PostgreSQL: a request that waits out the pool's timeout behind a long
  // statement (a backup's dump holds the one connection) is a 503, not a 500.
  return markingAcquireFailures(knex({
    ...SAFE_LOGGING,
    log: knexLog(options.log),
    client: ClientPGLite,
    dialect: 'postgres',
    connection,
    migrations: { migrationSource: migrationSource(migrationsDir) },
  } as Knex.Config));
}

/**
 * Any failure to take a connection from the pool means the database cannot be
 * reached now, whatever PostgreSQL said (refused, "not currently accepting
 * connections", too many clients, pool timeout): the error is marked, unchanged,
 * so that the API answers 503 with Retry-After (isDatabaseUnavailable) instead of 500.
 */
function markingAcquireFailures(db: Knex): Knex {
  const client = db.client as { acquireConnection(): Promise<unknown> };
  const acquire = client.acquireConnection.bind(client);
  client.acquireConnection = async () => {
    try {
      return await acquire();
    } catch (err) {
      markAcquireFailure(err);
      throw err;
    }
  };
  return db;
}

/** Whether this handle runs on the embedded single-connection PGlite. */
export function isEmbedded(db: Knex): boolean {
  return db.client.config.client !== 'pg';
}

/** Brings the schema up to date; safe to run from several processes at once. */
export async function migrateLatest(db: Knex): Promise<void> {
  if (isEmbedded(db)) {
    await db.migrate.latest();
    return;
  }
  // Several servers starting on one database would race to create Knex's own
  // tables; an advisory lock held by one connection makes the others wait
  // until the first has migrated (the migration itself runs on the pool).
  await db.transaction(async (trx) => {
    await trx.raw('select pg_advisory_xact_lock(hashtext(?))', ['knex-migrations']);
    await db.migrate.latest();
  });
}

/** A cheap round trip, for health checks. */
export async function ping(db: Knex): Promise<void> {
  await db.raw('select 1');
}

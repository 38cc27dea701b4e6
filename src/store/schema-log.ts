import type { Db } from './db.ts';
import { paged, type Page } from './paging.ts';

/** One applied migration, as Knex records it (its own table, `knex_migrations`). */
export interface SchemaLogRow {
  id: number;
  name: string;
  migration_time: Date;
}

export interface SchemaLogQuery extends Page {
  /** A migration's name without its extension (`20261207000040_job_suspension`). */
  version?: string | undefined;
}

/**
 * Camunda's schema log (ACT_GE_SCHEMA_LOG) is our migrations table: every
 * schema change applied, when. Names are stored with their extension;
 * `version` is the name without it.
 */
export async function querySchemaLog(db: Db, q: SchemaLogQuery): Promise<SchemaLogRow[]> {
  const b = db('knex_migrations').select('id', 'name', 'migration_time');
  if (q.version) b.whereIn('name', [`${q.version}.ts`, `${q.version}.js`, q.version]);
  return paged(b, q, [{ column: 'migration_time', order: 'asc' }], 'id');
}

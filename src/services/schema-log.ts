import type { Knex } from 'knex';
import { querySchemaLog, type SchemaLogQuery } from '../store/schema-log.ts';
import type { Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';

/** A migration's file name as Camunda's schema `version`: without its extension. */
const versionOf = (name: string) => name.replace(/\.(ts|js|mjs|cjs)$/, '');

/** GET/POST /schema/log: the schema changes applied to the database, for administrators. */
export function makeSchemaLogService(db: Knex) {
  return {
    async list(q: SchemaLogQuery, principal: Principal) {
      assertAdmin(principal);
      return (await querySchemaLog(db, q)).map((r) => ({ id: String(r.id), timestamp: new Date(r.migration_time), version: versionOf(r.name) }));
    },
  };
}

export type SchemaLogService = ReturnType<typeof makeSchemaLogService>;

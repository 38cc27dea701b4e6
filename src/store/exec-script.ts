import type { Knex } from 'knex';

/**
 * Runs a script of several statements one by one. PGlite's extended
 * protocol takes a single statement per call, and migrations must run the
 * same SQL on both drivers. Statements are split at a `;` that ends a line.
 */
export async function execScript(db: Knex, script: string): Promise<void> {
  for (const statement of script.split(/;\s*(?:--[^\n]*)?\n/)) {
    if (statement.replace(/--[^\n]*/g, '').trim()) await db.raw(statement);
  }
}

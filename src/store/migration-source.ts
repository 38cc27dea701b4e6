import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Knex } from 'knex';

interface MigrationFile {
  file: string;
  directory: string;
}

/**
 * The migrations folder as Knex reads it, for the TypeScript sources (a
 * checkout run through tsx) and for the compiled release alike. Knex records
 * each applied migration by its file name and refuses a folder whose names
 * differ from the recorded ones ("migration directory is corrupt"), so the
 * name is always the source's `.ts` one: a database migrated by either can be
 * run by the other, and an upgrade from a checkout to a release sees the same history.
 */
export function migrationSource(directory: string): Knex.MigrationSource<MigrationFile> {
  return {
    async getMigrations() {
      const files = fs.readdirSync(directory).filter((f) => /\.(ts|js)$/.test(f) && !f.endsWith('.d.ts'));
      // Knex's own folder loader orders by file name the same way (lodash sortBy).
      return files.sort().map((file) => ({ file, directory }));
    },
    getMigrationName: (m) => m.file.replace(/\.js$/, '.ts'),
    async getMigration(m) {
      return import(pathToFileURL(path.join(m.directory, m.file)).href);
    },
  };
}

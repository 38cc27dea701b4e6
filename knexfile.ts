// Knex CLI configuration (`npx knex --knexfile knexfile.ts migrate:status` in a checkout,
// `npx knex --knexfile dist/knexfile.js …` in the release). `npm run migrate` is the usual way.
// It uses the same connection rules and migration folder as the server (DATABASE_URL, else PGlite in DATA_DIR).
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import ClientPGLite from 'knex-pglite';
import { migrationsDir } from './src/store/db.ts';
import { migrationSource } from './src/store/migration-source.ts';

const migrations = { migrationSource: migrationSource(migrationsDir) };
const dataDir = path.resolve(process.env.DATA_DIR || './data');
// PGlite needs the parent of its data directory to exist.
if (!process.env.DATABASE_URL) fs.mkdirSync(dataDir, { recursive: true });

const config: Knex.Config = process.env.DATABASE_URL
  ? { client: 'pg', connection: process.env.DATABASE_URL, migrations }
  : ({ client: ClientPGLite, dialect: 'postgres', connection: { filename: path.join(dataDir, 'pgdata') }, migrations } as Knex.Config);

export default config;

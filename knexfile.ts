// Knex CLI configuration: `npx knex --knexfile knexfile.ts migrate:latest`.
// It uses the same connection rules as the server (DATABASE_URL, else PGlite in DATA_DIR).
import fs from 'node:fs';
import path from 'node:path';
import type { Knex } from 'knex';
import ClientPGLite from 'knex-pglite';

const migrations = { directory: './migrations', loadExtensions: ['.ts'] };
const dataDir = path.resolve(process.env.DATA_DIR || './data');
// PGlite needs the parent of its data directory to exist.
if (!process.env.DATABASE_URL) fs.mkdirSync(dataDir, { recursive: true });

const config: Knex.Config = process.env.DATABASE_URL
  ? { client: 'pg', connection: process.env.DATABASE_URL, migrations }
  : ({ client: ClientPGLite, dialect: 'postgres', connection: { filename: path.join(dataDir, 'pgdata') }, migrations } as Knex.Config);

export default config;

import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Bearer tokens for API clients (Camunda Modeler, scripts). Only the SM3
// digest of a token is stored, so a database copy cannot be replayed.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table api_tokens (
      id text primary key,
      user_id text not null references users(id) on delete cascade,
      token_hash text not null unique,
      name text,
      created_at timestamptz not null default now(),
      expires_at timestamptz not null,
      revoked_at timestamptz
    );
    create index api_tokens_user_idx on api_tokens(user_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table api_tokens;
`);
}

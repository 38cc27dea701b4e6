import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Encryption at rest. `variables.key_id` names the key a sealed value was
// written under (null: stored as plain JSON); the read path goes by this
// column, never by the value's shape, so a plain Json variable that looks
// like an envelope is still plain. `encryption_keys` records a check value
// per key id ever used, so a server started with a wrong or missing key
// refuses to start instead of writing data nobody can read back.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table variables add column key_id text;
    create index variables_key_id_idx on variables (key_id) where key_id is not null;
    create table encryption_keys (
      key_id text primary key,
      check_value text not null,
      created_at timestamptz not null default now()
    );
  `);
}

// Down is for development: sealed values would be left behind as plain Json envelopes.
export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table encryption_keys;
    drop index variables_key_id_idx;
    alter table variables drop column key_id;
  `);
}

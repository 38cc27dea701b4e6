import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// The internet zone: a definition version may be marked public (startable by
// anyone on the public listener), and each public start gets a reference the
// citizen keeps to read its status. Only the SM3 digest of the reference is
// stored, so a copy of the database does not let anyone read a request.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table process_definitions add column is_public boolean not null default false;
    create table public_requests (
      reference_hash text primary key,
      process_instance_id text not null unique references process_instances(id) on delete cascade,
      created_at timestamptz not null default now()
    );
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table public_requests;
    alter table process_definitions drop column is_public;
  `);
}

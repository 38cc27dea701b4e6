import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Users and groups. A group per role of the organisation; `camunda-admin`
// (Camunda 7's name) marks administrators.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table users (
      id text primary key,
      first_name text,
      last_name text,
      email text,
      password_hash text not null,
      created_at timestamptz not null default now()
    );
    create table groups (
      id text primary key,
      name text,
      type text
    );
    create table memberships (
      user_id text not null references users(id) on delete cascade,
      group_id text not null references groups(id) on delete cascade,
      primary key (user_id, group_id)
    );
    create index memberships_group_idx on memberships(group_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table memberships, groups, users;
`);
}

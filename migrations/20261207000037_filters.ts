import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda 7's task filters (Tasklist's saved task lists, issue 18 item 5):
// a name, an owner, a stored task query and display properties, as Camunda
// keeps them. Camunda shares a filter through resource authorizations; this
// server authorizes by role, so a filter names the groups it is shared with
// (`shared_groups`), the one field of ours (docs/filters.md).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table filters (
      id text primary key,
      resource_type text not null default 'Task',
      name text not null,
      owner text not null,
      query jsonb not null default '{}'::jsonb,
      properties jsonb not null default '{}'::jsonb,
      shared_groups text[] not null default '{}',
      created_at timestamptz not null default now()
    );
    create index filters_owner_idx on filters(owner);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table filters;
  `);
}

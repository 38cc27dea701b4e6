import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// 抄送 (carbon copy, issue 17): an instance copied to a person by a step
// (its ccUsers / ccGroups properties, when it completes) or by the person
// working on it (POST /task/{id}/cc). One row per instance, task and
// recipient, unique, so a copy made twice stays one. A row is also what lets
// its recipient read the instance as a participant may (store/instances.ts);
// `read_at` is the recipient's own unread mark in "抄送我的".
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table carbon_copies (
      id text primary key,
      process_instance_id text not null,
      task_id text not null,
      activity_id text not null,
      user_id text not null,
      from_user_id text not null,
      message text,
      created_at timestamptz not null default now(),
      read_at timestamptz,
      unique (process_instance_id, task_id, user_id)
    );
    create index carbon_copies_user_idx on carbon_copies(user_id, created_at);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table carbon_copies;
  `);
}

import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Delegation (Camunda's owner / delegationState) and comments on tasks.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    alter table tasks add column delegation_state text;
    alter table tasks add column last_updated timestamptz;
    create table task_comments (
      id text primary key,
      task_id text not null references tasks(id) on delete cascade,
      process_instance_id text not null,
      user_id text not null,
      message text not null,
      time timestamptz not null default now()
    );
    create index task_comments_task_idx on task_comments(task_id, time);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table task_comments;
    alter table tasks drop column last_updated;
    alter table tasks drop column delegation_state;
  `);
}

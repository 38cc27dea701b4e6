import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda's task attachments (issue 18 item 4): a link (url) or content.
// Content is stored sealed (an envelope as variables have, key_id naming its
// key for re-encryption), bound to the attachment's id and task; `size` is
// the plaintext's length, for the answer's headers without opening it.
// Attachments go with their task, as comments do.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table task_attachments (
      id text primary key,
      task_id text not null references tasks(id) on delete cascade,
      process_instance_id text not null,
      user_id text not null,
      name text,
      description text,
      type text,
      url text,
      content jsonb,
      key_id text,
      size integer,
      create_time timestamptz not null default now(),
      check ((content is null) = (key_id is null)),
      check (content is not null or url is not null)
    );
    create index task_attachments_task_idx on task_attachments(task_id, create_time);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table task_attachments;`);
}

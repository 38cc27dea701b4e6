import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// External tasks (service tasks done by workers) and incidents. A lock is a
// worker id and an expiry in the row, so every server process sees the same
// locks and `for update skip locked` hands a task to one worker only.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table external_tasks (
      id text primary key,
      process_instance_id text not null references process_instances(id) on delete cascade,
      definition_id text not null,
      definition_key text not null,
      activity_id text not null,
      execution_id text not null,
      topic text not null,
      business_key text,
      priority integer not null default 0,
      worker_id text,
      lock_expiration_time timestamptz,
      retries integer,
      error_message text,
      error_details text,
      created_at timestamptz not null default now(),
      end_time timestamptz,
      end_reason text
    );
    create unique index external_tasks_execution_idx on external_tasks(process_instance_id, execution_id);
    create index external_tasks_fetch_idx on external_tasks(topic, priority desc, created_at) where end_time is null;

    create table incidents (
      id text primary key,
      incident_type text not null,
      process_instance_id text not null references process_instances(id) on delete cascade,
      definition_id text not null,
      activity_id text not null,
      configuration text,
      message text,
      created_at timestamptz not null default now(),
      end_time timestamptz,
      state text not null default 'open'
    );
    create index incidents_open_idx on incidents(process_instance_id) where end_time is null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table incidents, external_tasks;
`);
}

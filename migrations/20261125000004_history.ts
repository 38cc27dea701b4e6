import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Activity history: one row per element the engine entered, keyed by the
// engine's execution id so a replayed event cannot write a second row.
// `seq` orders rows written in one transaction (they share now()).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table activity_instances (
      seq bigserial primary key,
      process_instance_id text not null references process_instances(id) on delete cascade,
      execution_id text not null,
      activity_id text not null,
      activity_name text,
      activity_type text not null,
      task_id text,
      assignee text,
      start_time timestamptz not null default now(),
      end_time timestamptz,
      canceled boolean not null default false
    );
    create unique index activity_instances_execution_idx on activity_instances(process_instance_id, execution_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table activity_instances;
`);
}

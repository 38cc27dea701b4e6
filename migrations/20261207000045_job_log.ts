import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda's historic job log (issue 18): a row for each instance timer
// (the jobs GET /job shows) as it was created, as a firing failed, as it
// fired (success) and as it was removed without firing (deletion), each
// written by store/timers.ts in the transaction of that change. `seq` orders
// rows written in one transaction; gone with its instance's history.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table job_log (
      id text primary key,
      seq bigserial not null,
      time timestamptz not null default now(),
      job_id text not null,
      process_instance_id text not null references process_instances(id) on delete cascade,
      definition_id text not null,
      definition_key text not null,
      activity_id text not null,
      execution_id text not null,
      timer_type text not null,
      expression text,
      due_at timestamptz,
      retries integer not null,
      priority bigint not null,
      error_message text,
      state text not null
    );
    create index job_log_instance_idx on job_log(process_instance_id, seq);
    create index job_log_job_idx on job_log(job_id);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, 'drop table job_log;');
}

import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda's batches (first kind: instance migration, /migration/executeAsync).
// A batch row holds its configuration (the migration plan) and its figures;
// a job row is one instance to migrate. The scheduler claims pending jobs
// with `for update skip locked` and marks each done in the same transaction
// that migrates its instance, so a kill -9 leaves it pending, never half done
// or done twice. A batch that ended (all jobs done, or deleted without
// cascade) keeps its row with end_time: that is its history (/history/batch).
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table batches (
      id text primary key,
      type text not null,
      total_jobs integer not null,
      invocations_per_batch_job integer not null default 1,
      configuration jsonb not null,
      suspended boolean not null default false,
      tenant_id text,
      create_user_id text,
      start_time timestamptz not null default now(),
      end_time timestamptz
    );
    create table batch_jobs (
      id text primary key,
      batch_id text not null references batches(id) on delete cascade,
      process_instance_id text not null,
      state text not null default 'pending',
      locked_by text,
      locked_until timestamptz,
      exception_message text,
      done_at timestamptz
    );
    create unique index batch_jobs_instance_idx on batch_jobs(batch_id, process_instance_id);
    create index batch_jobs_pending_idx on batch_jobs(batch_id) where state = 'pending';
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, 'drop table batch_jobs, batches;');
}

import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Camunda's history cleanup job (issue 18 item 9) as a durable scheduled row:
// one row, of a fixed id so that several server processes starting at once
// make one. The scheduler claims it with `for update skip locked` and a lease,
// as it claims timers (store/leases.ts). due_at null: not scheduled (no
// window, not asked for). last_run_at / last_removed: what its last run did.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table history_cleanup_jobs (
      id text primary key,
      due_at timestamptz,
      locked_by text,
      locked_until timestamptz,
      attempts integer not null default 0,
      retries integer not null default 3,
      last_error text,
      created_at timestamptz not null default now(),
      last_run_at timestamptz,
      last_removed integer
    );
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, 'drop table history_cleanup_jobs;');
}

import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Armed timers of running instances (intermediate and boundary timer events).
// A row is written with the engine state that armed it and deleted with the
// one that fired or cancelled it; the scheduler claims due rows with
// `for update skip locked` and marks them claimed until `locked_until`, so a
// server that dies mid-fire only delays the timer, never doubles it.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table timers (
      id text primary key,
      process_instance_id text not null references process_instances(id) on delete cascade,
      definition_id text not null,
      activity_id text not null,
      execution_id text not null,
      timer_type text not null,
      expression text,
      due_at timestamptz not null,
      created_at timestamptz not null default now(),
      locked_by text,
      locked_until timestamptz,
      attempts integer not null default 0,
      last_error text
    );
    create unique index timers_execution_idx on timers(process_instance_id, execution_id);
    create index timers_due_idx on timers(due_at);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table timers;
`);
}

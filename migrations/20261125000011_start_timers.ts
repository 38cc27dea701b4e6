import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Timer start events of the latest version of each process: the scheduled
// cycles (backup verification, patch cycle, patrol). One row per start
// event; a new version replaces its key's rows, so an identical redeploy
// (no new version) changes nothing and a cycle is never armed twice.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table start_timers (
      id text primary key,
      definition_id text not null references process_definitions(id) on delete cascade,
      definition_key text not null,
      event_id text not null,
      timer_type text not null,
      expression text not null,
      due_at timestamptz not null,
      repeats_left integer,
      locked_by text,
      locked_until timestamptz,
      attempts integer not null default 0,
      last_error text
    );
    create unique index start_timers_event_idx on start_timers(definition_id, event_id);
    create index start_timers_key_idx on start_timers(definition_key);
    create index start_timers_due_idx on start_timers(due_at);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table start_timers;
`);
}

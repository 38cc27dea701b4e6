import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Messages thrown by a process (a throw or end event with a message) for
// the server to deliver: a failed backup or a patrol anomaly raises a
// security incident. The row is written in the transaction of the run that
// threw it and removed in the transaction that delivers it, so a message is
// delivered once, even across a crash. The lease columns are the timers'.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table message_outbox (
      id text primary key,
      message_name text not null,
      business_key text,
      variables jsonb not null default '{}',
      source_process_instance_id text not null,
      source_activity_id text not null,
      source_execution_id text not null,
      created_at timestamptz not null default now(),
      due_at timestamptz not null default now(),
      locked_by text,
      locked_until timestamptz,
      attempts integer not null default 0,
      last_error text
    );
    create index message_outbox_due_idx on message_outbox(due_at);
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `drop table message_outbox;
`);
}

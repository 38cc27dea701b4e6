import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Message correlation. A subscription is an element waiting for a message
// (intermediate catch, receive task, boundary event), written in the same
// transaction as the engine state that opened it. Message start events are
// listed per definition; a process with several start events keeps one
// compiled form per message start, and an instance remembers which it runs.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table message_subscriptions (
      process_instance_id text not null references process_instances(id) on delete cascade,
      execution_id text not null,
      activity_id text not null,
      message_id text not null,
      message_name text not null,
      created_at timestamptz not null default now(),
      primary key (process_instance_id, execution_id)
    );
    create index message_subscriptions_name_idx on message_subscriptions(message_name);
    alter table process_definitions add column message_starts jsonb not null default '[]'::jsonb;
    alter table process_instances add column start_event_id text;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    alter table process_instances drop column start_event_id;
    alter table process_definitions drop column message_starts;
    drop table message_subscriptions;
  `);
}

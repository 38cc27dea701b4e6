import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Notifications (issue 17). `notifications` is the in-app channel (站内信):
// one row per recipient and event, written in the transaction of the event
// that causes it, read/unread per row. `notification_outbox` holds what an
// outside channel (email) still has to deliver, written in the same
// transaction and sent after commit by the scheduler (lease columns as the
// timers'); a sent row keeps `sent_at`, one that ran out of attempts
// `failed_at` with its last error. Both carry an idempotency key, unique, so
// an event noticed twice notifies once. `task_urges` records each 催办 (urge)
// of a task, by whom and when: the rate limit reads it.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table notifications (
      id text primary key,
      user_id text not null,
      type text not null,
      idempotency_key text not null unique,
      title text not null,
      body text not null,
      task_id text,
      process_instance_id text,
      created_at timestamptz not null default now(),
      read_at timestamptz
    );
    create index notifications_user_idx on notifications(user_id, created_at);
    create table notification_outbox (
      id text primary key,
      channel text not null,
      user_id text not null,
      address text not null,
      idempotency_key text not null unique,
      subject text not null,
      body text not null,
      created_at timestamptz not null default now(),
      due_at timestamptz not null default now(),
      locked_by text,
      locked_until timestamptz,
      attempts integer not null default 0,
      last_error text,
      sent_at timestamptz,
      failed_at timestamptz
    );
    create table task_urges (
      id text primary key,
      task_id text not null,
      process_instance_id text not null,
      user_id text not null,
      message text not null,
      urged_at timestamptz not null
    );
    create index task_urges_task_idx on task_urges(task_id, urged_at);
    create index notification_outbox_due_idx on notification_outbox(due_at) where sent_at is null and failed_at is null;
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table task_urges;
    drop table notification_outbox;
    drop table notifications;
  `);
}

import type { Knex } from 'knex';
import { execScript } from '../src/store/exec-script.ts';

// Deadline reminders and per-user preferences (issue 17).
// `task_reminders`: the due-soon and overdue reminders a task with a due date
// still has to send, one row per task and kind, with the lease columns the
// scheduler's other sources have (due_at, locked_by, locked_until, attempts,
// last_error). A row is written with the task (or with a new due date, which
// replaces it), deleted when it fires or when the task ends; `task_due` is the
// due date it was armed for, part of the notification's idempotency key.
// `notification_preferences`: a user's own choices of channel and quiet hours
// (mail held until they end); a user without a row has the defaults.
export async function up(db: Knex): Promise<void> {
  await execScript(db, `
    create table task_reminders (
      id text primary key,
      task_id text not null,
      kind text not null,
      task_due timestamptz not null,
      due_at timestamptz not null,
      locked_by text,
      locked_until timestamptz,
      attempts integer not null default 0,
      last_error text,
      unique (task_id, kind)
    );
    create index task_reminders_due_idx on task_reminders(due_at);
    create table notification_preferences (
      user_id text primary key,
      email boolean not null default true,
      quiet_start text,
      quiet_end text,
      time_zone text not null default 'Asia/Shanghai',
      updated_at timestamptz not null default now()
    );
  `);
}

export async function down(db: Knex): Promise<void> {
  await execScript(db, `
    drop table notification_preferences;
    drop table task_reminders;
  `);
}

import type { Db } from './db.ts';

/** The two deadline reminders of a task. */
export type ReminderKind = 'due-soon' | 'overdue';

/** A reminder a task with a due date still has to send (table task_reminders). */
export interface ReminderRow {
  id: string;
  task_id: string;
  kind: ReminderKind;
  /** The task's due date it was armed for. */
  task_due: Date;
  /** When it is sent. */
  due_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: number;
  last_error: string | null;
}

export type NewReminderRow = Pick<ReminderRow, 'id' | 'task_id' | 'kind' | 'task_due' | 'due_at'>;

/** Arms reminders, replacing what the same task and kind had (a new due date moves them). */
export async function upsertReminders(db: Db, rows: NewReminderRow[]): Promise<void> {
  if (!rows.length) return;
  await db('task_reminders').insert(rows).onConflict(['task_id', 'kind'])
    .merge({ id: db.raw('excluded.id'), task_due: db.raw('excluded.task_due'), due_at: db.raw('excluded.due_at'), locked_by: null, locked_until: null, attempts: 0, last_error: null });
}

/** Drops the reminders of these tasks (they ended, or lost their due date). */
export async function deleteRemindersOfTasks(db: Db, taskIds: readonly string[]): Promise<void> {
  if (!taskIds.length) return;
  await db('task_reminders').whereIn('task_id', [...taskIds]).delete();
}

/** Removes a reminder that was sent; false if it was replaced or removed meanwhile (by a new due date, the task ending). */
export async function deleteReminder(db: Db, id: string): Promise<boolean> {
  return (await db('task_reminders').where({ id }).delete()) > 0;
}

/** Locks a reminder row until the transaction ends; undefined when it is gone or was re-armed. */
export async function lockReminder(db: Db, id: string): Promise<ReminderRow | undefined> {
  return db('task_reminders').where({ id }).forUpdate().first();
}

export async function listReminders(db: Db, taskId: string): Promise<ReminderRow[]> {
  return db('task_reminders').where({ task_id: taskId }).orderBy('due_at');
}

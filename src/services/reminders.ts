import { randomUUID } from 'node:crypto';
import { DateTime, Duration } from 'luxon';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import { deleteReminder, deleteRemindersOfTasks, lockReminder, upsertReminders, type NewReminderRow, type ReminderRow } from '../store/reminders.ts';
import { findTask } from '../store/tasks.ts';
import { makeLeasedSource } from './leases.ts';
import type { NotifyEvents } from './notify-events.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { notifiedTask } from './tasks.ts';

/*
 * Deadline reminders (即将到期 / 逾期). A task with a due date gets two rows
 * in task_reminders, armed in the transaction that opens it or changes its
 * due date: "due soon" at the due date less the lead time (notifyDueSoon,
 * PT24H by default) and "overdue" at the due date. The scheduler claims them
 * as it claims timers, so they survive restarts and several servers share
 * them; firing writes the notification and deletes the row in one
 * transaction (once), and the notification's key names the task and due
 * date (once again, should a row ever fire twice). A task that ends loses its
 * rows with it (store/tasks.ts).
 */

/** A task whose due date was set: at opening, or by PUT /task/{id}. */
export interface DueTask {
  id: string;
  definitionId: string;
  taskDefinitionKey: string;
  due: Date | null;
}

/**
 * Arms (or re-arms) the reminders of `tasks` for their due dates, replacing
 * what they had. Due soon is left out when its lead time is off or the task is
 * already past due; overdue when the task says notifyOverdue=false.
 */
export async function armReminders(trx: Db, clock: Clock, events: NotifyEvents, notifier: TopicNotifier, tasks: DueTask[]): Promise<void> {
  if (!tasks.length) return;
  await deleteRemindersOfTasks(trx, tasks.map((t) => t.id));
  const now = await clock.now(trx as Knex.Transaction);
  const rows: NewReminderRow[] = [];
  for (const task of tasks.filter((t) => t.due)) {
    const settings = await events.settingsOf(trx, task.definitionId);
    if (!settings?.process) continue;
    const due = task.due!;
    const lead = settings.dueSoonOf(task.taskDefinitionKey);
    if (lead && due > now) {
      const at = DateTime.fromJSDate(due).minus(Duration.fromISO(lead)).toJSDate();
      rows.push({ id: randomUUID(), task_id: task.id, kind: 'due-soon', task_due: due, due_at: at });
    }
    if (settings.overdueOf(task.taskDefinitionKey)) rows.push({ id: randomUUID(), task_id: task.id, kind: 'overdue', task_due: due, due_at: due });
  }
  await upsertReminders(trx, rows);
  // The scheduler may be asleep until a later due time: wake it as an armed timer does.
  if (rows.length) await notifier.announce(trx, [TIMERS_TOPIC]);
}

/** The scheduler's source for reminders (see scheduler/timers.ts). */
export function makeReminderSource(db: Knex, clock: Clock, events: NotifyEvents) {
  const leased = makeLeasedSource<ReminderRow>(db, 'task_reminders', clock);
  return {
    claimDue: leased.claimDue,
    msUntilNext: leased.msUntilNext,
    fail: leased.fail,
    /** Notifies and deletes the row in one transaction; a row re-armed or dropped meanwhile is gone and does nothing. */
    async fire(row: ReminderRow): Promise<void> {
      await db.transaction(async (trx) => {
        const held = await lockReminder(trx, row.id);
        if (!held) return;
        const task = await findTask(trx, held.task_id);
        const current = task && !task.end_time && task.due && task.due.getTime() === new Date(held.task_due).getTime();
        if (current) await events.reminded(trx, held.kind, notifiedTask(task), new Date(held.task_due));
        await deleteReminder(trx, held.id);
      });
    },
  };
}

export type ReminderSource = ReturnType<typeof makeReminderSource>;

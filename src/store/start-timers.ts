import type { Db } from './db.ts';

export interface StartTimerRow {
  id: string;
  definition_id: string;
  definition_key: string;
  event_id: string;
  timer_type: 'timeDate' | 'timeDuration' | 'timeCycle';
  expression: string;
  due_at: Date;
  repeats_left: number | null;
  /** When a start-less cycle (`R/P1M`) was armed: its occurrences count from here. */
  anchor_at: Date | null;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: number;
  last_error: string | null;
}

export type NewStartTimerRow = Pick<StartTimerRow, 'id' | 'definition_id' | 'definition_key' | 'event_id' | 'timer_type' | 'expression' | 'due_at' | 'repeats_left' | 'anchor_at'>;

export interface NextFiring {
  due: Date;
  repeatsLeft: number | null;
  anchor?: Date | null | undefined;
}

/** Makes `rows` the only start timers of `key`. */
export async function replaceStartTimers(db: Db, key: string, rows: NewStartTimerRow[]): Promise<void> {
  await db('start_timers').where({ definition_key: key }).delete();
  if (rows.length) await db('start_timers').insert(rows);
}

export async function listStartTimers(db: Db, key?: string): Promise<StartTimerRow[]> {
  const q = db('start_timers').select('*').orderBy('due_at');
  if (key) q.where({ definition_key: key });
  return q;
}

/**
 * Moves a fired start timer on to its next occurrence (or removes it) if it
 * is still the one that was claimed; false when it changed meanwhile (the
 * process was redeployed), so the start that fired it is rolled back.
 */
export async function advanceStartTimer(db: Db, claimed: StartTimerRow, next: NextFiring | null): Promise<boolean> {
  const q = db('start_timers').where({ id: claimed.id, due_at: claimed.due_at });
  // `returning` rather than the affected count: knex-pglite reports no count for a delete.
  const rows = next
    ? await q.update({
      due_at: next.due, repeats_left: next.repeatsLeft, anchor_at: next.anchor ?? null, locked_by: null, locked_until: null, attempts: 0, last_error: null,
    }).returning('id')
    : await q.delete().returning('id');
  return rows.length === 1;
}

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
  /** Set aside: a newer version owns the key. Never claimed; given back if that version is deleted. */
  superseded: boolean;
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

/**
 * Makes `rows` the start timers of `key`: the ones it had (an older
 * version's) are set aside as they stand, not deleted, so deleting the new
 * version can give them back (see restoreStartTimer).
 */
export async function takeOverStartTimers(db: Db, key: string, rows: NewStartTimerRow[]): Promise<void> {
  await db('start_timers').where({ definition_key: key, superseded: false }).update({ superseded: true, locked_by: null, locked_until: null });
  if (rows.length) await db('start_timers').insert(rows);
}

/** The start timers in force (of each key's newest version), soonest first. */
export async function listStartTimers(db: Db, key?: string): Promise<StartTimerRow[]> {
  const q = db('start_timers').select('*').where({ superseded: false }).orderBy('due_at');
  if (key) q.where({ definition_key: key });
  return q;
}

/** The start timers of one version that a newer version set aside. */
export async function listSupersededStartTimers(db: Db, definitionId: string): Promise<StartTimerRow[]> {
  return db('start_timers').select('*').where({ definition_id: definitionId, superseded: true });
}

/** Puts a set-aside start timer back in force at `next`, or removes it when it has nothing left to fire. */
export async function restoreStartTimer(db: Db, id: string, next: NextFiring | null): Promise<void> {
  const q = db('start_timers').where({ id });
  if (!next) {
    await q.delete();
    return;
  }
  await q.update({
    superseded: false, due_at: next.due, repeats_left: next.repeatsLeft, anchor_at: next.anchor ?? null,
    locked_by: null, locked_until: null, attempts: 0, last_error: null,
  });
}

/**
 * Moves a fired start timer on to its next occurrence (or removes it) if it
 * is still the one that was claimed and still in force; false when it
 * changed meanwhile (fired elsewhere, or a new version took the key over),
 * so the start that fired it is rolled back.
 */
export async function advanceStartTimer(db: Db, claimed: StartTimerRow, next: NextFiring | null): Promise<boolean> {
  // Compared to the millisecond: the claimed row came back as a JS Date, and a due time
  // written by SQL (now()) has microseconds that would never compare equal.
  const q = db('start_timers').where({ id: claimed.id, superseded: false })
    .whereRaw(`date_trunc('milliseconds', due_at) = ?`, [claimed.due_at]);
  // `returning` rather than the affected count: knex-pglite reports no count for a delete.
  const rows = next
    ? await q.update({
      due_at: next.due, repeats_left: next.repeatsLeft, anchor_at: next.anchor ?? null, locked_by: null, locked_until: null, attempts: 0, last_error: null,
    }).returning('id')
    : await q.delete().returning('id');
  return rows.length === 1;
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { MessageStart } from '../engine/compile.ts';
import { firstOccurrence, nextOccurrence, resumedOccurrence } from '../engine/schedule.ts';
import { ConflictError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { findDefinition, type DefinitionRow } from '../store/definitions.ts';
import {
  advanceStartTimer, listStartTimers, listSupersededStartTimers, restoreStartTimer, takeOverStartTimers, type StartTimerRow,
} from '../store/start-timers.ts';
import { SYSTEM } from '../types.ts';
import type { InstanceService } from './instances.ts';
import { makeLeasedSource } from './leases.ts';

const timerStarts = (def: DefinitionRow): MessageStart[] => (def.message_starts ?? []).filter((m) => m.kind === 'timer' && m.timer);

/**
 * Makes `def` (a new newest version of its key) the owner of the key's
 * start timers, armed from `now`; the previous version's are set aside as
 * they stand. Call in the transaction that deployed the version.
 */
export async function armStartTimers(trx: Db, key: string, def: DefinitionRow, now: Date, zone: string): Promise<void> {
  const rows = timerStarts(def).flatMap((m) => {
    const first = firstOccurrence(m.timer!, now, zone);
    return first ? [{
      id: randomUUID(), definition_id: def.id, definition_key: def.key, event_id: m.eventId, timer_type: m.timer!.timerType,
      expression: m.timer!.expression, due_at: first.due, repeats_left: first.repeatsLeft, anchor_at: first.anchor ?? null,
    }] : [];
  });
  await takeOverStartTimers(trx, key, rows);
}

/**
 * Gives `def` (the newest version again, its successor deleted) back the
 * start timers it had when it was superseded, as they stood: a one-shot
 * that fired, or a finished R3 cycle, had no row left and stays done; one
 * whose time passed meanwhile is not fired late; a cycle goes on from its
 * next occurrence. Nothing is re-armed from scratch. Call in the
 * transaction that deleted the successor.
 */
export async function restoreStartTimers(trx: Db, def: DefinitionRow, now: Date, zone: string): Promise<void> {
  for (const row of await listSupersededStartTimers(trx, def.id)) {
    const spec = { timerType: row.timer_type, expression: row.expression };
    await restoreStartTimer(trx, row.id, resumedOccurrence(spec, { due: row.due_at, repeatsLeft: row.repeats_left, anchor: row.anchor_at }, now, zone));
  }
}

/** Timer start events: the scheduled cycles that start instances. */
export function makeStartTimerService(db: Knex, instances: InstanceService, clock: Clock, zone: string) {
  return {
    ...makeLeasedSource<StartTimerRow>(db, 'start_timers', clock),

    /**
     * Starts one instance and moves the timer to its next occurrence in the
     * same transaction: after downtime an overdue cycle fires once and then
     * keeps its schedule, and a redeploy in between rolls the start back.
     */
    async fire(timer: StartTimerRow): Promise<void> {
      const def = await findDefinition(db, timer.definition_id);
      const start = def && timerStarts(def).find((m) => m.eventId === timer.event_id);
      if (!def || !start) throw new ConflictError(`定时启动已不存在 / start timer ${timer.id} no longer exists`);
      const moved = new ConflictError(`定时启动已变化 / start timer ${timer.id} changed meanwhile`);
      try {
        await instances.startDefinition(def, { variables: {} }, SYSTEM, start, async (trx) => {
          const now = await clock.now(trx as Knex.Transaction);
          const next = nextOccurrence(start.timer!, { due: timer.due_at, repeatsLeft: timer.repeats_left, anchor: timer.anchor_at }, now, zone);
          if (!(await advanceStartTimer(trx, timer, next))) throw moved;
        });
      } catch (err) {
        // This occurrence fired elsewhere, or a new version took the key over: the start is rolled
        // back and nothing failed. Recording a failure would mark a healthy row (attempts, last_error).
        if (err === moved) return;
        throw err;
      }
    },

    /** The armed start timers (Camunda's job definitions of timer start events). */
    list: (key?: string) => listStartTimers(db, key),
  };
}

export type StartTimerService = ReturnType<typeof makeStartTimerService>;

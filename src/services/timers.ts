import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { claimDueTimers, nextDueAt, releaseFailedTimer, timerExists, type TimerRow } from '../store/timers.ts';
import type { Execution } from './execution.ts';

/** The scheduler's user in history: timers fire on nobody's behalf. */
export const SYSTEM_USER = 'system';

/** Armed timers: claiming the due ones, firing one, recording a failure. */
export function makeTimerService(db: Knex, execution: Execution, clock: Clock) {
  return {
    /** Claims due timers for `owner` (database-side locking; see store/timers.ts). */
    async claimDue(owner: string, limit: number, lockMs: number): Promise<TimerRow[]> {
      const now = await clock.now();
      return claimDueTimers(db, now, owner, new Date(now.getTime() + lockMs), limit);
    },

    /**
     * Fires one timer: resumes its instance, lets the timer complete, saves.
     * The timer row goes in the same transaction, so it fires at most once;
     * if it was cancelled meanwhile (the task was done first), nothing happens.
     */
    async fire(timer: TimerRow): Promise<void> {
      await execution.advance(
        { instanceId: timer.process_instance_id, definitionId: timer.definition_id, activityId: timer.activity_id, executionId: timer.execution_id },
        { variables: {}, by: SYSTEM_USER, action: { kind: 'timer' }, stillOpen: () => timerExists(db, timer.id) },
      );
    },

    /** Puts a failed timer back, to be tried after a backoff that grows with each attempt (capped at an hour). */
    async fail(timer: TimerRow, error: unknown): Promise<void> {
      const now = await clock.now();
      const backoffMs = Math.min(3600_000, 1000 * 2 ** Math.min(timer.attempts, 12));
      await releaseFailedTimer(db, timer.id, error instanceof Error ? error.message : String(error), new Date(now.getTime() + backoffMs));
    },

    /** How long until the next timer could be claimed (undefined: none armed). */
    async msUntilNext(): Promise<number | undefined> {
      const [next, now] = await Promise.all([nextDueAt(db), clock.now()]);
      return next ? Math.max(0, next.getTime() - now.getTime()) : undefined;
    },
  };
}

export type TimerService = ReturnType<typeof makeTimerService>;

import type { Clock } from '../clock.ts';
import type { Db } from '../store/db.ts';
import { claimDue, nextClaimableAt, releaseFailed, type LeasedTable } from '../store/leases.ts';

/** When a row is tried again after its n-th failed attempt (n from 0): 1 s, 2 s, 4 s… later, capped at an hour. */
export async function retryAt(clock: Clock, attempts: number): Promise<Date> {
  const now = await clock.now();
  return new Date(now.getTime() + Math.min(3600_000, 1000 * 2 ** Math.min(attempts, 12)));
}

/**
 * The scheduler side shared by instance timers and start timers: claim the
 * due rows, put a failed one back with a backoff that grows with each
 * attempt (capped at an hour), and say how long until the next may be due.
 */
export function makeLeasedSource<Row extends { id: string; attempts: number }>(db: Db, table: LeasedTable, clock: Clock) {
  return {
    async claimDue(owner: string, limit: number, lockMs: number): Promise<Row[]> {
      const now = await clock.now();
      return claimDue<Row>(db, table, now, owner, new Date(now.getTime() + lockMs), limit);
    },
    async fail(row: Row, error: unknown): Promise<void> {
      await releaseFailed(db, table, row.id, error instanceof Error ? error.message : String(error), await retryAt(clock, row.attempts));
    },
    async msUntilNext(): Promise<number | undefined> {
      const [next, now] = await Promise.all([nextClaimableAt(db, table), clock.now()]);
      return next ? Math.max(0, next.getTime() - now.getTime()) : undefined;
    },
  };
}

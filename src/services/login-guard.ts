import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { TooManyAttemptsError } from '../errors.ts';
import { clearFailures, lockFailureRows, uncountAttempt, writeFailureState, type FailureState } from '../store/login-failures.ts';

/** Failures allowed before a lock: per user name, and per source address (many staff may share one NAT). */
const FREE_FAILURES = { user: 5, addr: 20 } as const;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 3600_000;
/** A streak of failures is forgotten after this long without another. */
const FORGET_MS = 15 * 60_000;

/** One password attempt, counted before the password was checked; settled by `succeeded` or `failed`. */
export interface LoginAttempt {
  userId: string;
  counted: { key: string; before: FailureState; after: FailureState }[];
}

/** How long the `failures`-th failure in a streak locks `key`, or null while it is within the free ones. */
function lockMsOf(key: string, failures: number): number | null {
  const free = key.startsWith('user:') ? FREE_FAILURES.user : FREE_FAILURES.addr;
  return failures < free ? null : Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** Math.min(failures - free, 20));
}

/**
 * Slows password guessing: after a few failures for one user name or from
 * one address, further attempts are refused (429, Retry-After) for a time
 * that doubles with each failure, capped at an hour. While locked, no
 * password is checked at all, so guessing also costs the server no KDF
 * time. Counts live in the database: every server process sees them.
 *
 * An attempt is counted as a failure *before* its password is checked, in
 * one transaction holding the rows of its user name and address, and the
 * attempt that reaches the limit sets the lock itself. So a burst of
 * parallel guesses gets no more password checks than the limit allows; a
 * right password then takes its attempt back.
 */
export function makeLoginGuard(db: Knex, clock: Clock, log?: Logger) {
  const keysOf = (userId: string, source?: string) => [`user:${userId}`, ...(source ? [`addr:${source}`] : [])];

  return {
    /** Counts an attempt on the user name and the address, or throws TooManyAttemptsError if either is locked. */
    async reserve(userId: string, source?: string): Promise<LoginAttempt> {
      const counted = await db.transaction(async (trx) => {
        const now = await clock.now(trx);
        const rows = await lockFailureRows(trx, keysOf(userId, source), now);
        const until = Math.max(...rows.map((r) => r.locked_until?.getTime() ?? 0));
        if (until > now.getTime()) {
          const s = Math.max(1, Math.ceil((until - now.getTime()) / 1000));
          throw new TooManyAttemptsError(`登录失败次数过多，请 ${s} 秒后再试 / too many failed logins; try again in ${s} s`, s);
        }
        const counts: LoginAttempt['counted'] = [];
        for (const { key, ...before } of rows) {
          const failures = before.failures > 0 && before.last_failure.getTime() >= now.getTime() - FORGET_MS ? before.failures + 1 : 1;
          const lockMs = lockMsOf(key, failures);
          const after = { failures, last_failure: now, locked_until: lockMs == null ? before.locked_until : new Date(now.getTime() + lockMs) };
          await writeFailureState(trx, key, after);
          counts.push({ key, before, after });
        }
        return counts;
      });
      return { userId, counted };
    },

    /** The password was wrong: the attempt stays counted. */
    failed(attempt: LoginAttempt): void {
      for (const { key, before, after } of attempt.counted) {
        if (after.locked_until && after.locked_until !== before.locked_until) {
          log?.warn({ key, failures: after.failures, lockMs: after.locked_until.getTime() - after.last_failure.getTime() }, 'login locked after repeated failures');
        }
      }
    },

    /**
     * A right password ends the user's streak, and takes the attempt back
     * from the address (not its streak: one valid account must not unlock
     * guessing others).
     */
    async succeeded(attempt: LoginAttempt): Promise<void> {
      await clearFailures(db, `user:${attempt.userId}`);
      for (const c of attempt.counted) {
        if (!c.key.startsWith('user:')) await uncountAttempt(db, c.key, c.after, c.before);
      }
    },
  };
}

export type LoginGuard = ReturnType<typeof makeLoginGuard>;

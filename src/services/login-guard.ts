import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { TooManyAttemptsError } from '../errors.ts';
import {
  clearFailures, countRefusal, lockFailureRows, resetRefusals, uncountAttempt, writeFailureState, type FailureState, type LoginFailureRow,
} from '../store/login-failures.ts';
import type { TraceService } from './trace.ts';

/** Failures allowed before a lock: per user name, and per source address (many staff may share one NAT). */
const FREE_FAILURES = { user: 5, addr: 20 } as const;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 3600_000;
/** A streak of failures is forgotten after this long without another, counted from the end of its lock. */
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
 * Whether a failure at `now` continues the streak of `before`. The streak
 * is remembered for FORGET_MS after its last failure *or after its lock
 * ends*, whichever is later: were it forgotten while a lock ran (a lock
 * grows past FORGET_MS from the tenth failure on), waiting out the lock
 * would start a fresh streak with five free guesses, and locks would cycle
 * 30 s ... 16 min instead of reaching the hour.
 */
function continuesStreak(before: FailureState, now: Date): boolean {
  const end = Math.max(before.last_failure.getTime(), before.locked_until?.getTime() ?? 0);
  return before.failures > 0 && now.getTime() - end <= FORGET_MS;
}

/** Which kind of key: a user name or a source address. */
const kindOf = (key: string) => (key.startsWith('user:') ? 'user' : 'address');

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
 *
 * Refused attempts are traced once per lock, not once each (anyone may
 * send them, and the trace cannot shrink): the first refusal of a lock
 * writes a `LoginLocked` row in the transaction that counts it; later ones
 * only count (`login_failures.refused`). The trace is append-only, so the
 * count is written when it is final: the first attempt after the lock has
 * ended writes one more `LoginLocked` row, `details.refusedWhileLocked`,
 * when more than one attempt was refused.
 */
export function makeLoginGuard(db: Knex, clock: Clock, options: { log?: Logger | undefined; trace?: Pick<TraceService, 'record'> | undefined } = {}) {
  const { log, trace } = options;
  const keysOf = (userId: string, source?: string) => [`user:${userId}`, ...(source ? [`addr:${source}`] : [])];

  /** Counts a refused attempt; the first of a lock is traced. Returns the seconds until the lock ends. */
  async function refuse(trx: Knex.Transaction, locking: LoginFailureRow[], now: Date, actor: { userId: string; source?: string | undefined }): Promise<number> {
    const until = Math.max(...locking.map((r) => r.locked_until!.getTime()));
    const seconds = Math.max(1, Math.ceil((until - now.getTime()) / 1000));
    await countRefusal(trx, locking.map((r) => r.key));
    if (locking.some((r) => r.refused === 0)) {
      await trace?.record(trx, actor, {
        operation: 'LoginLocked', entityType: 'User', entityId: actor.userId,
        details: { locked: locking.map((r) => kindOf(r.key)), lockedUntil: new Date(until).toISOString() },
      });
    }
    return seconds;
  }

  /** Traces the count of attempts refused during locks that have ended, and starts those counts again. */
  async function settle(trx: Knex.Transaction, rows: LoginFailureRow[], actor: { userId: string; source?: string | undefined }): Promise<void> {
    const ended = rows.filter((r) => r.refused > 0);
    if (!ended.length) return;
    const counted = ended.filter((r) => r.refused > 1);
    if (counted.length) {
      await trace?.record(trx, actor, counted.map((r) => ({
        operation: 'LoginLocked', entityType: 'User', entityId: actor.userId,
        details: { locked: kindOf(r.key), key: r.key, lockedUntil: r.locked_until?.toISOString() ?? null, refusedWhileLocked: r.refused },
      })));
    }
    await resetRefusals(trx, ended.map((r) => r.key));
  }

  return {
    /** Counts an attempt on the user name and the address, or throws TooManyAttemptsError if either is locked. */
    async reserve(userId: string, source?: string): Promise<LoginAttempt> {
      const actor = { userId, source };
      const outcome = await db.transaction(async (trx) => {
        const now = await clock.now(trx);
        const rows = await lockFailureRows(trx, keysOf(userId, source), now);
        const locking = rows.filter((r) => r.locked_until && r.locked_until.getTime() > now.getTime());
        // Returned, not thrown: the refusal's count and trace row must commit.
        if (locking.length) return { lockedFor: await refuse(trx, locking, now, actor), counts: [] };
        await settle(trx, rows, actor);
        const counts: LoginAttempt['counted'] = [];
        for (const { key, refused: _, ...before } of rows) {
          const failures = continuesStreak(before, now) ? before.failures + 1 : 1;
          const lockMs = lockMsOf(key, failures);
          const after = { failures, last_failure: now, locked_until: lockMs == null ? before.locked_until : new Date(now.getTime() + lockMs) };
          await writeFailureState(trx, key, after);
          counts.push({ key, before, after });
        }
        return { lockedFor: null, counts };
      });
      if (outcome.lockedFor !== null) {
        const s = outcome.lockedFor;
        throw new TooManyAttemptsError(`登录失败次数过多，请 ${s} 秒后再试 / too many failed logins; try again in ${s} s`, s);
      }
      return { userId, counted: outcome.counts };
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

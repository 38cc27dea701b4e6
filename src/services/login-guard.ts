import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Clock } from '../clock.ts';
import { TooManyAttemptsError } from '../errors.ts';
import { activeLock, clearFailures, countFailure, lockUntil } from '../store/login-failures.ts';

/** Failures allowed before a lock: per user name, and per source address (many staff may share one NAT). */
const FREE_FAILURES = { user: 5, addr: 20 } as const;
const FIRST_LOCK_MS = 30_000;
const MAX_LOCK_MS = 3600_000;
/** A streak of failures is forgotten after this long without another. */
const FORGET_MS = 15 * 60_000;

/**
 * Slows password guessing: after a few failures for one user name or from
 * one address, further attempts are refused (429, Retry-After) for a time
 * that doubles with each failure, capped at an hour. While locked, no
 * password is checked at all, so guessing also costs the server no KDF
 * time. Counts live in the database: every server process sees them.
 */
export function makeLoginGuard(db: Knex, clock: Clock, log?: Logger) {
  const keysOf = (userId: string, source?: string) => [`user:${userId}`, ...(source ? [`addr:${source}`] : [])];

  return {
    async check(userId: string, source?: string): Promise<void> {
      const now = await clock.now();
      const until = await activeLock(db, keysOf(userId, source), now);
      if (!until) return;
      const seconds = Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 1000));
      throw new TooManyAttemptsError(`登录失败次数过多，请 ${seconds} 秒后再试 / too many failed logins; try again in ${seconds} s`, seconds);
    },

    async failed(userId: string, source?: string): Promise<void> {
      const now = await clock.now();
      for (const key of keysOf(userId, source)) {
        const failures = await countFailure(db, key, now, new Date(now.getTime() - FORGET_MS));
        const free = key.startsWith('user:') ? FREE_FAILURES.user : FREE_FAILURES.addr;
        if (failures < free) continue;
        const lockMs = Math.min(MAX_LOCK_MS, FIRST_LOCK_MS * 2 ** Math.min(failures - free, 20));
        await lockUntil(db, key, new Date(now.getTime() + lockMs));
        log?.warn({ key, failures, lockMs }, 'login locked after repeated failures');
      }
    },

    /** A right password ends the user's streak (not the address's: one valid account must not unlock guessing others). */
    async succeeded(userId: string): Promise<void> {
      await clearFailures(db, `user:${userId}`);
    },
  };
}

export type LoginGuard = ReturnType<typeof makeLoginGuard>;

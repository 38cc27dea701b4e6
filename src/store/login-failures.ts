import type { Db } from './db.ts';

export interface LoginFailureRow {
  key: string;
  failures: number;
  last_failure: Date;
  locked_until: Date | null;
}

/** The latest lock among `keys` that is still in force at `now`, if any. */
export async function activeLock(db: Db, keys: string[], now: Date): Promise<Date | undefined> {
  const row = await db('login_failures').whereIn('key', keys).where('locked_until', '>', now).max({ until: 'locked_until' }).first();
  return row?.until ? new Date(row.until) : undefined;
}

/**
 * Counts one more failure for `key` (a streak older than `forgetBefore`
 * starts again at one) and returns the new count. One statement, so two
 * server processes counting at once both count.
 */
export async function countFailure(db: Db, key: string, now: Date, forgetBefore: Date): Promise<number> {
  const [row] = await db.raw(
    `insert into login_failures (key, failures, last_failure) values (?, 1, ?)
     on conflict (key) do update set
       failures = case when login_failures.last_failure < ? then 1 else login_failures.failures + 1 end,
       last_failure = excluded.last_failure
     returning failures`,
    [key, now, forgetBefore],
  ).then((r: { rows?: { failures: number }[] }) => r.rows ?? (r as unknown as { failures: number }[]));
  return Number(row.failures);
}

export async function lockUntil(db: Db, key: string, until: Date): Promise<void> {
  await db('login_failures').where({ key }).update({ locked_until: until });
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db('login_failures').where({ key }).delete();
}

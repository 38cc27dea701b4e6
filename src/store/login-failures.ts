import type { Db } from './db.ts';

export interface LoginFailureRow {
  key: string;
  failures: number;
  last_failure: Date;
  locked_until: Date | null;
  /** Attempts refused while locked, not yet traced as a count (see services/login-guard.ts). */
  refused: number;
}

/** What a login attempt counts on one key: the streak and its lock. */
export type FailureState = Omit<LoginFailureRow, 'key' | 'refused'>;

/**
 * The rows of `keys`, created empty where missing, each locked (FOR UPDATE)
 * until `trx` ends: attempts on the same user name or address wait for each
 * other here, in every server process, so no two read the same count. Keys
 * are taken in one order, so two attempts cannot deadlock.
 */
export async function lockFailureRows(trx: Db, keys: string[], now: Date): Promise<LoginFailureRow[]> {
  const sorted = [...new Set(keys)].sort();
  await trx('login_failures').insert(sorted.map((key) => ({ key, failures: 0, last_failure: now }))).onConflict('key').ignore();
  const rows: LoginFailureRow[] = await trx('login_failures').whereIn('key', sorted).orderBy('key').forUpdate();
  return rows.map((r) => ({
    key: r.key, failures: Number(r.failures), last_failure: new Date(r.last_failure), locked_until: r.locked_until ? new Date(r.locked_until) : null,
    refused: Number(r.refused),
  }));
}

export async function writeFailureState(db: Db, key: string, state: FailureState): Promise<void> {
  await db('login_failures').where({ key }).update(state);
}

/** Counts one attempt refused while `keys` are locked. */
export async function countRefusal(db: Db, keys: string[]): Promise<void> {
  await db('login_failures').whereIn('key', keys).increment('refused', 1);
}

/** The refusals of `keys` have been traced: their count starts again. */
export async function resetRefusals(db: Db, keys: string[]): Promise<void> {
  await db('login_failures').whereIn('key', keys).update({ refused: 0 });
}

/**
 * Takes back one counted attempt on `key` (the password was right): one
 * failure less, and the time and lock it set put back to `before`, unless
 * another attempt changed them since.
 */
export async function uncountAttempt(db: Db, key: string, counted: FailureState, before: FailureState): Promise<void> {
  await db('login_failures').where({ key }).update({
    failures: db.raw('greatest(failures - 1, 0)'),
    last_failure: db.raw('case when last_failure = ? then ?::timestamptz else last_failure end', [counted.last_failure, before.last_failure]),
    locked_until: counted.locked_until && counted.locked_until.getTime() !== before.locked_until?.getTime()
      ? db.raw('case when locked_until = ? then ?::timestamptz else locked_until end', [counted.locked_until, before.locked_until])
      : db.raw('locked_until'),
  });
  // A key back to no failures and no lock is forgotten: otherwise every address that ever signed in keeps a row.
  await db('login_failures').where({ key, failures: 0 }).whereNull('locked_until').delete();
}

export async function clearFailures(db: Db, key: string): Promise<void> {
  await db('login_failures').where({ key }).delete();
}

import type { Db } from './db.ts';

/** A user's own notification choices (table notification_preferences); a user without a row has the defaults. */
export interface PreferencesRow {
  user_id: string;
  email: boolean;
  /** Quiet hours as local "HH:mm" in `time_zone`, both or neither. */
  quiet_start: string | null;
  quiet_end: string | null;
  time_zone: string;
  updated_at: Date;
}

export type SavedPreferences = Omit<PreferencesRow, 'updated_at'>;

export async function findPreferences(db: Db, userId: string): Promise<PreferencesRow | undefined> {
  return db('notification_preferences').where({ user_id: userId }).first();
}

/** Writes a user's choices whole (PUT), replacing what they had. */
export async function savePreferences(db: Db, row: SavedPreferences, at: Date): Promise<void> {
  await db('notification_preferences').insert({ ...row, updated_at: at }).onConflict('user_id').merge();
}

/** Of `userIds`, those who turned email off. */
export async function findEmailOptOuts(db: Db, userIds: readonly string[]): Promise<Set<string>> {
  if (!userIds.length) return new Set();
  return new Set(await db('notification_preferences').whereIn('user_id', [...userIds]).where({ email: false }).pluck('user_id') as string[]);
}

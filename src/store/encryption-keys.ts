import type { Db } from './db.ts';

export interface KeyCheckRow {
  key_id: string;
  check_value: string;
}

/** The check value recorded for every key id that was ever configured. */
export async function listKeyChecks(db: Db): Promise<KeyCheckRow[]> {
  return db('encryption_keys').select('key_id', 'check_value').orderBy('key_id');
}

/** Records check values of key ids not seen before; an id already recorded keeps its first value. */
export async function insertKeyChecks(db: Db, rows: KeyCheckRow[]): Promise<void> {
  if (!rows.length) return;
  await db('encryption_keys').insert(rows).onConflict('key_id').ignore();
}

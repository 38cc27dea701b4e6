import { isKeyInUseByBatches, listBatchesSealedUnderOtherKeys } from './batches.ts';
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

/** The tables that hold sealed values, each with a `key_id` column naming the key. */
const SEALED_TABLES = ['variables', 'task_variables', 'message_outbox', 'history_decision_inputs', 'history_decision_outputs', 'notification_webhooks', 'task_attachments', 'history_details'] as const;

/** Whether any variable, waiting message's payload, decision history value or robot's address is still sealed under `keyId`. */
export async function isKeyInUse(db: Db, keyId: string): Promise<boolean> {
  for (const table of SEALED_TABLES) {
    if ((await db(table).where({ key_id: keyId }).first(db.raw('1 as one'))) != null) return true;
  }
  // A running variables or message batch keeps its variables sealed in its configuration until its jobs set them.
  return isKeyInUseByBatches(db, keyId);
}

/** How many variables, waiting messages and decision history values are sealed under a key other than `keyId`. */
export async function countSealedUnderOtherKeys(db: Db, keyId: string): Promise<number> {
  let n = 0;
  for (const table of SEALED_TABLES) {
    const [row] = await db(table).whereNotNull('key_id').whereNot('key_id', keyId).count({ n: '*' });
    n += Number(row?.n ?? 0);
  }
  return n + (await listBatchesSealedUnderOtherKeys(db, keyId)).length;
}

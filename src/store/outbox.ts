import type { Db } from './db.ts';

export interface OutboxRow {
  id: string;
  message_name: string;
  business_key: string | null;
  /** The payload as stored: a variable map, or with `key_id` set an envelope the services sealed. */
  variables: unknown;
  key_id: string | null;
  source_process_instance_id: string;
  source_activity_id: string;
  source_execution_id: string;
  created_at: Date;
  due_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  attempts: number;
  last_error: string | null;
}

export type NewOutboxRow = Pick<OutboxRow, 'id' | 'due_at' | 'message_name' | 'business_key' | 'variables' | 'key_id' | 'source_process_instance_id' | 'source_activity_id' | 'source_execution_id'>;

export async function insertOutbox(db: Db, rows: NewOutboxRow[]): Promise<void> {
  if (!rows.length) return;
  await db('message_outbox').insert(rows.map((r) => ({ ...r, variables: JSON.stringify(r.variables) })));
}

/** Removes a delivered message; false if it was already gone (delivered by someone else). */
export async function deleteOutbox(db: Db, id: string): Promise<boolean> {
  return (await db('message_outbox').where({ id }).delete().returning('id')).length > 0;
}

export async function listOutbox(db: Db, sourceInstanceId?: string): Promise<OutboxRow[]> {
  const q = db('message_outbox').select('*').orderBy('created_at');
  if (sourceInstanceId) q.where({ source_process_instance_id: sourceInstanceId });
  return q;
}

/** The next `limit` messages after `afterId` whose payload is sealed under another key than `currentKeyId`. */
export async function listSealedOutboxAfter(db: Db, currentKeyId: string, afterId: string | null, limit: number): Promise<OutboxRow[]> {
  const q = db('message_outbox').whereNotNull('key_id').whereNot('key_id', currentKeyId).orderBy('id').limit(limit);
  if (afterId) q.where('id', '>', afterId);
  return q;
}

/** Replaces a message's stored payload only if it is still exactly what was read (see replaceStoredValue). */
export async function replaceOutboxPayload(db: Db, expected: Pick<OutboxRow, 'id' | 'variables' | 'key_id'>, next: Pick<OutboxRow, 'variables' | 'key_id'>): Promise<boolean> {
  const changed = await db('message_outbox').where({ id: expected.id, key_id: expected.key_id })
    .whereRaw('variables = ?::jsonb', [JSON.stringify(expected.variables)])
    .update({ variables: JSON.stringify(next.variables), key_id: next.key_id });
  return changed > 0;
}

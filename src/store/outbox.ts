import type { Variables } from '../types.ts';
import type { Db } from './db.ts';

export interface OutboxRow {
  id: string;
  message_name: string;
  business_key: string | null;
  variables: Variables;
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

export type NewOutboxRow = Pick<OutboxRow, 'id' | 'due_at' | 'message_name' | 'business_key' | 'variables' | 'source_process_instance_id' | 'source_activity_id' | 'source_execution_id'>;

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

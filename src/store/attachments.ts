import type { Db } from './db.ts';

export interface AttachmentRow {
  id: string;
  task_id: string;
  process_instance_id: string;
  user_id: string;
  name: string | null;
  description: string | null;
  type: string | null;
  url: string | null;
  /** The sealed content (an envelope), or null for a link. */
  content: unknown;
  key_id: string | null;
  size: number | null;
  create_time: Date;
}

/** An attachment without its content, for lists and descriptions. */
export type AttachmentInfo = Omit<AttachmentRow, 'content'>;

const INFO = ['id', 'task_id', 'process_instance_id', 'user_id', 'name', 'description', 'type', 'url', 'key_id', 'size', 'create_time'];

export async function insertAttachment(db: Db, row: Omit<AttachmentRow, 'create_time'>): Promise<AttachmentInfo> {
  const [inserted] = await db('task_attachments').insert({ ...row, content: row.content == null ? null : JSON.stringify(row.content) }).returning(INFO);
  return inserted;
}

export async function listAttachments(db: Db, taskId: string): Promise<AttachmentInfo[]> {
  return db('task_attachments').where({ task_id: taskId }).orderBy('create_time').orderBy('id').select(INFO);
}

export async function findAttachment(db: Db, taskId: string, id: string): Promise<AttachmentInfo | undefined> {
  return db('task_attachments').where({ task_id: taskId, id }).first(INFO);
}

/** The sealed content of an attachment (null for a link). */
export async function findAttachmentContent(db: Db, taskId: string, id: string): Promise<Pick<AttachmentRow, 'content' | 'key_id'> | undefined> {
  return db('task_attachments').where({ task_id: taskId, id }).first('content', 'key_id');
}

/** Deletes an attachment; whether it was still there. */
export async function deleteAttachment(db: Db, taskId: string, id: string): Promise<boolean> {
  return (await db('task_attachments').where({ task_id: taskId, id }).delete().returning('id')).length === 1;
}

/** Attachments sealed under a key other than `currentKeyId`, by id after `after`, for re-encryption. */
export async function listAttachmentsUnderOtherKeys(db: Db, currentKeyId: string, after: string | null, limit: number): Promise<Pick<AttachmentRow, 'id' | 'task_id' | 'process_instance_id' | 'content' | 'key_id'>[]> {
  const q = db('task_attachments').whereNotNull('key_id').whereNot('key_id', currentKeyId).orderBy('id').limit(limit)
    .select('id', 'task_id', 'process_instance_id', 'content', 'key_id');
  if (after != null) q.where('id', '>', after);
  return q;
}

/** Replaces an attachment's sealed content if it is still under the key it was read under; whether it was. */
export async function replaceAttachmentContent(db: Db, row: { id: string; key_id: string | null }, next: { content: unknown; key_id: string }): Promise<boolean> {
  const updated = await db('task_attachments').where({ id: row.id, key_id: row.key_id }).update({ content: JSON.stringify(next.content), key_id: next.key_id }).returning('id');
  return updated.length === 1;
}

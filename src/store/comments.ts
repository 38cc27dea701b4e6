import type { Db } from './db.ts';

export interface CommentRow {
  id: string;
  task_id: string;
  process_instance_id: string;
  user_id: string;
  message: string;
  time: Date;
}

export async function insertComment(db: Db, row: Omit<CommentRow, 'time'>): Promise<CommentRow> {
  const [inserted] = await db('task_comments').insert(row).returning('*');
  return inserted;
}

export async function listComments(db: Db, taskId: string): Promise<CommentRow[]> {
  return db('task_comments').where({ task_id: taskId }).orderBy('time').orderBy('id');
}

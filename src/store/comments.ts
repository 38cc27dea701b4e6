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

/** Every comment of an instance, its tasks' included (as Camunda lists a process instance's comments). */
export async function listCommentsOfInstance(db: Db, instanceId: string): Promise<CommentRow[]> {
  return db('task_comments').where({ process_instance_id: instanceId }).orderBy('time').orderBy('id');
}

export async function findComment(db: Db, id: string): Promise<CommentRow | undefined> {
  return db('task_comments').where({ id }).first();
}

/** Replaces a comment's message only if it is still `expected`; whether it was (a concurrent edit loses). */
export async function updateCommentMessage(db: Db, id: string, expected: string, message: string): Promise<boolean> {
  return (await db('task_comments').where({ id, message: expected }).update({ message })) === 1;
}

/** Deletes these comments; the ones that were still there. */
export async function deleteComments(db: Db, ids: string[]): Promise<CommentRow[]> {
  if (!ids.length) return [];
  return db('task_comments').whereIn('id', ids).delete().returning('*');
}

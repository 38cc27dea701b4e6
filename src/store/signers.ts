import type { Db } from './db.ts';

/** The reason an ended task's history gives when 减签 removed its signer (Camunda's task deleteReason). */
export const SIGNER_REMOVED = 'signerRemoved';

/** Gives a task the engine just deleted (减签) its own deleteReason in place of the engine's `deleted`. */
export async function markSignerRemoved(db: Db, taskId: string): Promise<void> {
  await db('tasks').where({ id: taskId }).whereNotNull('end_time').update({ delete_reason: SIGNER_REMOVED });
}

import type { Db } from './db.ts';

/** Marks an instance that a modification left with nothing running as deleted from outside (Camunda's end of a fully cancelled instance). */
export async function markExternallyTerminated(db: Db, id: string, reason: string | null): Promise<void> {
  await db('process_instances').where({ id }).update({ state: 'EXTERNALLY_TERMINATED', end_reason: reason });
}

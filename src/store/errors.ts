import { ConflictError } from '../errors.ts';

/** Maps a unique violation (SQLSTATE 23505) to a ConflictError; rethrows anything else. */
export function rethrowUnique(err: unknown, message: string): never {
  if ((err as { code?: string })?.code === '23505') throw new ConflictError(message, undefined, 'ConflictException');
  throw err;
}

/** Serializes writers of one kind across processes until the transaction ends. */
export async function lockForTransaction(trx: import('./db.ts').Db, name: string): Promise<void> {
  await trx.raw('select pg_advisory_xact_lock(hashtext(?))', [name]);
}

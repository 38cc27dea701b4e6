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

/** Errors thrown while taking a connection from the pool (see makeDb): the database could not be reached. */
const acquireFailures = new WeakSet<object>();

/** Marks `err` as a failure to obtain a connection, whatever the driver said (refused, not accepting connections, pool timeout). */
export function markAcquireFailure(err: unknown): void {
  if (typeof err === 'object' && err !== null) acquireFailures.add(err);
}

/** Socket errors of a connection that is gone or cannot be opened. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN', 'EPIPE']);
/** SQLSTATEs of a server that is shutting down, starting up, or full: 57P01-57P03 and 53300. */
const SERVER_GONE = new Set(['57P01', '57P02', '57P03', '53300']);
/** What node-postgres and PGlite say, without a code, when the connection or the embedded database has closed. */
const CLOSED = /Connection terminated|is not queryable|PGlite is closed/;

/**
 * Whether `err` says the database is unreachable rather than that a statement
 * was wrong: then the request may succeed later (503 with Retry-After), and
 * it is not the server's bug (500). Class 08 is SQL's "connection exception".
 */
export function isDatabaseUnavailable(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  if (acquireFailures.has(err)) return true;
  const e = err as { code?: unknown; name?: unknown; message?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  // 08P01 (protocol violation) is what a statement with more than 65 535 parameters gets: the
  // request was wrong, and would be as wrong later.
  return NETWORK_CODES.has(code) || SERVER_GONE.has(code) || (/^08[0-9A-Z]{3}$/.test(code) && code !== '08P01')
    || e.name === 'KnexTimeoutError' || (typeof e.message === 'string' && CLOSED.test(e.message));
}

/**
 * PostgreSQL's protocol allows 65 535 parameters in one statement; a request
 * listing more values than that (ids in a filter) gets 08P01. The request was
 * wrong, not the server: a 400, not a 500 or a 503.
 */
export function isTooManyParameters(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === '08P01';
}

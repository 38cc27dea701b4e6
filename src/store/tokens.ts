import type { Db } from './db.ts';

export interface TokenRow {
  id: string;
  user_id: string;
  token_hash: string;
  name: string | null;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
}

export async function insertToken(db: Db, row: { id: string; user_id: string; token_hash: string; name: string | null; ttlSeconds: number }): Promise<TokenRow> {
  const { ttlSeconds, ...values } = row;
  const [inserted] = await db('api_tokens')
    .insert({ ...values, expires_at: db.raw(`now() + make_interval(secs => ?)`, [ttlSeconds]) })
    .returning('*');
  return inserted;
}

/** The user of a live token (not expired by the database's clock, not revoked). */
export async function findLiveToken(db: Db, tokenHash: string): Promise<TokenRow | undefined> {
  return db('api_tokens').where({ token_hash: tokenHash }).whereNull('revoked_at').where('expires_at', '>', db.fn.now()).first();
}

export async function listTokens(db: Db, userId: string | undefined): Promise<TokenRow[]> {
  const q = db('api_tokens').select('*').orderBy('created_at');
  if (userId) q.where({ user_id: userId });
  return q;
}

export async function findToken(db: Db, id: string): Promise<TokenRow | undefined> {
  return db('api_tokens').where({ id }).first();
}

export async function revokeToken(db: Db, id: string): Promise<void> {
  await db('api_tokens').where({ id }).whereNull('revoked_at').update({ revoked_at: db.fn.now() });
}

/** Revokes every live token of a user (their password changed); returns the ids revoked. */
export async function revokeTokensOf(db: Db, userId: string): Promise<string[]> {
  const rows: { id: string }[] = await db('api_tokens').where({ user_id: userId }).whereNull('revoked_at')
    .update({ revoked_at: db.fn.now() }).returning('id');
  return rows.map((r) => r.id);
}

import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AuthenticationError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { findUserWithGroups, lockPasswordHash } from '../store/identity.ts';
import { findLiveToken, findToken, insertToken, listTokens, revokeToken, type TokenRow } from '../store/tokens.ts';
import { ADMIN_GROUP, type Principal } from '../types.ts';
import { credentialTag } from './passwords.ts';
import type { TraceService } from './trace.ts';

const DEFAULT_TTL_SECONDS = 8 * 3600;
const MAX_TTL_SECONDS = 30 * 24 * 3600;
const PREFIX = 'bpmn_';

/** SM3 (GB/T 32905) digest of a token: what the database keeps instead of the token. */
const digest = (token: string) => createHash('sm3').update(token).digest('hex');

/** Bearer tokens: issued to a password-authenticated user, expiring, revocable. */
export function makeTokenService(db: Knex, trace: TraceService) {
  return {
    /**
     * Issues a token for the caller. Only a password login may issue one,
     * so a leaked token cannot be used to mint fresh ones.
     */
    async issue(principal: Principal, input: { name?: unknown; expiresInSeconds?: unknown }, viaPassword: boolean): Promise<{ row: TokenRow; token: string }> {
      if (!viaPassword) throw new ForbiddenError('令牌只能用密码登录签发 / tokens can only be issued to a password login');
      const ttl = input.expiresInSeconds ?? DEFAULT_TTL_SECONDS;
      if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < 60 || ttl > MAX_TTL_SECONDS) {
        throw new ValidationError(`expiresInSeconds 必须是 60 到 ${MAX_TTL_SECONDS} 之间的整数 / expiresInSeconds must be an integer from 60 to ${MAX_TTL_SECONDS}`);
      }
      if (input.name != null && (typeof input.name !== 'string' || input.name.length > 100)) {
        throw new ValidationError('name 必须是不超过 100 字符的文本 / name must be text of at most 100 characters');
      }
      const token = PREFIX + randomBytes(32).toString('base64url');
      return db.transaction(async (trx) => {
        // The password this login proved must still be the user's: a request holding the old
        // password open across a change (PUT /user/{id}/credentials) gets no token. The row
        // lock orders this against the change, which then revokes a token issued just before.
        const stored = await lockPasswordHash(trx, principal.userId);
        if (!stored || !principal.credential || credentialTag(stored) !== principal.credential) {
          throw new AuthenticationError('密码已更改，请重新登录 / the password was changed; sign in again');
        }
        const row = await insertToken(trx, { id: randomUUID(), user_id: principal.userId, token_hash: digest(token), name: (input.name as string) ?? null, ttlSeconds: ttl });
        // The token itself is never traced: only that one was issued, to whom, until when.
        await trace.record(trx, principal, { operation: 'Create', entityType: 'Token', entityId: row.id, details: { name: row.name, expiresInSeconds: ttl } });
        return { row, token };
      });
    },

    /** The principal of a live Bearer token; AuthenticationError otherwise. */
    async authenticate(token: string): Promise<Principal> {
      const row = token.startsWith(PREFIX) ? await findLiveToken(db, digest(token)) : undefined;
      const user = row && (await findUserWithGroups(db, row.user_id));
      if (!user) throw new AuthenticationError('令牌无效、已过期或已撤销 / token is invalid, expired or revoked');
      return { userId: user.id, groups: user.groups, isAdmin: user.groups.includes(ADMIN_GROUP) };
    },

    /** The caller's tokens (all tokens for administrators), never their secrets. */
    list: (principal: Principal) => listTokens(db, principal.isAdmin ? undefined : principal.userId),

    async revoke(id: string, principal: Principal): Promise<void> {
      const row = await findToken(db, id);
      if (!row || (!principal.isAdmin && row.user_id !== principal.userId)) throw new NotFoundError(`令牌不存在 / no token ${id}`);
      await db.transaction(async (trx) => {
        await revokeToken(trx, id);
        await trace.record(trx, principal, { operation: 'Revoke', entityType: 'Token', entityId: id, details: { owner: row.user_id } });
      });
    },
  };
}

export type TokenService = ReturnType<typeof makeTokenService>;

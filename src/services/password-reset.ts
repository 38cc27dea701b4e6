import type { Knex } from 'knex';
import { NotFoundError, ValidationError } from '../errors.ts';
import { findUserWithGroups, listUsers, updatePasswordHash } from '../store/identity.ts';
import { clearFailures } from '../store/login-failures.ts';
import { revokeTokensOf } from '../store/tokens.ts';
import { ADMIN_GROUP, SYSTEM_USER } from '../types.ts';
import { generatePassword, hashPassword } from './passwords.ts';
import { recordTrace, type Actor } from './trace.ts';

/** Who resets a password from the host's command line: the server itself, by way of the CLI. */
export const CLI_ACTOR: Actor = { userId: SYSTEM_USER, source: 'cli' };

/**
 * Which administrator to reset: `named` if given (it must be a member of
 * camunda-admin: this tool recovers administrators, it does not hand out
 * anyone's account), else `fallback` (ADMIN_USER) if that is one, else the
 * only member of camunda-admin. With several and none named, it refuses
 * and lists them rather than guess.
 */
async function chooseAdministrator(db: Knex, named: string | undefined, fallback: string | undefined): Promise<string> {
  if (named !== undefined) {
    const user = await findUserWithGroups(db, named);
    if (!user) throw new NotFoundError(`用户不存在 / no user ${named}`);
    if (!user.groups.includes(ADMIN_GROUP)) throw new ValidationError(`用户 ${named} 不是管理员（${ADMIN_GROUP}）/ user ${named} is not a member of ${ADMIN_GROUP}`);
    return named;
  }
  const admins = (await listUsers(db, { memberOfGroup: ADMIN_GROUP })).map((u) => u.id);
  if (fallback !== undefined && admins.includes(fallback)) return fallback;
  if (admins.length === 1) return admins[0];
  if (!admins.length) throw new NotFoundError(`没有管理员（${ADMIN_GROUP} 组为空）/ there is no administrator: ${ADMIN_GROUP} has no members`);
  throw new ValidationError(`有多个管理员，请指定一个 / several administrators, name one: ${admins.join(', ')}`);
}

/**
 * `npm run reset-admin`: a new random password for an administrator, and
 * the account unlocked (its login failures forgotten), its API tokens
 * revoked, and a trace row by `system` with source `cli`, all in one
 * transaction. Returns the password for the terminal only: it is never
 * logged, nor written to the trace (which records that it changed).
 * A running server takes the new password at once: its login cache
 * compares the stored hash.
 */
export async function resetAdministratorPassword(db: Knex, options: { user?: string | undefined; fallbackUser?: string | undefined }): Promise<{ user: string; password: string; revokedTokens: number }> {
  const user = await chooseAdministrator(db, options.user, options.fallbackUser);
  const password = generatePassword();
  const hash = await hashPassword(password);
  const revoked = await db.transaction(async (trx) => {
    if (!(await updatePasswordHash(trx, user, hash))) throw new NotFoundError(`用户不存在 / no user ${user}`);
    const tokens = await revokeTokensOf(trx, user);
    await clearFailures(trx, `user:${user}`);
    await recordTrace(trx, CLI_ACTOR, { operation: 'ResetCredentials', entityType: 'User', entityId: user, details: { revokedTokens: tokens, unlocked: true } });
    return tokens;
  });
  return { user, password, revokedTokens: revoked.length };
}

import { createHash } from 'node:crypto';
import type { Knex } from 'knex';
import { AuthenticationError, ForbiddenError, NotFoundError, TooManyAttemptsError, ValidationError } from '../errors.ts';
import {
  addMembership, countUsers, countUsersWhere, deleteUser, ensureGroup, findUser, findUserWithGroups, insertUser, listUsers, lockMembersOf,
  updatePasswordHash, updateProfile, type UserRow,
} from '../store/identity.ts';
import { clearFailures } from '../store/login-failures.ts';
import { revokeTokensOf } from '../store/tokens.ts';
import { lockForTransaction } from '../store/errors.ts';
import { assertAdmin } from './instances.ts';
import { assertSelfOrAdmin, makeGroupService } from './groups.ts';
import type { LoginGuard } from './login-guard.ts';
import { credentialTag, generatePassword, hashPassword, passwordWeakness, UNKNOWN_USER_HASH, verifyPassword } from './passwords.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';
import { ADMIN_GROUP, PUBLIC_USER, roleGroups, SYSTEM, SYSTEM_USER, WORKERS_GROUP, type Principal } from '../types.ts';

/** How long a verified password is remembered, so Basic auth does not run the KDF on every request. */
const VERIFIED_TTL_MS = 60_000;
/**
 * Start users the server writes itself. A person of that name would see
 * every instance the scheduler or the public started as their own.
 */
const RESERVED_USER_IDS: ReadonlySet<string> = new Set([SYSTEM_USER, PUBLIC_USER]);

export interface NewUser {
  id: string;
  firstName?: string | null | undefined;
  lastName?: string | null | undefined;
  email?: string | null | undefined;
  password: string;
}

/** Users, groups, memberships and password authentication. */
export function makeIdentityService(db: Knex, guard?: LoginGuard, trace?: TraceService) {
  /** Runs a change and its trace row in one transaction. */
  const traced = (actor: Actor, fact: TraceFact, change: (trx: Knex.Transaction) => Promise<unknown>) => db.transaction(async (trx) => {
    await change(trx);
    await trace?.record(trx, actor, fact);
  });
  /** Failed and refused logins are traced on their own: there is no action to share a transaction with. */
  const traceLogin = (userId: string, source: string | undefined, operation: string) =>
    trace?.recordAlone({ userId, source }, { operation, entityType: 'User', entityId: userId });

  // digest(user:password) → { stored hash, expiry }: a cache of successful KDF runs.
  // Keyed by a digest so plaintext passwords are never kept; checked against the
  // current stored hash, so a password change takes effect at once.
  const verified = new Map<string, { user: string; hash: string; until: number }>();
  // Concurrent first requests with the same credentials share one attempt (one
  // count, one KDF run) instead of each burning ~50-100 ms of CPU and a count.
  const inFlight = new Map<string, Promise<boolean>>();

  /** Counts the attempt (refused while locked), then checks the password: never more checks than the lockout allows. */
  async function attempt(userId: string, password: string, hash: string | undefined, source: string | undefined): Promise<boolean> {
    const counted = await guard?.reserve(userId, source);
    // An unknown name runs the KDF too (and always fails): see UNKNOWN_USER_HASH.
    const ok = (await verifyPassword(password, hash ?? UNKNOWN_USER_HASH)) && hash !== undefined;
    if (counted && ok) await guard!.succeeded(counted);
    else if (counted) guard!.failed(counted);
    return ok;
  }

  /** `source` is the caller's address, for the lockout per address. */
  async function authenticate(userId: string, password: string, source?: string): Promise<Principal> {
    const user = await findUserWithGroups(db, userId);
    const cacheKey = createHash('sha256').update(`${userId}\0${password}`).digest('base64');
    const hit = verified.get(cacheKey);
    if (user && hit && hit.hash === user.password_hash && hit.until > Date.now()) return { ...principalOf(user.id, user.groups), credential: credentialTag(user.password_hash) };
    // Only a real password check is guarded: a cached success was proven within the last minute.
    const shared = inFlight.get(cacheKey);
    // A refused attempt (TooManyAttemptsError) is traced by the guard: once per lock, with the count.
    let ok: boolean;
    if (!shared) {
      const check = attempt(userId, password, user?.password_hash, source).finally(() => inFlight.delete(cacheKey));
      inFlight.set(cacheKey, check);
      ok = await check;
    } else {
      ok = await shared.catch((err) => {
        if (err instanceof TooManyAttemptsError) return false;
        throw err;
      });
      // The same wrong guess, already checked: it still counts as an attempt of its own, with no second KDF run.
      if (!ok && guard) guard.failed(await guard.reserve(userId, source));
    }
    if (!user || !ok) {
      await traceLogin(userId, source, 'LoginFailure');
      throw new AuthenticationError('用户名或密码错误 / wrong user name or password');
    }
    if (verified.size > 10_000) verified.clear();
    verified.set(cacheKey, { user: user.id, hash: user.password_hash, until: Date.now() + VERIFIED_TTL_MS });
    return { ...principalOf(user.id, user.groups), credential: credentialTag(user.password_hash) };
  }

  async function createUser(input: NewUser, actor: Actor = SYSTEM): Promise<void> {
    if (!/^[A-Za-z0-9_.@-]{1,64}$/.test(input.id ?? '')) {
      throw new ValidationError('用户 id 只能包含字母、数字和 _.@- / user id may contain only letters, digits and _.@- (1-64)');
    }
    if (RESERVED_USER_IDS.has(input.id.toLowerCase())) {
      throw new ValidationError(`用户 id ${input.id} 为系统保留 / user id ${input.id} is reserved for the server`);
    }
    const weakness = passwordWeakness(input.password);
    if (weakness) throw new ValidationError(weakness);
    const passwordHash = await hashPassword(input.password);
    // Names of what was set, never the password.
    await traced(actor, { operation: 'Create', entityType: 'User', entityId: input.id, details: { firstName: input.firstName ?? null, lastName: input.lastName ?? null } }, (trx) => insertUser(trx, {
      id: input.id, first_name: input.firstName ?? null, last_name: input.lastName ?? null, email: input.email ?? null, password_hash: passwordHash,
    }));
  }

  /**
   * Camunda's PUT /user/{id}/credentials: users set their own password,
   * administrators anyone's; either way the caller proves who they are with
   * `authenticatedUserPassword`, their own current password (a stolen token
   * alone cannot change it), checked under the login lockout. The new hash,
   * the revocation of every token of that user and the trace row commit
   * together; the 60 s login cache compares the stored hash, so the old
   * password stops working at once in every server process.
   */
  async function updateCredentials(userId: string, input: { password: unknown; authenticatedUserPassword: unknown }, principal: Principal): Promise<void> {
    if (!principal.isAdmin && userId !== principal.userId) {
      throw new ForbiddenError(`只能修改自己的密码 / you may only change your own password, not that of user ${userId}`);
    }
    if (!(await findUser(db, userId))) throw new NotFoundError(`用户不存在 / User with id ${userId} does not exist`);
    if (typeof input.authenticatedUserPassword !== 'string' || !input.authenticatedUserPassword) {
      throw new ValidationError('需要 authenticatedUserPassword（当前登录用户的密码）/ authenticatedUserPassword, the password of the authenticated user, is required');
    }
    try {
      await authenticate(principal.userId, input.authenticatedUserPassword, principal.source);
    } catch (err) {
      if (!(err instanceof AuthenticationError)) throw err;
      throw new ValidationError('当前登录用户的密码错误 / The given authenticated user password is not valid.');
    }
    const weakness = passwordWeakness(input.password);
    if (weakness) throw new ValidationError(weakness);
    const passwordHash = await hashPassword(input.password as string);
    await db.transaction(async (trx) => {
      if (!(await updatePasswordHash(trx, userId, passwordHash))) throw new NotFoundError(`用户不存在 / User with id ${userId} does not exist`);
      const revoked = await revokeTokensOf(trx, userId);
      // That the password changed and which tokens went with it, never the password.
      await trace?.record(trx, principal, { operation: 'UpdateCredentials', entityType: 'User', entityId: userId, details: { revokedTokens: revoked } });
    });
    for (const [key, entry] of verified) if (entry.user === userId) verified.delete(key);
  }

  return {
    ...makeGroupService(db, trace),
    authenticate,
    createUser,
    updateCredentials,
    async listUsers(query: Parameters<typeof listUsers>[1]): Promise<Omit<UserRow, 'password_hash'>[]> {
      return listUsers(db, query);
    },

    async getProfile(userId: string, principal: Principal): Promise<UserProfile> {
      assertSelfOrAdmin(userId, principal, '资料 / profile');
      const user = await findUser(db, userId);
      if (!user) throw new NotFoundError(`用户不存在 / User with id ${userId} does not exist`);
      return profileOf(user);
    },
    /**
     * Camunda's PUT /user/{id}/profile: the user themselves or an
     * administrator. The id cannot change (everything names users by it);
     * a body naming another id is refused rather than ignored.
     */
    async updateProfile(userId: string, body: Record<string, unknown>, principal: Principal): Promise<void> {
      assertSelfOrAdmin(userId, principal, '资料 / profile');
      if (body.id !== undefined && body.id !== userId) {
        throw new ValidationError(`不能修改用户 id：路径为 ${userId}，请求体为 ${String(body.id)} / the user id cannot be changed: path says ${userId}, body.id says ${String(body.id)}`);
      }
      const fields: Partial<Record<'first_name' | 'last_name' | 'email', string | null>> = {};
      for (const [key, column] of [['firstName', 'first_name'], ['lastName', 'last_name'], ['email', 'email']] as const) {
        const v = body[key];
        if (v === undefined) continue;
        if (v !== null && typeof v !== 'string') throw new ValidationError(`${key} 须为字符串 / ${key} must be a string`);
        fields[column] = v === '' ? null : v;
      }
      if (typeof fields.email === 'string' && !/^[^\s@]+@[^\s@]+$/.test(fields.email)) {
        throw new ValidationError(`邮箱地址无效 / email is not an address: ${fields.email}`);
      }
      await db.transaction(async (trx) => {
        if (!(await updateProfile(trx, userId, fields))) throw new NotFoundError(`用户不存在 / User with id ${userId} does not exist`);
        await trace?.record(trx, principal, { operation: 'Update', entityType: 'User', entityId: userId, details: { changed: Object.keys(body).filter((k) => ['firstName', 'lastName', 'email'].includes(k)) } });
      });
    },
    async countUsers(query: { id?: string | undefined; memberOfGroup?: string | undefined }): Promise<number> {
      return countUsersWhere(db, query);
    },
    /**
     * Camunda's DELETE /user/{id}, for administrators. Refused for oneself and
     * for the last member of camunda-admin (nobody could administer the
     * server after). Memberships and tokens go with the user.
     */
    async deleteUser(userId: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      if (userId === principal.userId) throw new ValidationError('不能删除自己 / you cannot delete yourself');
      await db.transaction(async (trx) => {
        const admins = await lockMembersOf(trx, ADMIN_GROUP);
        if (admins.includes(userId) && admins.length <= 1) {
          throw new ValidationError(`不能删除最后一位管理员 ${userId} / ${userId} is the last administrator (member of ${ADMIN_GROUP}) and cannot be deleted`);
        }
        if (!(await deleteUser(trx, userId))) throw new NotFoundError(`用户不存在 / User with id ${userId} does not exist`);
        await clearFailures(trx, `user:${userId}`);
        await trace?.record(trx, principal, { operation: 'Delete', entityType: 'User', entityId: userId, details: { wasAdministrator: admins.includes(userId) } });
      });
      for (const [key, entry] of verified) if (entry.user === userId) verified.delete(key);
    },
    /** Camunda's POST /user/{id}/unlock: ends our login lockout of that user name (not of any address). */
    async unlockUser(userId: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        if (!(await findUser(trx, userId))) throw new NotFoundError(`用户不存在 / User with id ${userId} does not exist`);
        await clearFailures(trx, `user:${userId}`);
        await trace?.record(trx, principal, { operation: 'Unlock', entityType: 'User', entityId: userId });
      });
    },
    /**
     * Camunda's POST /identity/verify: whether a user name and password
     * match. It is a password check like a login: counted by the lockout
     * (a locked name answers 429), a failure traced as LoginFailure.
     * Administrators may check anyone's, others only their own.
     */
    async verify(username: string, password: string, principal: Principal): Promise<{ authenticatedUser: string; authenticated: boolean }> {
      if (username !== principal.userId) assertAdmin(principal);
      try {
        await authenticate(username, password, principal.source);
      } catch (err) {
        if (!(err instanceof AuthenticationError)) throw err;
        return { authenticatedUser: username, authenticated: false };
      }
      await trace?.recordAlone(principal, { operation: 'Verify', entityType: 'User', entityId: username, details: { authenticated: true } });
      return { authenticatedUser: username, authenticated: true };
    },

    /**
     * First start: create the role groups and, if there are no users, an
     * administrator. Returns the generated password when none was given, so
     * the caller can show it once; there is no default password.
     */
    async bootstrap(admin: { user?: string | undefined; password?: string | undefined }): Promise<{ user: string; generatedPassword?: string } | null> {
      const user = admin.user ?? 'admin';
      const generated = admin.password ? undefined : generatePassword();
      const created = await db.transaction(async (trx) => {
        // Several server processes may start at once on one database: one bootstraps.
        await lockForTransaction(trx, 'bootstrap');
        await ensureGroup(trx, { id: ADMIN_GROUP, name: '管理员 / Administrators', type: 'SYSTEM' });
        for (const g of roleGroups) await ensureGroup(trx, { id: g.id, name: g.name, type: 'WORKFLOW' });
        await ensureGroup(trx, { id: WORKERS_GROUP, name: '外部任务执行程序 / External task workers', type: 'SYSTEM' });
        if ((await countUsers(trx)) > 0) return false;
        await makeIdentityService(trx as unknown as Knex).createUser({
          id: user, password: admin.password ?? generated!, firstName: '系统管理员', lastName: 'Administrator',
        });
        await addMembership(trx, user, ADMIN_GROUP);
        await trace?.record(trx, SYSTEM, { operation: 'Create', entityType: 'User', entityId: user, details: { groups: [ADMIN_GROUP], bootstrap: true } });
        return true;
      });
      return created ? { user, ...(generated ? { generatedPassword: generated } : {}) } : null;
    },
  };
}

export interface UserProfile { id: string; firstName: string | null; lastName: string | null; email: string | null }

function profileOf(u: Omit<UserRow, 'password_hash'>): UserProfile {
  return { id: u.id, firstName: u.first_name, lastName: u.last_name, email: u.email };
}

function principalOf(userId: string, groups: string[]): Principal {
  return { userId, groups, isAdmin: groups.includes(ADMIN_GROUP) };
}

export type IdentityService = ReturnType<typeof makeIdentityService>;

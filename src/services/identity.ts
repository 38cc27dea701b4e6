import { createHash, randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Knex } from 'knex';
import { AuthenticationError, ForbiddenError, NotFoundError, TooManyAttemptsError, ValidationError } from '../errors.ts';
import {
  addMembership, countGroups, countUsers, countUsersWhere, deleteGroup, deleteUser, ensureGroup, findGroup, findUser, findUserWithGroups,
  insertGroup, insertUser, listGroups, listUsers, lockMembersOf, removeMembership, updateGroup, updatePasswordHash, updateProfile,
  usersSharingGroupsWith, type GroupRow, type UserRow,
} from '../store/identity.ts';
import { clearFailures } from '../store/login-failures.ts';
import { revokeTokensOf } from '../store/tokens.ts';
import { lockForTransaction } from '../store/errors.ts';
import { assertAdmin } from './instances.ts';
import type { LoginGuard } from './login-guard.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';
import { ADMIN_GROUP, PUBLIC_USER, roleGroups, SYSTEM, SYSTEM_USER, WORKERS_GROUP, type Principal } from '../types.ts';

// scrypt cost: N=2^15 takes ~50-100 ms here, slow enough to make guessing costly.
const SCRYPT = { N: 2 ** 15, r: 8, p: 1, maxmem: 64 * 1024 * 1024 } satisfies ScryptOptions;
const KEY_LENGTH = 32;
/** How long a verified password is remembered, so Basic auth does not run the KDF on every request. */
const VERIFIED_TTL_MS = 60_000;
const MIN_PASSWORD_LENGTH = 8;
/**
 * Start users the server writes itself. A person of that name would see
 * every instance the scheduler or the public started as their own.
 */
const RESERVED_USER_IDS: ReadonlySet<string> = new Set([SYSTEM_USER, PUBLIC_USER]);

/**
 * What an unknown user name's password is checked against: the same KDF,
 * at today's cost, so an unknown name answers no sooner than a known one
 * (the time must not tell which names exist). No password derives to it.
 */
const UNKNOWN_USER_HASH = ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, Buffer.alloc(16, 0x5a).toString('base64'), Buffer.alloc(KEY_LENGTH).toString('base64')].join('$');

let kdfRuns = 0;
/** How many KDF runs this process has made: tests count them to show an unknown user costs one too. */
export const kdfRunCount = (): number => kdfRuns;

function derive(password: string, salt: Buffer, params = SCRYPT): Promise<Buffer> {
  kdfRuns++;
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_LENGTH, params, (err, key) => (err ? reject(err) : resolve(key))));
}

/** `scrypt$N$r$p$salt$hash`, so the cost can be raised later without breaking old hashes. */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt);
  return ['scrypt', SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString('base64'), key.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt' || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const key = await derive(password, Buffer.from(salt, 'base64'), { N: Number(n), r: Number(r), p: Number(p), maxmem: SCRYPT.maxmem });
  return key.length === expected.length && timingSafeEqual(key, expected);
}

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
    authenticate,
    createUser,
    updateCredentials,
    async listUsers(query: Parameters<typeof listUsers>[1]): Promise<Omit<UserRow, 'password_hash'>[]> {
      return listUsers(db, query);
    },
    async createGroup(group: GroupRow, actor: Actor): Promise<void> {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(group.id ?? '')) throw new ValidationError('组 id 无效 / invalid group id (letters, digits, _.-)');
      await traced(actor, { operation: 'Create', entityType: 'Group', entityId: group.id, details: { name: group.name, type: group.type } }, (trx) => insertGroup(trx, group));
    },
    async listGroups(query: { member?: string | undefined }): Promise<GroupRow[]> {
      return listGroups(db, query);
    },
    async addMember(groupId: string, userId: string, actor: Actor): Promise<void> {
      if (!(await findGroup(db, groupId))) throw new NotFoundError(`组不存在 / no group ${groupId}`);
      if (!(await findUser(db, userId))) throw new NotFoundError(`用户不存在 / no user ${userId}`);
      await traced(actor, { operation: 'AddMember', entityType: 'Group', entityId: groupId, details: { userId } }, (trx) => addMembership(trx, userId, groupId));
    },
    async removeMember(groupId: string, userId: string, actor: Actor): Promise<void> {
      await traced(actor, { operation: 'RemoveMember', entityType: 'Group', entityId: groupId, details: { userId } }, (trx) => removeMembership(trx, userId, groupId));
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
    async getGroup(groupId: string, principal: Principal): Promise<GroupRow> {
      if (!principal.isAdmin && !principal.groups.includes(groupId)) assertAdmin(principal);
      const group = await findGroup(db, groupId);
      if (!group) throw new NotFoundError(`组不存在 / Group with id ${groupId} does not exist`);
      return { id: group.id, name: group.name, type: group.type };
    },
    async updateGroup(groupId: string, body: Record<string, unknown>, principal: Principal): Promise<void> {
      assertAdmin(principal);
      if (body.id !== undefined && body.id !== groupId) {
        throw new ValidationError(`不能修改组 id：路径为 ${groupId}，请求体为 ${String(body.id)} / the group id cannot be changed: path says ${groupId}, body.id says ${String(body.id)}`);
      }
      for (const key of ['name', 'type'] as const) {
        if (body[key] !== undefined && body[key] !== null && typeof body[key] !== 'string') throw new ValidationError(`${key} 须为字符串 / ${key} must be a string`);
      }
      // Camunda's PUT replaces the group's fields: one not given becomes null.
      const row = { id: groupId, name: (body.name as string | null | undefined) ?? null, type: (body.type as string | null | undefined) ?? null };
      await db.transaction(async (trx) => {
        if (!(await updateGroup(trx, row))) throw new NotFoundError(`组不存在 / Group with id ${groupId} does not exist`);
        await trace?.record(trx, principal, { operation: 'Update', entityType: 'Group', entityId: groupId, details: { name: row.name, type: row.type } });
      });
    },
    /** Camunda's DELETE /group/{id}; the organisation's roles and the administrators' group are part of the server and stay. */
    async deleteGroup(groupId: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      if (BUILT_IN_GROUPS.has(groupId)) {
        throw new ValidationError(`组 ${groupId} 为内置组，不能删除 / group ${groupId} is built in and cannot be deleted`);
      }
      await db.transaction(async (trx) => {
        if (!(await deleteGroup(trx, groupId))) throw new NotFoundError(`组不存在 / Group with id ${groupId} does not exist`);
        await trace?.record(trx, principal, { operation: 'Delete', entityType: 'Group', entityId: groupId });
      });
    },
    async countGroups(query: { id?: string | undefined; member?: string | undefined }): Promise<number> {
      return countGroups(db, query);
    },
    /** Camunda's GET /identity/groups: the user's groups and everyone who shares one of them. */
    async identityGroups(userId: string, principal: Principal) {
      assertSelfOrAdmin(userId, principal, '组 / groups');
      const [groups, users] = await Promise.all([listGroups(db, { member: userId }), usersSharingGroupsWith(db, userId)]);
      return {
        groups: groups.map((g) => ({ id: g.id, name: g.name })),
        groupUsers: users.map((u) => ({
          id: u.id, firstName: u.first_name, lastName: u.last_name,
          displayName: [u.first_name, u.last_name].filter(Boolean).join(' ') || u.id,
        })),
      };
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

/**
 * Our password rule, one entry per part, in Camunda's password-policy shape
 * (placeholder + parameter): at least MIN_PASSWORD_LENGTH characters, at
 * least two kinds among letters, digits and others (a length rule alone lets
 * "aaaaaaaa" and "12345678" through), and at least four distinct characters.
 * Camunda has no placeholders for the last two; they are ours, named alike.
 */
const PASSWORD_RULES = [
  {
    placeholder: 'PASSWORD_POLICY_LENGTH', parameter: { minLength: String(MIN_PASSWORD_LENGTH) },
    passes: (p: string) => p.length >= MIN_PASSWORD_LENGTH,
    message: `密码至少 ${MIN_PASSWORD_LENGTH} 个字符 / password must have at least ${MIN_PASSWORD_LENGTH} characters`,
  },
  {
    placeholder: 'PASSWORD_POLICY_CHARACTER_KINDS', parameter: { minKinds: '2', kinds: 'letter,digit,symbol' },
    passes: (p: string) => [/\p{L}/u, /\p{N}/u, /[^\p{L}\p{N}]/u].filter((re) => re.test(p)).length >= 2,
    message: '密码须包含字母、数字、符号中的至少两类 / password must mix at least two of letters, digits and symbols',
  },
  {
    placeholder: 'PASSWORD_POLICY_DISTINCT_CHARACTERS', parameter: { minDistinct: '4' },
    passes: (p: string) => new Set(p).size >= 4,
    message: '密码重复字符过多 / password repeats too few distinct characters',
  },
] as const;

/** Camunda's GET /identity/password-policy: the rules, without a verdict. */
export function passwordPolicy(): { rules: { placeholder: string; parameter: Record<string, string> }[] } {
  return { rules: PASSWORD_RULES.map((r) => ({ placeholder: r.placeholder, parameter: { ...r.parameter } })) };
}

/** Camunda's POST /identity/password-policy: each rule with whether `password` passes it. */
export function checkPassword(password: string): { rules: { placeholder: string; parameter: Record<string, string>; valid: boolean }[]; valid: boolean } {
  const rules = PASSWORD_RULES.map((r) => ({ placeholder: r.placeholder, parameter: { ...r.parameter }, valid: r.passes(password) }));
  return { rules, valid: rules.every((r) => r.valid) };
}

/** Why a password is too weak (the first rule it fails), or null. */
export function passwordWeakness(password: unknown): string | null {
  if (typeof password !== 'string') return PASSWORD_RULES[0].message;
  return PASSWORD_RULES.find((r) => !r.passes(password))?.message ?? null;
}

/** A random password that passes passwordWeakness (base64url alone is letters only now and then). */
export function generatePassword(): string {
  for (;;) {
    const candidate = randomBytes(12).toString('base64url');
    if (!passwordWeakness(candidate)) return candidate;
  }
}

/** SM3 of a stored password hash: names which password a login proved, without carrying the hash itself. */
export function credentialTag(passwordHash: string): string {
  return createHash('sm3').update(passwordHash).digest('hex');
}

export interface UserProfile { id: string; firstName: string | null; lastName: string | null; email: string | null }

function profileOf(u: Omit<UserRow, 'password_hash'>): UserProfile {
  return { id: u.id, firstName: u.first_name, lastName: u.last_name, email: u.email };
}

/** Groups that are part of the server: roles the processes name, the administrators, the workers. */
const BUILT_IN_GROUPS: ReadonlySet<string> = new Set([ADMIN_GROUP, WORKERS_GROUP, ...roleGroups.map((g) => g.id)]);

function assertSelfOrAdmin(userId: string, principal: Principal, what: string): void {
  if (userId !== principal.userId && !principal.isAdmin) {
    throw new ForbiddenError(`只能查看或修改自己的${what.split(' / ')[0]} / you may only see or change your own ${what.split(' / ')[1]}, not that of user ${userId}`);
  }
}

function principalOf(userId: string, groups: string[]): Principal {
  return { userId, groups, isAdmin: groups.includes(ADMIN_GROUP) };
}

export type IdentityService = ReturnType<typeof makeIdentityService>;

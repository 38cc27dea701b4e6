import type { Knex } from 'knex';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import {
  addMembership, countGroups, deleteGroup, findGroup, findUser, insertGroup, listGroups, removeMembership, updateGroup, usersSharingGroupsWith, type GroupRow,
} from '../store/identity.ts';
import { assertAdmin } from './instances.ts';
import type { Actor, TraceFact, TraceService } from './trace.ts';
import { ADMIN_GROUP, roleGroups, WORKERS_GROUP, type Principal } from '../types.ts';

/** Groups that are part of the server: roles the processes name, the administrators, the workers. */
const BUILT_IN_GROUPS: ReadonlySet<string> = new Set([ADMIN_GROUP, WORKERS_GROUP, ...roleGroups.map((g) => g.id)]);

/**
 * Groups and memberships, as Camunda's identity service has them: the
 * organisation's five roles are groups, so is camunda-admin. Part of the
 * identity service (makeIdentityService spreads it in), kept apart so that
 * neither file grows past a reading.
 */
export function makeGroupService(db: Knex, trace?: TraceService) {
  /** Runs a change and its trace row in one transaction. */
  const traced = (actor: Actor, fact: TraceFact, change: (trx: Knex.Transaction) => Promise<unknown>) => db.transaction(async (trx) => {
    await change(trx);
    await trace?.record(trx, actor, fact);
  });
  return {
    async createGroup(group: GroupRow, actor: Actor): Promise<void> {
      if (!/^[A-Za-z0-9_.-]{1,64}$/.test(group.id ?? '')) throw new ValidationError('组 id 无效 / invalid group id (letters, digits, _.-)');
      await traced(actor, { operation: 'Create', entityType: 'Group', entityId: group.id, details: { name: group.name, type: group.type } }, (trx) => insertGroup(trx, group));
    },
    async listGroups(query: Parameters<typeof listGroups>[1]): Promise<GroupRow[]> {
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
  };
}

/** Users may read and change their own identity; administrators anyone's. */
export function assertSelfOrAdmin(userId: string, principal: Principal, what: string): void {
  if (userId !== principal.userId && !principal.isAdmin) {
    throw new ForbiddenError(`只能查看或修改自己的${what.split(' / ')[0]} / you may only see or change your own ${what.split(' / ')[1]}, not that of user ${userId}`);
  }
}

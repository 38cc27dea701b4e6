import type { Knex } from 'knex';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { isInstanceVisibleTo, loadAuthorizationSources } from '../store/authorizations.ts';
import { findLatestDefinition } from '../store/definitions.ts';
import { findFilter } from '../store/filters.ts';
import { findUserWithGroups } from '../store/identity.ts';
import { findInstance } from '../store/instances.ts';
import { findTask, hasOpenTaskFor } from '../store/tasks.ts';
import { ADMIN_GROUP, type Principal } from '../types.ts';
import {
  appliesTo, decideGlobal, deriveAuthorizations, isWorkerOnly, RESOURCE_TYPES, type AuthorizationDto, type ResourceType,
} from './authorization-model.ts';
import { canChangeFilter, canSeeFilter } from './filters.ts';
import { assertMayStart } from './instances.ts';
import { canSee } from './tasks.ts';

/** GET /authorization's criteria (Camunda's AuthorizationQueryDto). */
export interface AuthorizationQuery {
  id?: string | undefined;
  type?: number | undefined;
  userIdIn?: string[] | undefined;
  groupIdIn?: string[] | undefined;
  resourceType?: number | undefined;
  resourceId?: string | undefined;
  sorting?: { column: 'resourceType' | 'resourceId'; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

/** GET /authorization/check's question. */
export interface AuthorizationCheck {
  permissionName: string;
  resourceName: string;
  resourceType: number;
  resourceId?: string | undefined;
  userId?: string | undefined;
  groupIds?: string[] | undefined;
}

/** Read-only authorizations derived from the role model (authorization-model.ts); nothing here writes. */
export function makeAuthorizationService(db: Knex) {
  /** The rows `principal` may read: all for administrators, otherwise those that speak of them. */
  async function readable(principal: Principal): Promise<AuthorizationDto[]> {
    const rows = deriveAuthorizations(await loadAuthorizationSources(db));
    return principal.isAdmin ? rows : rows.filter((r) => appliesTo(r, principal));
  }

  function matching(rows: AuthorizationDto[], q: AuthorizationQuery): AuthorizationDto[] {
    const found = rows.filter((r) => (q.id === undefined || r.id === q.id) && (q.type === undefined || r.type === q.type)
      && (!q.userIdIn || (r.userId != null && q.userIdIn.includes(r.userId))) && (!q.groupIdIn || (r.groupId != null && q.groupIdIn.includes(r.groupId)))
      && (q.resourceType === undefined || r.resourceType === q.resourceType) && (q.resourceId === undefined || r.resourceId === q.resourceId));
    const sorting = [...(q.sorting ?? []), { column: 'id' as const, order: 'asc' as const }];
    return found.sort((a, b) => {
      for (const s of sorting) {
        const [x, y] = [a[s.column], b[s.column]];
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        if (c !== 0) return s.order === 'asc' ? c : -c;
      }
      return 0;
    });
  }

  /** The caller's right to `permission` on the one resource `id` of `type`, as the service owning it decides. */
  async function decideOne(p: Principal, type: ResourceType, permission: string, id: string): Promise<boolean> {
    if (p.isAdmin || isWorkerOnly(p)) return false;
    switch (type) {
      case 1: return id === p.userId && ['READ', 'UPDATE'].includes(permission);
      case 2: return permission === 'READ' && p.groups.includes(id);
      case 4: return permission === 'READ' && (await readable(p)).some((r) => r.id === id);
      case 5: {
        const filter = await findFilter(db, id);
        if (!filter) return false;
        return permission === 'READ' ? canSeeFilter(filter, p) : ['UPDATE', 'DELETE'].includes(permission) && canChangeFilter(filter, p);
      }
      case 6: {
        const def = permission === 'CREATE_INSTANCE' ? await findLatestDefinition(db, id) : undefined;
        if (!def) return false;
        try { assertMayStart(def, p); return true; } catch (err) { if (err instanceof ForbiddenError) return false; throw err; }
      }
      case 7: {
        const task = await findTask(db, id);
        if (!task || !canSee(task, p)) return false;
        if (permission === 'READ') return true;
        return ['UPDATE', 'TASK_WORK', 'TASK_ASSIGN'].includes(permission) && !task.end_time && (task.assignee == null || task.assignee === p.userId);
      }
      case 8: return decideInstance(p, permission, id);
      default: return false;
    }
  }

  async function decideInstance(p: Principal, permission: string, id: string): Promise<boolean> {
    const instance = await findInstance(db, id);
    if (!instance) return false;
    if (permission === 'READ') return isInstanceVisibleTo(db, id, p);
    // services/instances.ts: variables by those with an open task. DELETE /process-instance is for administrators;
    // 终止 (terminate by the initiator or the office) is this server's own operation, not Camunda's DELETE.
    return permission === 'UPDATE' && instance.state === 'ACTIVE' && hasOpenTaskFor(db, id, p);
  }

  /** Who the check is about: the caller, or (administrators only) the user named, with the groups named or theirs. */
  async function subjectOf(q: AuthorizationCheck, caller: Principal): Promise<Principal> {
    if (q.userId === undefined || q.userId === caller.userId && q.groupIds === undefined) {
      if (q.groupIds !== undefined) throw new ValidationError('groupIds 需与 userId 一同给出 / groupIds needs userId', { field: 'groupIds' });
      return caller;
    }
    if (!caller.isAdmin) throw new ForbiddenError('只有管理员可以查看他人的权限 / only administrators may check another user\'s permissions');
    const groups = q.groupIds ?? (await findUserWithGroups(db, q.userId))?.groups ?? [];
    return { userId: q.userId, groups, isAdmin: groups.includes(ADMIN_GROUP) };
  }

  return {
    /** The derived rows matching `q`, sorted and paged. */
    async list(q: AuthorizationQuery, principal: Principal): Promise<AuthorizationDto[]> {
      const rows = matching(await readable(principal), q);
      const first = q.firstResult ?? 0;
      return rows.slice(first, q.maxResults === undefined ? undefined : first + q.maxResults);
    },

    async count(q: AuthorizationQuery, principal: Principal): Promise<number> {
      return matching(await readable(principal), q).length;
    },

    /** One row; 404 when there is none, 403 when it speaks of others and the caller is no administrator. */
    async get(id: string, principal: Principal): Promise<AuthorizationDto> {
      const found = deriveAuthorizations(await loadAuthorizationSources(db)).find((r) => r.id === id);
      if (!found) throw new NotFoundError(`授权不存在 / Authorization with id ${id} does not exist.`);
      if (!principal.isAdmin && !appliesTo(found, principal)) throw new ForbiddenError(`无权查看授权 ${id} / you may not read authorization ${id}`);
      return found;
    },

    /** Camunda's isUserAuthorized: what the server would do, not what a table says. */
    async check(q: AuthorizationCheck, caller: Principal): Promise<{ permissionName: string; resourceName: string; resourceId: string | null; authorized: boolean }> {
      const spec = RESOURCE_TYPES[q.resourceType as ResourceType] as { permissions: readonly string[] } | undefined;
      if (!spec) {
        throw new ValidationError(`本服务不回答资源类型 ${q.resourceType} / resource type ${q.resourceType} is not answered here; known: ${Object.keys(RESOURCE_TYPES).join(', ')}`, { field: 'resourceType' });
      }
      if (!spec.permissions.includes(q.permissionName)) {
        throw new ValidationError(`资源类型 ${q.resourceType} 没有权限 ${q.permissionName} / resource type ${q.resourceType} has no permission ${q.permissionName} here; known: ${spec.permissions.join(', ')}`, { field: 'permissionName' });
      }
      const subject = await subjectOf(q, caller);
      const type = q.resourceType as ResourceType;
      const one = q.resourceId !== undefined && q.resourceId !== '*';
      const authorized = decideGlobal(subject, type, q.permissionName) || (one && (await decideOne(subject, type, q.permissionName, q.resourceId!)));
      return { permissionName: q.permissionName, resourceName: q.resourceName, resourceId: q.resourceId ?? null, authorized };
    },
  };
}

export type AuthorizationService = ReturnType<typeof makeAuthorizationService>;

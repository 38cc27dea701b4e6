import type { AuthorizationSources } from '../store/authorizations.ts';
import { ADMIN_GROUP, PUBLIC_USER, roleGroups, WORKERS_GROUP, type Principal } from '../types.ts';

/*
 * The server authorizes by role (the groups camunda-admin, the five working
 * roles, workers) and by a task's or an instance's own people. Camunda's
 * clients ask in Camunda's terms: resource types and permissions. This file
 * is the one translation, read-only: the rows describe the role model, and
 * decideGlobal answers for "any resource of the type" (resourceId `*`) as the
 * routes and services decide it. docs/authorization.md is the human version.
 */

/** Camunda's Resources enum (org.camunda.bpm.engine.authorization.Resources), the types this server answers for. */
export const RESOURCE_TYPES = {
  1: { name: 'User', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE'] },
  2: { name: 'Group', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE'] },
  3: { name: 'GroupMembership', permissions: ['CREATE', 'DELETE'] },
  4: { name: 'Authorization', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE'] },
  5: { name: 'Filter', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE'] },
  6: { name: 'ProcessDefinition', permissions: ['READ', 'UPDATE', 'DELETE', 'CREATE_INSTANCE'] },
  7: { name: 'Task', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE', 'TASK_WORK', 'TASK_ASSIGN'] },
  8: { name: 'ProcessInstance', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE'] },
  9: { name: 'Deployment', permissions: ['READ', 'CREATE', 'DELETE'] },
  10: { name: 'DecisionDefinition', permissions: ['READ', 'UPDATE', 'CREATE_INSTANCE'] },
  13: { name: 'Batch', permissions: ['READ', 'UPDATE', 'CREATE', 'DELETE'] },
  14: { name: 'DecisionRequirementsDefinition', permissions: ['READ'] },
} as const satisfies Record<number, { name: string; permissions: readonly string[] }>;

export type ResourceType = keyof typeof RESOURCE_TYPES;
export const AUTH_GLOBAL = 0;
export const AUTH_GRANT = 1;
export const AUTH_REVOKE = 2;

/** Camunda's AuthorizationDto. */
export interface AuthorizationDto {
  id: string;
  type: 0 | 1 | 2;
  permissions: string[];
  userId: string | null;
  groupId: string | null;
  resourceType: number;
  resourceId: string;
  removalTime: null;
  rootProcessInstanceId: null;
}

/** What every signed-in person (not a machine of the workers group) may do on any resource of a type. */
const EVERYONE: [ResourceType, string[]][] = [
  [6, ['READ']], [9, ['READ']], [10, ['READ']], [14, ['READ']], [5, ['CREATE']], [8, ['CREATE']],
];
/** What members of the five roles may besides: evaluate decisions (services/decisions.ts). */
const ROLES: [ResourceType, string[]][] = [[10, ['CREATE_INSTANCE']]];
/** What administrators may: everything the server does, which excludes changing authorizations and standalone tasks. */
const ADMIN_EXCEPT: Partial<Record<ResourceType, string[]>> = { 4: ['READ'], 7: ['READ', 'UPDATE', 'TASK_WORK', 'TASK_ASSIGN'] };

/** An administrator's permissions on a type. */
export function adminPermissions(type: ResourceType): readonly string[] {
  return ADMIN_EXCEPT[type] ?? RESOURCE_TYPES[type].permissions;
}

/** A machine account: member of workers and not an administrator; app.ts confines it to external tasks and messages. */
export const isWorkerOnly = (p: Pick<Principal, 'isAdmin' | 'groups'>): boolean => !p.isAdmin && p.groups.includes(WORKERS_GROUP);
const inRole = (p: Principal): boolean => p.userId !== PUBLIC_USER && roleGroups.some((g) => p.groups.includes(g.id));

/** May `p` do `permission` on every resource of `type` (Camunda's check without a resource id, or `*`). */
export function decideGlobal(p: Principal, type: ResourceType, permission: string): boolean {
  if (p.isAdmin) return adminPermissions(type).includes(permission);
  if (isWorkerOnly(p)) return false;
  const has = (list: [ResourceType, string[]][]) => list.some(([t, perms]) => t === type && perms.includes(permission));
  return has(EVERYONE) || (inRole(p) && has(ROLES));
}

const row = (id: string, type: 0 | 1 | 2, who: { userId?: string; groupId?: string }, resourceType: number, resourceId: string, permissions: readonly string[]): AuthorizationDto => ({
  id, type, permissions: [...permissions], userId: who.userId ?? null, groupId: who.groupId ?? null, resourceType, resourceId, removalTime: null, rootProcessInstanceId: null,
});

/**
 * The role model as Camunda authorization rows, ids stable (made of what the
 * row is about): global grants for everyone, the workers' revocation of them,
 * the administrators' grants, the roles' grants, each group's members reading
 * it, each user reading and updating their own profile, and who may start
 * each process (its latest version's candidate starters, else the roles).
 */
export function deriveAuthorizations(src: AuthorizationSources): AuthorizationDto[] {
  const rows: AuthorizationDto[] = [];
  for (const [t, perms] of EVERYONE) {
    rows.push(row(`global-${t}`, AUTH_GLOBAL, { userId: '*' }, t, '*', perms));
    rows.push(row(`revoke-${WORKERS_GROUP}-${t}`, AUTH_REVOKE, { groupId: WORKERS_GROUP }, t, '*', perms));
  }
  for (const t of Object.keys(RESOURCE_TYPES).map(Number) as ResourceType[]) {
    const perms = adminPermissions(t);
    rows.push(row(`grant-${ADMIN_GROUP}-${t}`, AUTH_GRANT, { groupId: ADMIN_GROUP }, t, '*', perms.length === RESOURCE_TYPES[t].permissions.length ? ['ALL'] : perms));
  }
  for (const g of roleGroups) for (const [t, perms] of ROLES) rows.push(row(`grant-${g.id}-${t}`, AUTH_GRANT, { groupId: g.id }, t, '*', perms));
  for (const g of src.groups) rows.push(row(`member-${g}`, AUTH_GRANT, { groupId: g }, 2, g, ['READ']));
  for (const u of src.users) rows.push(row(`self-${u}`, AUTH_GRANT, { userId: u }, 1, u, ['READ', 'UPDATE']));
  for (const d of src.definitions) {
    const named = d.starter_groups || d.starter_users;
    const groups = named ? d.starter_groups ?? [] : roleGroups.map((g) => g.id);
    for (const g of groups) rows.push(row(`start-${d.key}-group-${g}`, AUTH_GRANT, { groupId: g }, 6, d.key, ['CREATE_INSTANCE']));
    for (const u of named ? d.starter_users ?? [] : []) rows.push(row(`start-${d.key}-user-${u}`, AUTH_GRANT, { userId: u }, 6, d.key, ['CREATE_INSTANCE']));
  }
  return rows;
}

/** Whether a row speaks of `p`: their own, everyone's, or one of their groups'. */
export const appliesTo = (r: AuthorizationDto, p: Pick<Principal, 'userId' | 'groups'>): boolean =>
  r.userId === p.userId || r.userId === '*' || (r.groupId != null && p.groups.includes(r.groupId));

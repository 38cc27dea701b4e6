import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';

/** What the derived authorizations are made of: every user, every group, the latest version of every process key. */
export interface AuthorizationSources {
  users: string[];
  groups: string[];
  definitions: { key: string; starter_groups: string[] | null; starter_users: string[] | null }[];
}

/**
 * The users, groups and latest process definitions (without tenant, as the
 * start by key picks them) the role model turns into authorization rows.
 */
export async function loadAuthorizationSources(db: Db): Promise<AuthorizationSources> {
  const [users, groups, definitions] = await Promise.all([
    db('users').select('id').orderBy('id'),
    db('groups').select('id').orderBy('id'),
    db('process_definitions as d').select('d.key', 'd.starter_groups', 'd.starter_users').whereNull('d.tenant_id')
      .whereNotExists((s) => s.select(db.raw('1')).from('process_definitions as n')
        .whereRaw('n.key = d.key').whereNull('n.tenant_id').andWhereRaw('n.version > d.version'))
      .orderBy('d.key'),
  ]);
  return {
    users: users.map((u: { id: string }) => u.id),
    groups: groups.map((g: { id: string }) => g.id),
    definitions,
  };
}

/** Whether the instance `id` is one `who` may see (services/instances.ts `visibility`). */
export async function isInstanceVisibleTo(db: Db, id: string, who: { userId: string; groups: string[] }): Promise<boolean> {
  return (await visibleInstanceIds(db, who).where('i.id', id).first()) !== undefined;
}

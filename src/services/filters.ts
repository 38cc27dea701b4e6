import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import {
  countFilters, deleteFilter, findFilter, insertFilter, lockFilter, queryFilters, updateFilter, type FilterQuery, type FilterRow,
} from '../store/filters.ts';
import { findGroup, findUser } from '../store/identity.ts';
import type { Principal } from '../types.ts';
import type { Db } from '../store/db.ts';
import type { TaskRow } from '../store/tasks.ts';
import type { TaskFilter, TaskService } from './tasks.ts';
import type { TraceFact, TraceService } from './trace.ts';

/*
 * Camunda 7's task filters: saved task lists with a name, an owner, a task
 * query and display properties. Who sees a filter: its owner, members of the
 * groups it is shared with, administrators; who changes or deletes it: its
 * owner and administrators. Using a filter never widens what the caller sees:
 * its tasks are read through the task service with the caller's visibility,
 * exactly as GET /task does. The query itself is parsed by the HTTP layer's
 * task query reader (the one POST /task uses), so a filter holds nothing the
 * task list would refuse.
 */

/** A filter as a client gives it (create, or the whole of an update). */
export interface FilterInput {
  name: string;
  /** Absent: the caller on create, unchanged on update. */
  owner?: string | undefined;
  query: Record<string, unknown>;
  properties: Record<string, unknown>;
  sharedGroups: string[];
}

/** More groups than a filter is ever shared with. */
const MAX_SHARED = 50;

const filterFact = (row: Pick<FilterRow, 'id' | 'name' | 'owner' | 'shared_groups'>, operation: string): TraceFact => ({
  operation, entityType: 'Filter', entityId: row.id, processInstanceId: null,
  details: { name: row.name, owner: row.owner, sharedGroups: row.shared_groups },
});

const visibility = (principal: Principal): FilterQuery['visibleTo'] => (principal.isAdmin ? undefined : { userId: principal.userId, groups: principal.groups });

/** May `principal` see `row`: its owner, a member of a group it is shared with, an administrator. */
export function canSeeFilter(row: FilterRow, principal: Principal): boolean {
  return principal.isAdmin || row.owner === principal.userId || row.shared_groups.some((g) => principal.groups.includes(g));
}

/** May `principal` change or delete `row`: its owner or an administrator. */
export function canChangeFilter(row: FilterRow, principal: Principal): boolean {
  return principal.isAdmin || row.owner === principal.userId;
}

export function makeFilterService(db: Knex, tasks: TaskService, trace: TraceService) {
  const notFound = (id: string) => new NotFoundError(`过滤器不存在 / no filter with id ${id}`, { filterId: id });

  /** The owner a filter may be given, and the groups it may be shared with: existing ones; another owner only by an administrator. Read in `db`, the caller's transaction if any (PGlite has one connection). */
  async function checkInput(db: Db, input: FilterInput, principal: Principal, currentOwner?: string): Promise<string> {
    const owner = input.owner ?? currentOwner ?? principal.userId;
    if (owner !== (currentOwner ?? principal.userId) && !principal.isAdmin) {
      throw new ForbiddenError(`只有管理员可以指定其他所有者 / only administrators may give a filter another owner (${owner})`);
    }
    if (owner !== principal.userId && !(await findUser(db, owner))) throw new ValidationError(`所有者不存在 / owner ${owner} is no user`, { owner });
    if (input.sharedGroups.length > MAX_SHARED) throw new ValidationError(`最多共享给 ${MAX_SHARED} 个组 / a filter is shared with at most ${MAX_SHARED} groups`);
    for (const g of input.sharedGroups) {
      if (!(await findGroup(db, g))) throw new ValidationError(`组不存在 / sharedGroups: no group ${g}`, { group: g });
    }
    return owner;
  }

  return {
    /** A filter the caller may see; NotFoundError otherwise, so its existence does not leak. */
    async get(id: string, principal: Principal): Promise<FilterRow> {
      const row = await findFilter(db, id);
      if (!row || !canSeeFilter(row, principal)) throw notFound(id);
      return row;
    },

    /** The filters the caller may see that match `query`. */
    async list(query: Omit<FilterQuery, 'visibleTo'>, principal: Principal): Promise<FilterRow[]> {
      return queryFilters(db, { ...query, visibleTo: visibility(principal) });
    },

    async count(query: Omit<FilterQuery, 'visibleTo' | 'sorting' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countFilters(db, { ...query, visibleTo: visibility(principal) });
    },

    /** Saves a new task filter owned by the caller (or, for an administrator, by the owner named); traced. */
    async create(input: FilterInput, principal: Principal): Promise<FilterRow> {
      const owner = await checkInput(db, input, principal);
      const row = { id: randomUUID(), resource_type: 'Task', name: input.name, owner, query: input.query, properties: input.properties, shared_groups: input.sharedGroups };
      await db.transaction(async (trx) => {
        await insertFilter(trx, row);
        await trace.record(trx, principal, filterFact(row, 'Create'));
      });
      return { ...row, created_at: new Date() };
    },

    /** Replaces a filter's name, query, properties and sharing (its owner or an administrator); traced. */
    async update(id: string, input: FilterInput, principal: Principal): Promise<void> {
      await db.transaction(async (trx) => {
        const row = await lockFilter(trx, id);
        if (!row || !canSeeFilter(row, principal)) throw notFound(id);
        if (!canChangeFilter(row, principal)) throw new ForbiddenError(`只有所有者或管理员可以修改过滤器 / only its owner or an administrator may change filter ${id}`);
        const owner = await checkInput(trx, input, principal, row.owner);
        const updated = { id, resource_type: row.resource_type, name: input.name, owner, query: input.query, properties: input.properties, shared_groups: input.sharedGroups };
        await updateFilter(trx, updated);
        await trace.record(trx, principal, filterFact(updated, 'Update'));
      });
    },

    /** Deletes a filter (its owner or an administrator); traced. */
    async delete(id: string, principal: Principal): Promise<void> {
      await db.transaction(async (trx) => {
        const row = await lockFilter(trx, id);
        if (!row || !canSeeFilter(row, principal)) throw notFound(id);
        if (!canChangeFilter(row, principal)) throw new ForbiddenError(`只有所有者或管理员可以删除过滤器 / only its owner or an administrator may delete filter ${id}`);
        await deleteFilter(trx, id);
        await trace.record(trx, principal, filterFact(row, 'Delete'));
      });
    },

    /**
     * The tasks of a filter the caller may see (NotFoundError otherwise), by
     * the task query `queryOf` makes of its stored one for this caller, read
     * as GET /task reads them: with the caller's visibility.
     */
    async listTasks(id: string, principal: Principal, queryOf: (stored: Record<string, unknown>) => TaskFilter): Promise<TaskRow[]> {
      return tasks.list(queryOf((await this.get(id, principal)).query), principal);
    },

    async countTasks(id: string, principal: Principal, queryOf: (stored: Record<string, unknown>) => TaskFilter): Promise<number> {
      return tasks.count(queryOf((await this.get(id, principal)).query), principal);
    },
  };
}

export type FilterService = ReturnType<typeof makeFilterService>;

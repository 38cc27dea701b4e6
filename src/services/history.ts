import type { Knex } from 'knex';
import { calledInstancesOf, countActivityHistory, queryActivityHistory, type ActivityHistoryQuery, type ActivityHistoryRow } from '../store/activity-history.ts';
import { listDefinitions } from '../store/definitions.ts';
import { countInstances, listInstances, rootInstances, type InstanceQuery } from '../store/instances.ts';
import { countVariableHistory, queryVariableHistory, type VariableHistoryQuery, type VariableHistoryRow } from '../store/variables.ts';
import { ForbiddenError, NotFoundError } from '../errors.ts';
import type { Principal, TypedValue } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { visibility } from './instances.ts';
import type { VariableVault } from './sealed-variables.ts';

export type VariableHistoryEntry = Omit<VariableHistoryRow, 'value' | 'key_id'> & TypedValue;

/** Finished and running instances as history, with their definitions' names and versions. */
export function makeHistoryService(db: Knex, definitions: DefinitionService, vault: VariableVault) {
  /** Opens sealed values; each definition's marked names are looked up once per page. */
  async function opened(rows: VariableHistoryRow[]): Promise<VariableHistoryEntry[]> {
    const marked = new Map<string, ReadonlySet<string>>();
    for (const id of new Set(rows.map((r) => r.definition_id))) marked.set(id, (await definitions.load(id)).sensitive);
    return rows.map((row) => {
      const { key_id: _sealedUnder, value: _stored, ...rest } = row;
      return { ...rest, ...vault.open(row.process_instance_id, row, marked.get(row.definition_id)!) };
    });
  }

  /** The query narrowed to instances the caller may see; null when that leaves none. */
  async function scopedVariables<Q extends VariableHistoryQuery>(query: Q, principal: Principal): Promise<Q | null> {
    if (principal.isAdmin) return query;
    const ids = query.processInstanceIds ?? (query.processInstanceId ? [query.processInstanceId] : undefined);
    if (!ids) throw new ForbiddenError('请指定流程实例 / name the process instance(s) with processInstanceId or processInstanceIdIn');
    const visible = (await listInstances(db, { ids, visibleTo: visibility(principal) })).map((i) => i.id);
    return visible.length ? { ...query, processInstanceId: undefined, processInstanceIds: visible } : null;
  }

  const service = {
    async processInstances(query: Omit<InstanceQuery, 'visibleTo'>, principal: Principal) {
      const rows = await listInstances(db, { ...query, visibleTo: visibility(principal) });
      // One query for the page's definitions, without their compiled form.
      const ids = [...new Set(rows.map((r) => r.definition_id))];
      const defs = new Map((ids.length ? await listDefinitions(db, { ids }) : []).map((d) => [d.id, d]));
      const roots = await rootInstances(db, rows.filter((r) => r.super_process_instance_id).map((r) => r.id));
      return rows.map((r) => ({ ...r, root_process_instance_id: roots.get(r.id) ?? r.id, definition_name: defs.get(r.definition_id)?.name ?? null, definition_version: defs.get(r.definition_id)?.version ?? null }));
    },

    countProcessInstances(query: Omit<InstanceQuery, 'visibleTo' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countInstances(db, { ...query, visibleTo: visibility(principal) });
    },

    /** One instance as history, if the caller may see it. */
    async processInstance(id: string, principal: Principal) {
      const [found] = await service.processInstances({ ids: [id] }, principal);
      if (!found) throw new NotFoundError(`历史流程实例不存在 / historic process instance with id ${id} does not exist`);
      return found;
    },

    /**
     * Variables of instances the caller may see, running or finished. A
     * non-administrator must name the instances (processInstanceId or Ids),
     * so a history query never scans what they could not see anyway.
     */
    async variables(query: VariableHistoryQuery, principal: Principal): Promise<VariableHistoryEntry[]> {
      const scoped = await scopedVariables(query, principal);
      return scoped ? opened(await queryVariableHistory(db, scoped)) : [];
    },

    async countVariables(query: Omit<VariableHistoryQuery, 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      const scoped = await scopedVariables(query, principal);
      return scoped ? countVariableHistory(db, scoped) : 0;
    },

    /** One variable by its history id (`instanceId:name`), opened, if the caller may see its instance. */
    async variable(id: string, principal: Principal): Promise<VariableHistoryEntry> {
      const at = id.indexOf(':');
      const [found] = at > 0 ? await service.variables({ processInstanceId: id.slice(0, at), variableName: id.slice(at + 1) }, principal) : [];
      if (!found) throw new NotFoundError(`历史变量实例不存在 / historic variable instance with id ${id} does not exist`);
      return found;
    },

    /** Element history of the instances the caller may see, with the instances call activities called. */
    async activities(query: Omit<ActivityHistoryQuery, 'visibleTo'>, principal: Principal): Promise<(ActivityHistoryRow & { called_process_instance_id: string | null })[]> {
      const rows = await queryActivityHistory(db, { ...query, visibleTo: visibility(principal) });
      // A call activity's row names the instance it called (Camunda's calledProcessInstanceId).
      const called = await calledInstancesOf(db, [...new Set(rows.filter((a) => a.activity_type === 'callActivity').map((a) => a.process_instance_id))]);
      return rows.map((a) => ({ ...a, called_process_instance_id: called.get(`${a.process_instance_id}:${a.execution_id}`) ?? null }));
    },

    countActivities(query: Omit<ActivityHistoryQuery, 'visibleTo' | 'sorting' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countActivityHistory(db, { ...query, visibleTo: visibility(principal) });
    },

    /** One activity instance by its history id (`activityId:executionId`). */
    async activity(id: string, principal: Principal) {
      const [found] = await service.activities({ activityInstanceId: id }, principal);
      if (!found) throw new NotFoundError(`历史活动实例不存在 / historic activity instance with id ${id} does not exist`);
      return found;
    },
  };
  return service;
}

export type HistoryService = ReturnType<typeof makeHistoryService>;

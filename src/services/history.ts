import type { Knex } from 'knex';
import { listActivities, type ActivityRow } from '../store/activities.ts';
import { listDefinitions } from '../store/definitions.ts';
import { calledInstances, countInstances, listInstances, rootInstances, type InstanceQuery } from '../store/instances.ts';
import { queryVariableHistory, type VariableHistoryRow } from '../store/variables.ts';
import { ForbiddenError } from '../errors.ts';
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

  return {
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

    /**
     * Variables of instances the caller may see, running or finished. A
     * non-administrator must name the instances (processInstanceId or Ids),
     * so a history query never scans what they could not see anyway.
     */
    async variables(query: Parameters<typeof queryVariableHistory>[1], principal: Principal): Promise<VariableHistoryEntry[]> {
      if (principal.isAdmin) return opened(await queryVariableHistory(db, query));
      const ids = query.processInstanceIds ?? (query.processInstanceId ? [query.processInstanceId] : undefined);
      if (!ids) throw new ForbiddenError('请指定流程实例 / name the process instance(s) with processInstanceId or processInstanceIdIn');
      const visible = (await listInstances(db, { ids, visibleTo: visibility(principal) })).map((i) => i.id);
      return visible.length ? opened(await queryVariableHistory(db, { ...query, processInstanceId: undefined, processInstanceIds: visible })) : [];
    },

    /** The element history of one instance the caller may see. */
    async activities(instanceId: string, principal: Principal): Promise<(ActivityRow & { called_process_instance_id: string | null })[]> {
      const [visible] = await listInstances(db, { ids: [instanceId], visibleTo: visibility(principal) });
      if (!visible) return [];
      // A call activity's row names the instance it called (Camunda's calledProcessInstanceId).
      const [rows, called] = await Promise.all([listActivities(db, instanceId), calledInstances(db, instanceId)]);
      return rows.map((a) => ({ ...a, called_process_instance_id: called.get(a.execution_id) ?? null }));
    },
  };
}

export type HistoryService = ReturnType<typeof makeHistoryService>;

import type { Knex } from 'knex';
import { listDefinitions, type DefinitionSummary } from '../store/definitions.ts';
import {
  failedJobs, historicActivityStatistics, openActivities, openIncidents, runningInstancesByDefinition,
  type HistoricActivityQuery, type IncidentCount, type IncidentFilter,
} from '../store/statistics.ts';
import {
  instanceDurations, taskCounts, taskDurations, type InstanceDurationQuery, type TaskReportQuery,
} from '../store/reports.ts';
import type { Principal } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { assertAdmin } from './instances.ts';

/** What a runtime statistics query adds besides the running instances. */
export interface StatisticsOptions {
  failedJobs: boolean;
  incidents: IncidentFilter;
}

export interface Incidents { incidentType: string; incidentCount: number }

const incidentsOf = (rows: IncidentCount[]) => {
  const by = new Map<string, Incidents[]>();
  for (const r of rows) by.set(r.key, [...(by.get(r.key) ?? []), { incidentType: r.incident_type, incidentCount: r.count }]);
  return by;
};

/**
 * Monitors' figures (Camunda's statistics and reports). They aggregate over
 * every instance, whoever may see it, so administrators only.
 */
export function makeStatisticsService(db: Knex, definitions: DefinitionService, zone: string) {
  return {
    /** Per definition version: running instances, failed jobs, open incidents by type. Every deployed version, with or without instances. */
    async definitions(options: StatisticsOptions, principal: Principal) {
      assertAdmin(principal);
      const [defs, running, failed, incidents] = await Promise.all([
        listDefinitions(db, {}), runningInstancesByDefinition(db),
        options.failedJobs ? failedJobs(db, 'definition_id') : new Map<string, number>(),
        openIncidents(db, 'definition_id', options.incidents),
      ]);
      const byDef = incidentsOf(incidents);
      return defs.map((d: DefinitionSummary) => ({
        definition: d, instances: running.get(d.id) ?? 0, failedJobs: failed.get(d.id) ?? 0, incidents: byDef.get(d.id) ?? [],
      }));
    },

    /** Per activity of one definition: instances waiting there, failed jobs, open incidents by type. */
    async activities(definitionId: string, options: StatisticsOptions, principal: Principal) {
      assertAdmin(principal);
      const [waiting, failed, incidents] = await Promise.all([
        openActivities(db, definitionId),
        options.failedJobs ? failedJobs(db, 'activity_id', definitionId) : new Map<string, number>(),
        openIncidents(db, 'activity_id', options.incidents, definitionId),
      ]);
      const byActivity = incidentsOf(incidents);
      const ids = [...new Set([...waiting.keys(), ...failed.keys(), ...byActivity.keys()])].sort();
      return ids.map((id) => ({ id, instances: waiting.get(id) ?? 0, failedJobs: failed.get(id) ?? 0, incidents: byActivity.get(id) ?? [] }));
    },

    /** The latest version of `key`, for the by-key statistics (404 when none is deployed). */
    async latestId(key: string): Promise<string> {
      return (await definitions.getLatest(key)).id;
    },

    async historicActivities(query: HistoricActivityQuery, principal: Principal) {
      assertAdmin(principal);
      return historicActivityStatistics(db, query);
    },

    async instanceDurationReport(query: InstanceDurationQuery, principal: Principal) {
      assertAdmin(principal);
      return instanceDurations(db, query, zone);
    },

    async taskDurationReport(query: TaskReportQuery & Pick<InstanceDurationQuery, 'unit'>, principal: Principal) {
      assertAdmin(principal);
      return taskDurations(db, query, zone);
    },

    async taskCountReport(query: TaskReportQuery, groupBy: 'taskName' | 'processDefinition', principal: Principal) {
      assertAdmin(principal);
      return taskCounts(db, query, groupBy);
    },
  };
}

export type StatisticsService = ReturnType<typeof makeStatisticsService>;

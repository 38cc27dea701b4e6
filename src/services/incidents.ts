import type { Knex } from 'knex';
import { countIncidents, lockOpenIncident, queryIncidents, resolveIncident, setIncidentAnnotation, type IncidentQuery, type IncidentRow } from '../store/incidents.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import type { Principal } from '../types.ts';
import { assertAdmin, visibility } from './instances.ts';
import type { TraceFact, TraceService } from './trace.ts';

/** Incidents only their cause ends: retries given again (external task, job), not a resolve by hand. */
const RESOLVED_BY_RETRIES = new Set(['failedJob', 'failedExternalTask']);

const incidentFact = (i: IncidentRow, operation: string, details?: Record<string, unknown>): TraceFact =>
  ({ operation, entityType: 'Incident', entityId: i.id, processInstanceId: i.process_instance_id, details: { incidentType: i.incident_type, ...details } });

/** Incidents: what stopped and needs a person. Visible with the instance they belong to. */
export function makeIncidentService(db: Knex, trace: TraceService) {
  /** Camunda answers 400 for an incident it cannot find here (SetAnnotationForIncidentCmd). */
  async function annotate(id: string, annotation: string | null, principal: Principal): Promise<void> {
    assertAdmin(principal);
    await db.transaction(async (trx) => {
      const row = await lockOpenIncident(trx, id);
      if (!row) throw new ValidationError(`事件不存在 / incident with id ${id} does not exist`);
      await setIncidentAnnotation(trx, id, annotation);
      await trace.record(trx, principal, incidentFact(row, annotation == null ? 'ClearAnnotation' : 'SetAnnotation', { annotation }));
    });
  }
  return {
    setAnnotation: (id: string, annotation: string, principal: Principal) => annotate(id, annotation, principal),
    clearAnnotation: (id: string, principal: Principal) => annotate(id, null, principal),

    /**
     * Camunda's resolveIncident: 404 for no open incident, 400 for a failed
     * job or external task (given retries, they resolve themselves), and
     * otherwise the incident ends as resolved.
     */
    async resolve(id: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        const row = await lockOpenIncident(trx, id);
        if (!row) throw new NotFoundError(`事件不存在 / incident with id ${id} does not exist`);
        if (RESOLVED_BY_RETRIES.has(row.incident_type)) {
          throw new ValidationError(`${row.incident_type} 类型的事件不能手工解决，请重设重试次数 / Cannot resolve an incident of type ${row.incident_type}; set the retries of its job or external task instead`);
        }
        await resolveIncident(trx, id);
        await trace.record(trx, principal, incidentFact(row, 'Resolve'));
      });
    },

    /** The incidents `query` matches among the instances the caller may see, paged after that restriction. */
    async list(query: IncidentQuery, principal: Principal): Promise<IncidentRow[]> {
      return queryIncidents(db, { ...query, visibleTo: principal.isAdmin ? undefined : visibility(principal) });
    },

    async count(query: IncidentQuery, principal: Principal): Promise<number> {
      return countIncidents(db, { ...query, visibleTo: principal.isAdmin ? undefined : visibility(principal) });
    },

    /** One open incident (Camunda's runtime ones), if its instance is one the caller may see. */
    async get(id: string, principal: Principal): Promise<IncidentRow> {
      const [row] = await this.list({ id, open: true }, principal);
      if (!row) throw new NotFoundError(`事件不存在 / incident with id ${id} does not exist`);
      return row;
    },
  };
}

export type IncidentService = ReturnType<typeof makeIncidentService>;

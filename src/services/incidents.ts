import type { Knex } from 'knex';
import { listInstances } from '../store/instances.ts';
import { queryIncidents, type IncidentQuery, type IncidentRow } from '../store/incidents.ts';
import { NotFoundError } from '../errors.ts';
import type { Principal } from '../types.ts';
import { visibility } from './instances.ts';

/** Incidents: what stopped and needs a person. Visible with the instance they belong to. */
export function makeIncidentService(db: Knex) {
  return {
    async list(query: IncidentQuery, principal: Principal): Promise<IncidentRow[]> {
      const rows = await queryIncidents(db, query);
      if (principal.isAdmin || !rows.length) return rows;
      const ids = [...new Set(rows.map((r) => r.process_instance_id))];
      const visible = new Set((await listInstances(db, { ids, visibleTo: visibility(principal) })).map((i) => i.id));
      return rows.filter((r) => visible.has(r.process_instance_id));
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

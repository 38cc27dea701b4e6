import type { Knex } from 'knex';
import { countIdentityLinkLog, queryIdentityLinkLog, type IdentityLinkLogQuery, type IdentityLinkLogRow } from '../store/identity-link-log.ts';
import type { Principal } from '../types.ts';
import { visibility } from './instances.ts';

/** Camunda's identity link log, of the instances the caller may see (as their tasks' history). */
export function makeIdentityLinkLogService(db: Knex) {
  return {
    query(query: Omit<IdentityLinkLogQuery, 'visibleTo'>, principal: Principal): Promise<IdentityLinkLogRow[]> {
      return queryIdentityLinkLog(db, { ...query, visibleTo: visibility(principal) });
    },
    count(query: Omit<IdentityLinkLogQuery, 'visibleTo' | 'sorting' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countIdentityLinkLog(db, { ...query, visibleTo: visibility(principal) });
    },
  };
}

export type IdentityLinkLogService = ReturnType<typeof makeIdentityLinkLogService>;

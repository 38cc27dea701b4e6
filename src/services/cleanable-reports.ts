import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { cleanableDecisionReport, cleanableProcessReport, finishedBatchesByType, type CleanableQuery } from '../store/cleanable-reports.ts';
import type { Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';

/**
 * Camunda's cleanable reports: per definition (per batch type), how many
 * instances have finished and how many the cleanup would remove now (their
 * removal time passed on the injected clock). Administrators only: they
 * count every user's instances.
 */
export function makeCleanableReportService(db: Knex, clock: Clock) {
  return {
    async processes(q: CleanableQuery, principal: Principal) {
      assertAdmin(principal);
      return cleanableProcessReport(db, q, await clock.now());
    },
    async decisions(q: CleanableQuery, principal: Principal) {
      assertAdmin(principal);
      return cleanableDecisionReport(db, q, await clock.now());
    },
    async batches(q: Pick<CleanableQuery, 'order' | 'firstResult' | 'maxResults'>, principal: Principal) {
      assertAdmin(principal);
      return finishedBatchesByType(db, q);
    },
  };
}

export type CleanableReportService = ReturnType<typeof makeCleanableReportService>;

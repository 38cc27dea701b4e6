import type { Knex } from 'knex';
import { NotFoundError } from '../errors.ts';
import { countJobLog, queryJobLog, type JobLogQuery, type JobLogView } from '../store/job-log.ts';
import type { Principal } from '../types.ts';
import { visibility } from './instances.ts';

/** Camunda's historic job log, of the instances the caller may see (all, for administrators). */
export function makeJobLogService(db: Knex) {
  const service = {
    query(query: Omit<JobLogQuery, 'visibleTo'>, principal: Principal): Promise<JobLogView[]> {
      return queryJobLog(db, { ...query, visibleTo: visibility(principal) });
    },
    count(query: Omit<JobLogQuery, 'visibleTo' | 'sorting' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countJobLog(db, { ...query, visibleTo: visibility(principal) });
    },
    async get(id: string, principal: Principal): Promise<JobLogView> {
      const [found] = await service.query({ id }, principal);
      if (!found) throw new NotFoundError(`作业日志不存在 / Historic job log with id ${id} does not exist`);
      return found;
    },
  };
  return service;
}

export type JobLogService = ReturnType<typeof makeJobLogService>;

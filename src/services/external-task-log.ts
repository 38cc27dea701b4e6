import type { Knex } from 'knex';
import { NotFoundError } from '../errors.ts';
import { countExternalTaskLog, queryExternalTaskLog, type ExternalTaskLogQuery, type ExternalTaskLogRow } from '../store/external-task-log.ts';
import type { Principal } from '../types.ts';
import { visibility } from './instances.ts';

/** Camunda's external task log, of the instances the caller may see. */
export function makeExternalTaskLogService(db: Knex) {
  const service = {
    query(query: Omit<ExternalTaskLogQuery, 'visibleTo'>, principal: Principal): Promise<ExternalTaskLogRow[]> {
      return queryExternalTaskLog(db, { ...query, visibleTo: visibility(principal) });
    },
    count(query: Omit<ExternalTaskLogQuery, 'visibleTo' | 'sorting' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countExternalTaskLog(db, { ...query, visibleTo: visibility(principal) });
    },
    async get(id: string, principal: Principal): Promise<ExternalTaskLogRow> {
      const [found] = await service.query({ id }, principal);
      if (!found) throw new NotFoundError(`外部任务日志不存在 / historic external task log with id ${id} does not exist`);
      return found;
    },
  };
  return service;
}

export type ExternalTaskLogService = ReturnType<typeof makeExternalTaskLogService>;

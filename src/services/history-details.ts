import type { Knex } from 'knex';
import { NotFoundError } from '../errors.ts';
import { countHistoryDetails, queryHistoryDetails, type HistoryDetailQuery, type HistoryDetailRow } from '../store/history-details.ts';
import type { Principal, TypedValue } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { visibility } from './instances.ts';
import type { VariableVault } from './sealed-variables.ts';

export type HistoryDetail = Omit<HistoryDetailRow, 'value' | 'key_id'> & TypedValue;

/**
 * Camunda's historic details: every value a variable took, for the
 * instances the caller may see (as /history/variable-instance). A sealed
 * value is opened only here, for a caller allowed to read its instance.
 */
export function makeHistoryDetailService(db: Knex, definitions: DefinitionService, vault: VariableVault) {
  async function opened(rows: HistoryDetailRow[]): Promise<HistoryDetail[]> {
    const marked = new Map<string, ReadonlySet<string>>();
    for (const id of new Set(rows.map((r) => r.definition_id))) marked.set(id, (await definitions.load(id)).sensitive);
    return rows.map((row) => {
      const { key_id: _sealedUnder, value: _stored, ...rest } = row;
      const stored = { name: row.variable_name, type: row.variable_type, value: row.value, key_id: row.key_id };
      return { ...rest, ...vault.open(row.process_instance_id, stored, marked.get(row.definition_id)!) };
    });
  }

  const service = {
    async query(query: Omit<HistoryDetailQuery, 'visibleTo'>, principal: Principal): Promise<HistoryDetail[]> {
      return opened(await queryHistoryDetails(db, { ...query, visibleTo: visibility(principal) }));
    },
    count(query: Omit<HistoryDetailQuery, 'visibleTo' | 'sorting' | 'firstResult' | 'maxResults'>, principal: Principal): Promise<number> {
      return countHistoryDetails(db, { ...query, visibleTo: visibility(principal) });
    },
    async get(id: string, principal: Principal): Promise<HistoryDetail> {
      const [found] = await service.query({ id }, principal);
      if (!found) throw new NotFoundError(`历史明细不存在 / historic detail with id ${id} does not exist`);
      return found;
    },
  };
  return service;
}

export type HistoryDetailService = ReturnType<typeof makeHistoryDetailService>;

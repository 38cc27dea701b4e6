import { ValidationError } from '../errors.ts';
import { ADMIN_GROUP, type Principal } from '../types.ts';
import type { BatchService } from './batches.ts';
import type { HistoryDeletionService } from './history-deletion.ts';
import type { Selection } from './instance-batches.ts';
import { assertAdmin, type InstanceService } from './instances.ts';

/** Camunda's Batch.TYPE_HISTORIC_PROCESS_INSTANCE_DELETION. */
export const HISTORIC_DELETION_BATCH = 'historic-instance-deletion';

export interface HistoricDeletionOptions {
  deleteReason: string | null;
  failIfNotExists: boolean;
}

/**
 * POST /history/process-instance/delete: a batch (services/batches.ts) with
 * one job per historic instance, each doing what DELETE
 * /history/process-instance/{id} does (finished instances only, traced), as
 * the batch's creator, the job marked done in the transaction that deletes.
 * A job whose instance is missing (with failIfNotExists) or still running
 * fails with that message, as Camunda's job would.
 */
export function makeHistoryBatchService(batches: BatchService, instances: InstanceService, historyDeletion: HistoryDeletionService) {
  const creatorOf = (userId: string | null): Principal => ({ userId: userId ?? 'system', groups: [ADMIN_GROUP], isAdmin: true, source: 'batch' });

  batches.register(HISTORIC_DELETION_BATCH, async (instanceId, batch, finish) => {
    const c = batch.configuration as HistoricDeletionOptions;
    await historyDeletion.deleteProcessInstance(instanceId, c.failIfNotExists, creatorOf(batch.create_user_id), finish, c.deleteReason);
  });

  return {
    /** Writes the batch: historicProcessInstanceIds and the instances the historic query matches, united. */
    async deleteProcessInstances(s: Omit<Selection, 'query'>, options: HistoricDeletionOptions, principal: Principal) {
      assertAdmin(principal);
      const ids = new Set(s.ids);
      if (s.historicQuery) for (const row of await instances.list(s.historicQuery, principal)) ids.add(row.id);
      if (!ids.size) throw new ValidationError('没有要删除的历史流程实例 / historicProcessInstanceIds is empty: give historicProcessInstanceIds or a historicProcessInstanceQuery that matches some');
      return batches.create(HISTORIC_DELETION_BATCH, options, [...ids], principal, { operation: 'Delete', details: { history: true, ...options } });
    },
  };
}

export type HistoryBatchService = ReturnType<typeof makeHistoryBatchService>;

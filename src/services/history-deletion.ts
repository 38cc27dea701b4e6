import type { Knex } from 'knex';
import { ConflictError, NotFoundError } from '../errors.ts';
import { deleteInstanceHistory, deleteVariableHistory, lockInstanceState } from '../store/history-deletion.ts';
import type { Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';
import type { TraceService } from './trace.ts';

const notFound = (id: string) => new NotFoundError(`历史流程实例不存在 / historic process instance with id ${id} does not exist`);
const stillRunning = (id: string) => new ConflictError(`流程实例 ${id} 仍在运行，不能删除其历史 / process instance ${id} is still running, cannot delete its history`, undefined, 'ProcessEngineException');

/**
 * Deleting history (Camunda's DELETE_HISTORY): administrators only, and
 * only of finished instances, since a running instance's variables are its
 * live state here. Each deletion is traced in its own transaction.
 */
export function makeHistoryDeletionService(db: Knex, trace: TraceService) {
  /** Locks a finished instance for deletion, or throws: 404 if none (unless `quiet`), 409 if it runs. */
  async function finished(trx: Knex.Transaction, id: string, quiet = false): Promise<boolean> {
    const state = await lockInstanceState(trx, id);
    if (state === undefined) {
      if (quiet) return false;
      throw notFound(id);
    }
    if (state === 'ACTIVE') throw stillRunning(id);
    return true;
  }

  return {
    /**
     * Camunda's DELETE /history/process-instance/{id}; `failIfNotExists=false` makes a missing one a success.
     * A batch job (POST /history/process-instance/delete) passes `finish`, which marks it done in the same transaction.
     */
    async deleteProcessInstance(id: string, failIfNotExists: boolean, principal: Principal, finish?: (trx: Knex.Transaction) => Promise<void>, deleteReason?: string | null): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        if (await finished(trx, id, !failIfNotExists)) {
          await deleteInstanceHistory(trx, id);
          await trace.record(trx, principal, { operation: 'Delete', entityType: 'ProcessInstance', entityId: id, processInstanceId: id, details: { history: true, ...(deleteReason ? { deleteReason } : {}) } });
        }
        await finish?.(trx);
      });
    },

    /** Camunda's DELETE /history/process-instance/{id}/variable-instances. */
    async deleteVariablesOf(id: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        await finished(trx, id);
        const count = await deleteVariableHistory(trx, id);
        await trace.record(trx, principal, { operation: 'Delete', entityType: 'Variable', entityId: null, processInstanceId: id, details: { history: true, count } });
      });
    },

    /** Camunda's DELETE /history/variable-instance/{id}, the id being `instanceId:name`. */
    async deleteVariable(variableId: string, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const at = variableId.indexOf(':');
      const missing = new NotFoundError(`历史变量实例不存在 / historic variable instance with id ${variableId} does not exist`);
      if (at < 1) throw missing;
      const [id, name] = [variableId.slice(0, at), variableId.slice(at + 1)];
      await db.transaction(async (trx) => {
        if (!(await finished(trx, id, true))) throw missing;
        if (!(await deleteVariableHistory(trx, id, name))) throw missing;
        await trace.record(trx, principal, { operation: 'Delete', entityType: 'Variable', entityId: variableId, processInstanceId: id, details: { history: true, variables: [name] } });
      });
    },
  };
}

export type HistoryDeletionService = ReturnType<typeof makeHistoryDeletionService>;

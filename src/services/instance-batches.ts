import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { contextOf, open, seal } from '../crypto/envelope.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { findSubscriptions } from '../store/messages.ts';
import type { BatchRow } from '../store/batches.ts';
import type { InstanceQuery } from '../store/instances.ts';
import { ADMIN_GROUP, type Principal, type Variables } from '../types.ts';
import type { BatchService } from './batches.ts';
import { assertAdmin, type InstanceService } from './instances.ts';
import type { MessageService } from './messages.ts';
import type { VariableVault } from './sealed-variables.ts';
import type { SuspensionService } from './suspension.ts';

/** Camunda's batch types (Batch.TYPE_*) of the instance operations run here. */
export const DELETION_BATCH = 'instance-deletion';
export const SUSPENSION_BATCH = 'instance-update-suspension-state';
export const MESSAGE_BATCH = 'correlate-message';
export const VARIABLES_BATCH = 'set-variables';

type Query = Omit<InstanceQuery, 'visibleTo'>;

/** Which instances a batch operation names: Camunda's processInstanceIds, processInstanceQuery and historicProcessInstanceQuery, united. */
export interface Selection {
  ids: string[];
  query?: Query | undefined;
  historicQuery?: Query | undefined;
}

export interface DeletionOptions {
  deleteReason: string | null;
  skipCustomListeners: boolean;
  failIfNotExists: boolean;
}

/** Variables travel in the batch row until its jobs set them: sealed whole, as they may be sensitive (sealed-variables.ts). */
interface SealedVariables {
  sealed: unknown;
}

/**
 * Camunda's asynchronous instance operations (POST /process-instance/delete,
 * /delete-historic-query-based, /suspended-async, /variables-async,
 * /message-async): each writes a batch with one job per instance
 * (services/batches.ts), and each job does on its instance what the
 * synchronous operation does (same service, same checks and trace), as the
 * batch's creator, with the job marked done in the transaction that saves it.
 */
/** What a batch's sealed variables are bound to: the batch (re-encryption seals them again under the same). */
export const batchVariablesContext = (batchId: string): Buffer => contextOf('batch-variables', batchId);

export function makeInstanceBatchService(db: Knex, batches: BatchService, instances: InstanceService, suspension: SuspensionService, messages: MessageService, vault: VariableVault) {
  const sealVariables = (batchId: string, variables: Variables): SealedVariables => ({
    sealed: seal(vault.keyring, Buffer.from(JSON.stringify(variables), 'utf8'), batchVariablesContext(batchId)),
  });
  const openVariables = (batch: BatchRow): Variables => JSON.parse(open(vault.keyring, (batch.configuration as SealedVariables).sealed, batchVariablesContext(batch.id)).toString('utf8')) as Variables;

  /**
   * The batch's creator as the principal its jobs act as: only
   * administrators create batches, and a job does what they asked.
   */
  const creatorOf = (batch: BatchRow): Principal => ({ userId: batch.create_user_id ?? 'system', groups: [ADMIN_GROUP], isAdmin: true, source: 'batch' });

  /** The instances a selection names, at least one (Camunda: "processInstanceIds is empty"). */
  async function instancesOf(s: Selection, principal: Principal): Promise<string[]> {
    const ids = new Set(s.ids);
    for (const q of [s.query, s.historicQuery]) {
      if (q) for (const row of await instances.list(q, principal)) ids.add(row.id);
    }
    if (!ids.size) throw new ValidationError('没有要处理的流程实例 / processInstanceIds is empty: give processInstanceIds or a query that matches some process instances');
    return [...ids];
  }

  batches.register(DELETION_BATCH, async (instanceId, batch, finish) => {
    const c = batch.configuration as DeletionOptions;
    await instances.remove(instanceId, c.deleteReason, creatorOf(batch), c.skipCustomListeners, finish).catch(async (err) => {
      // failIfNotExists false: an instance gone meanwhile is skipped, as Camunda's deletion skips it.
      if (err instanceof NotFoundError && !c.failIfNotExists) return db.transaction(finish);
      throw err;
    });
  });
  batches.register(SUSPENSION_BATCH, async (instanceId, batch, finish) => {
    await suspension.setInstanceInBatch(instanceId, (batch.configuration as { suspended: boolean }).suspended, creatorOf(batch), finish);
  });
  batches.register(VARIABLES_BATCH, async (instanceId, batch, finish) => {
    await instances.modifyVariables(instanceId, { modifications: openVariables(batch), deletions: [] }, creatorOf(batch), finish);
  });
  batches.register(MESSAGE_BATCH, async (instanceId, batch, finish) => {
    const messageName = (batch.configuration as { messageName: string }).messageName;
    const input = { messageName, processInstanceId: instanceId, correlationKeys: {}, processVariables: openVariables(batch), all: true };
    // Camunda's job correlates to all the instance's executions waiting for it (executionsOnly), none being no error.
    const waiting = (await findSubscriptions(db, input)).length;
    if (!waiting) return db.transaction(finish);
    // Each delivery is its own transaction: the job is marked done with the last, so a kill -9 before it leaves the job pending with the rest still waiting.
    let delivered = 0;
    await messages.correlate(input, creatorOf(batch), async (trx) => {
      if (++delivered === waiting) await finish(trx);
    });
  });

  return {
    /** POST /process-instance/delete and /delete-historic-query-based. */
    async delete(s: Selection, options: DeletionOptions, principal: Principal) {
      assertAdmin(principal);
      const ids = await instancesOf(s, principal);
      return batches.create(DELETION_BATCH, options, ids, principal, { operation: 'Delete', details: { ...options } });
    },
    /** POST /process-instance/suspended-async. */
    async setSuspended(s: Selection, suspended: boolean, principal: Principal) {
      assertAdmin(principal);
      const ids = await instancesOf(s, principal);
      return batches.create(SUSPENSION_BATCH, { suspended }, ids, principal, { operation: suspended ? 'Suspend' : 'Activate', details: { suspended } });
    },
    /** POST /process-instance/variables-async: the variables sealed in the batch until its jobs set them. */
    async setVariables(s: Selection, variables: Variables, principal: Principal) {
      assertAdmin(principal);
      if (!Object.keys(variables).length) throw new ValidationError('variables 不能为空 / variables must not be empty', { field: 'variables' });
      const ids = await instancesOf(s, principal);
      const id = randomUUID();
      return batches.create(VARIABLES_BATCH, sealVariables(id, variables), ids, principal, { operation: 'SetVariables', details: { variables: Object.keys(variables) } }, id);
    },
    /** POST /process-instance/message-async: to executions only, never a start. */
    async correlate(s: Selection, messageName: string, variables: Variables, principal: Principal) {
      assertAdmin(principal);
      const ids = await instancesOf(s, principal);
      const id = randomUUID();
      return batches.create(MESSAGE_BATCH, { messageName, ...sealVariables(id, variables) }, ids, principal, {
        operation: 'CorrelateMessage', details: { messageName, variables: Object.keys(variables) },
      }, id);
    },
  };
}

export type InstanceBatchService = ReturnType<typeof makeInstanceBatchService>;

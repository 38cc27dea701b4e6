import os from 'node:os';
import type { Knex } from 'knex';
import { EnvelopeError, open, seal } from '../crypto/envelope.ts';
import { IntegrityError } from '../errors.ts';
import { listWebhooksUnderOtherKeys, replaceWebhookSealed } from '../store/notification-webhooks.ts';
import { listAttachmentsUnderOtherKeys, replaceAttachmentContent } from '../store/attachments.ts';
import { resealAttachment } from './attachments.ts';
import { batchVariablesContext } from './instance-batches.ts';
import { listBatchesSealedUnderOtherKeys, replaceBatchConfiguration } from '../store/batches.ts';
import { listHistoryDetailsAfter, replaceHistoryDetailValue, type HistoryDetailRef } from '../store/history-details.ts';
import { resealWebhook } from './notification-webhooks.ts';
import { countSealedUnderOtherKeys } from '../store/encryption-keys.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { listDecisionValuesToReseal, replaceDecisionValue } from '../store/decision-instances.ts';
import { listSealedOutboxAfter, replaceOutboxPayload } from '../store/outbox.ts';
import { listTaskVariablesAfter, replaceTaskStoredValue, type TaskVariableRow } from '../store/task-variables.ts';
import { listVariablesAfter, replaceStoredValue, type StoredVariable, type VariableRowRef } from '../store/variables.ts';
import type { DefinitionService } from './definitions.ts';
import { resealDecisionValue } from './sealed-decision-values.ts';
import { isSensitive, type VariableVault } from './sealed-variables.ts';
import { taskVariableScope } from './task-locals.ts';
import { recordTrace, type TraceFact } from './trace.ts';
import { SYSTEM } from '../types.ts';

/** How many instance ids a batch's trace row names. */
const MAX_IDS = 100;

/** A batch's trace row: how many values of which instances it rewrote, never the values. */
function batchFact(entityType: 'Variable' | 'Message' | 'DecisionInstance' | 'NotificationWebhook' | 'Attachment' | 'HistoryDetail' | 'Batch', keyId: string, counts: Record<string, number>, instanceIds: string[]): TraceFact {
  const ids = [...new Set(instanceIds)];
  return {
    operation: 'Reencrypt', entityType, processInstanceId: ids.length === 1 ? ids[0] : null,
    details: { currentKeyId: keyId, ...counts, ...(ids.length > 1 ? { processInstanceIds: ids.slice(0, MAX_IDS) } : {}), host: os.hostname() },
  };
}

export interface ReencryptResult {
  /** Sealed under an older key, now under the current one (variables, waiting messages, decision history). */
  rotated: number;
  /** Sensitive but stored plain (written before encryption existed), now sealed. */
  sealed: number;
  /** Changed by a running server between read and write: left as that server wrote it. */
  changedMeanwhile: number;
  /** Rows that failed their integrity check: left untouched, for someone to look at. */
  failed: { processInstanceId: string; variableName: string; reason: IntegrityError['reason'] }[];
  /**
   * Still sealed under an older key at the end: the failed ones, and any a
   * server still running with the old current key wrote meanwhile.
   */
  remaining: number;
}

/**
 * Brings every variable under the current key: rewrites values sealed under
 * older keys, and seals sensitive values still stored plain; then the same
 * for the payloads of messages waiting in the outbox. Works in
 * batches, each in its own transaction, and rewrites a row only if it is
 * still exactly as read, so servers may keep running meanwhile; a value a
 * server rewrote since is already under that server's current key.
 * Traced by `system`: each batch that rewrote something as a `Reencrypt`
 * row in its own transaction, and the run's outcome as a last row.
 */
export async function reencryptVariables(
  db: Knex, vault: VariableVault, definitions: DefinitionService,
  options: { batchSize?: number; onBatch?: (progress: ReencryptResult) => void } = {},
): Promise<ReencryptResult> {
  const result: ReencryptResult = { rotated: 0, sealed: 0, changedMeanwhile: 0, failed: [], remaining: 0 };
  await resealVariableRows(db, vault, definitions, result, {
    entityType: 'Variable', batchSize: options.batchSize ?? 500, onBatch: options.onBatch,
    list: (plain, after: VariableRowRef | null, limit) => listVariablesAfter(db, {
      currentKeyId: vault.keyring.current, plain, after: after && { instanceId: after.process_instance_id, name: after.name }, limit,
    }),
    scopeOf: (row) => row.process_instance_id,
    replace: (trx, row, next) => replaceStoredValue(trx, row.process_instance_id, row, next),
  });
  await reencryptTaskVariables(db, vault, definitions, options.batchSize ?? 500, result);
  await reencryptOutbox(db, vault, options.batchSize ?? 500, result);
  await reencryptDecisionHistory(db, vault.keyring, options.batchSize ?? 500, result);
  await reencryptWebhooks(db, vault.keyring, result);
  await reencryptAttachments(db, vault.keyring, options.batchSize ?? 500, result);
  await reencryptHistoryDetails(db, vault, definitions, options.batchSize ?? 500, result);
  await reencryptBatches(db, vault.keyring, result);
  result.remaining = await countSealedUnderOtherKeys(db, vault.keyring.current);
  await db.transaction((trx) => recordTrace(trx, SYSTEM, {
    operation: 'Reencrypt', entityType: 'EncryptionKey', entityId: vault.keyring.current,
    details: {
      currentKeyId: vault.keyring.current, rotated: result.rotated, sealed: result.sealed, changedMeanwhile: result.changedMeanwhile,
      remaining: result.remaining, failed: result.failed.slice(0, MAX_IDS), host: os.hostname(),
    },
  }));
  return result;
}

/** Thrown messages still waiting, sealed under an older key: their payloads are sealed again, as variables are. */
async function reencryptOutbox(db: Knex, vault: VariableVault, batchSize: number, result: ReencryptResult): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const rows = await listSealedOutboxAfter(db, vault.keyring.current, after, batchSize);
    if (!rows.length) return;
    after = rows[rows.length - 1]!.id;
    const rewrites = rows.flatMap((row) => resealed(row, () => vault.resealPayload(row), result));
    await db.transaction(async (trx) => {
      const done: string[] = [];
      for (const { row, next } of rewrites) {
        if (await replaceOutboxPayload(trx, row, next)) done.push(row.source_process_instance_id);
        else result.changedMeanwhile++;
      }
      result.rotated += done.length;
      if (done.length) await recordTrace(trx, SYSTEM, batchFact('Message', vault.keyring.current, { rotated: done.length }, done));
    });
  }
}

/** Decision history's inputs and outputs (always sealed) under an older key: sealed again under the current one. */
async function reencryptDecisionHistory(db: Knex, keyring: Keyring, batchSize: number, result: ReencryptResult): Promise<void> {
  for (const which of ['inputs', 'outputs'] as const) {
    const kind = which === 'inputs' ? 'input' : 'output';
    let after: string | null = null;
    for (;;) {
      const rows = await listDecisionValuesToReseal(db, which, { currentKeyId: keyring.current, after, limit: batchSize });
      if (!rows.length) break;
      after = rows[rows.length - 1]!.id;
      const rewrites = rows.flatMap((row) => resealed(row, () => resealDecisionValue(keyring, kind, row, row.process_instance_id), result));
      await db.transaction(async (trx) => {
        const done: string[] = [];
        for (const { row, next } of rewrites) {
          const { process_instance_id: processInstanceId, ...stored } = row;
          if (await replaceDecisionValue(trx, which, stored, next)) done.push(processInstanceId ?? '');
          else result.changedMeanwhile++;
        }
        result.rotated += done.length;
        if (done.length) await recordTrace(trx, SYSTEM, batchFact('DecisionInstance', keyring.current, { rotated: done.length }, done.filter(Boolean)));
      });
    }
  }
}

/** Role robots' addresses and secrets under an older key: sealed again under the current one (a handful of rows). */
async function reencryptWebhooks(db: Knex, keyring: Keyring, result: ReencryptResult): Promise<void> {
  const rewrites: { row: Awaited<ReturnType<typeof listWebhooksUnderOtherKeys>>[number]; next: ReturnType<typeof resealWebhook> }[] = [];
  for (const row of await listWebhooksUnderOtherKeys(db, keyring.current)) {
    try {
      rewrites.push({ row, next: resealWebhook(keyring, row) });
    } catch (err) {
      if (!(err instanceof EnvelopeError)) throw err;
      result.failed.push({ processInstanceId: '', variableName: `notification-webhook:${row.id}`, reason: err.reason });
    }
  }
  if (!rewrites.length) return;
  await db.transaction(async (trx) => {
    let done = 0;
    for (const { row, next } of rewrites) {
      if (await replaceWebhookSealed(trx, row, next)) done++;
      else result.changedMeanwhile++;
    }
    result.rotated += done;
    if (done) await recordTrace(trx, SYSTEM, batchFact('NotificationWebhook', keyring.current, { rotated: done }, []));
  });
}

/** Task attachments' content (always sealed) under an older key: sealed again under the current one. */
async function reencryptAttachments(db: Knex, keyring: Keyring, batchSize: number, result: ReencryptResult): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const rows = await listAttachmentsUnderOtherKeys(db, keyring.current, after, batchSize);
    if (!rows.length) return;
    after = rows[rows.length - 1]!.id;
    const rewrites = rows.flatMap((row) => resealed(row, () => resealAttachment(keyring, row), result));
    await db.transaction(async (trx) => {
      const done: string[] = [];
      for (const { row, next } of rewrites) {
        if (await replaceAttachmentContent(trx, row, next)) done.push(row.process_instance_id);
        else result.changedMeanwhile++;
      }
      result.rotated += done.length;
      if (done.length) await recordTrace(trx, SYSTEM, batchFact('Attachment', keyring.current, { rotated: done.length }, done));
    });
  }
}

/**
 * The values variables took over time (GET /history/detail), as the
 * variables themselves: rotated, then the sensitive plain ones sealed. Each
 * is bound to its instance and variable name, as the variable was.
 */
async function reencryptHistoryDetails(db: Knex, vault: VariableVault, definitions: DefinitionService, batchSize: number, result: ReencryptResult): Promise<void> {
  await resealVariableRows(db, vault, definitions, result, {
    entityType: 'HistoryDetail', batchSize,
    list: (plain, after: HistoryDetailRef | null, limit) => listHistoryDetailsAfter(db, { currentKeyId: vault.keyring.current, plain, afterSeq: after?.seq ?? 0, limit }),
    scopeOf: (row) => row.process_instance_id,
    replace: (trx, row, next) => replaceHistoryDetailValue(trx, row.id, row, next),
  });
}

/** Running variables-async and message-async batches: the variables their jobs will set, sealed in the configuration. */
async function reencryptBatches(db: Knex, keyring: Keyring, result: ReencryptResult): Promise<void> {
  for (const batch of await listBatchesSealedUnderOtherKeys(db, keyring.current)) {
    const config = batch.configuration as { sealed: unknown };
    const context = batchVariablesContext(batch.id);
    const next = { ...config, sealed: seal(keyring, open(keyring, config.sealed, context), context) };
    await db.transaction(async (trx) => {
      if (!(await replaceBatchConfiguration(trx, batch.id, batch.configuration, next))) {
        result.changedMeanwhile++;
        return;
      }
      result.rotated++;
      await recordTrace(trx, SYSTEM, { ...batchFact('Batch', keyring.current, { rotated: 1 }, []), entityId: batch.id });
    });
  }
}

/** Tasks' own variables, as the instances' are: rotated, then the sensitive plain ones sealed. */
async function reencryptTaskVariables(db: Knex, vault: VariableVault, definitions: DefinitionService, batchSize: number, result: ReencryptResult): Promise<void> {
  await resealVariableRows(db, vault, definitions, result, {
    entityType: 'Variable', batchSize,
    list: (plain, after: (TaskVariableRow & { definition_id: string }) | null, limit) => listTaskVariablesAfter(db, {
      currentKeyId: vault.keyring.current, plain, after: after && { taskId: after.task_id, name: after.name }, limit,
    }),
    scopeOf: (row) => taskVariableScope(row.process_instance_id, row.task_id),
    replace: (trx, row, next) => replaceTaskStoredValue(trx, row.task_id, row, next),
  });
}

/**
 * Rows shaped like variables (an instance's, a task's, the values recorded
 * in history): those under an older key sealed again under the current one,
 * then the plain ones a definition now marks sensitive sealed, batch by
 * batch, each batch in its transaction with its trace row. A row changed
 * since it was read is left to whoever changed it (`replace` says false).
 */
async function resealVariableRows<R extends StoredVariable & { process_instance_id: string; definition_id: string }>(
  db: Knex, vault: VariableVault, definitions: DefinitionService, result: ReencryptResult, rows: {
    entityType: 'Variable' | 'HistoryDetail'; batchSize: number; onBatch?: ((progress: ReencryptResult) => void) | undefined;
    list: (plain: boolean, after: R | null, limit: number) => Promise<R[]>;
    scopeOf: (row: R) => string;
    replace: (trx: Knex.Transaction, row: R, next: StoredVariable) => Promise<boolean>;
  },
): Promise<void> {
  for (const plain of [false, true]) {
    let after: R | null = null;
    for (;;) {
      const batch = await rows.list(plain, after, rows.batchSize);
      if (!batch.length) break;
      after = batch[batch.length - 1]!;
      // Definitions are read before the transaction: on PGlite there is one connection.
      const marked = new Map<string, ReadonlySet<string>>();
      for (const id of new Set(batch.map((r) => r.definition_id))) marked.set(id, (await definitions.load(id)).sensitive);
      const rewrites = batch.flatMap((row) => rewrite(vault, rows.scopeOf(row), row, marked.get(row.definition_id)!, result));
      await db.transaction(async (trx) => {
        const done: string[] = [];
        for (const { row, next } of rewrites) {
          if (await rows.replace(trx, row, next)) done.push(row.process_instance_id);
          else result.changedMeanwhile++;
        }
        result[plain ? 'sealed' : 'rotated'] += done.length;
        if (done.length) await recordTrace(trx, SYSTEM, batchFact(rows.entityType, vault.keyring.current, { [plain ? 'sealed' : 'rotated']: done.length }, done));
      });
      rows.onBatch?.(result);
    }
  }
}

/** The new stored form of one row (sealed bound to `scope`), or nothing when it needs none or fails its check. */
function rewrite<R extends StoredVariable>(vault: VariableVault, scope: string, row: R, marked: ReadonlySet<string>, result: ReencryptResult): { row: R; next: StoredVariable }[] {
  if (row.key_id == null && !isSensitive(row.name, row.type, marked)) return [];
  return resealed(row, () => (row.key_id == null
    ? vault.toStored(scope, row.name, { type: row.type, value: row.value }, marked)
    : vault.reseal(scope, row, marked)), result);
}

/** One row sealed again; a row that fails its check is reported in `failed` and left as it is. */
function resealed<R, N>(row: R, reseal: () => N, result: ReencryptResult): { row: R; next: N }[] {
  try {
    return [{ row, next: reseal() }];
  } catch (err) {
    if (!(err instanceof IntegrityError)) throw err;
    result.failed.push({ processInstanceId: err.processInstanceId, variableName: err.variableName, reason: err.reason });
    return [];
  }
}

import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { AppError, NotFoundError, ValidationError } from '../errors.ts';
import type { DueSource } from '../scheduler/timers.ts';
import {
  countBatches, deleteBatch, deleteEndedBatch, findBatch, finishJob, insertBatch, leaseJobs, listBatches, lockPendingJob, msUntilNextJob, setBatchSuspended,
  type BatchJobRow, type BatchQuery, type BatchRow,
} from '../store/batches.ts';
import type { Principal } from '../types.ts';
import { assertAdmin } from './instances.ts';
import { checkExecuteFlags, type MigrationService } from './migration.ts';
import { parseModification, type ExecuteBody, type Modification, type ModificationService } from './modification.ts';
import type { TraceFact, TraceService } from './trace.ts';
import type { Db } from '../store/db.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';

/** Camunda's batch type of an asynchronous migration. */
export const MIGRATION_BATCH = 'instance-migration';
/** Camunda's batch type of an asynchronous modification. */
export const MODIFICATION_BATCH = 'instance-modification';
/**
 * How long a server holds the jobs it leased before another may take them.
 * Short: a job is done under its row lock in one transaction, so the lease
 * only spreads work; after a kill -9 the jobs of the dead server wait this long.
 */
const LEASE_MS = 10_000;

/** Thrown in a job's transaction when another server did the job meanwhile: the work rolls back. */
const JOB_TAKEN = new Error('batch job taken');

/**
 * Does one job of a registered kind of batch on its instance, calling
 * `finish(trx)` in the transaction that saves the work (see runRegistered).
 */
export type JobRunner = (instanceId: string, batch: BatchRow, finish: (trx: Db) => Promise<void>) => Promise<void>;

/** What a migration batch stores to run its jobs: the migration plan as the client sent it. */
interface MigrationConfiguration {
  migrationPlan: Record<string, unknown>;
}

/** What a modification batch stores: the definition and the request's instructions and flags as sent (parsed again per job). */
interface ModificationConfiguration {
  processDefinitionId: string;
  instructions: unknown[];
  skipCustomListeners: boolean;
  skipIoMappings: boolean;
  annotation: string | null;
}

/**
 * Camunda's batches, of two kinds: `/migration/executeAsync` and
 * `/modification/executeAsync` each create one with a job per instance; the
 * scheduler runs the jobs (this service is one of its due sources); `/batch`
 * reads, suspends and deletes them.
 */
export function makeBatchService(db: Knex, migration: MigrationService, modification: ModificationService, trace: TraceService, notifier: TopicNotifier) {
  /** POST /migration/executeAsync: the plan and instances checked, the batch and its jobs written in one transaction. */
  async function migrateAsync(body: Record<string, unknown>, principal: Principal) {
    assertAdmin(principal);
    checkExecuteFlags(body);
    const plan = await migration.checkPlan(body.migrationPlan);
    migration.assertValidPlan(plan);
    const ids = await migration.instancesOf(body);
    const id = randomUUID();
    const configuration: MigrationConfiguration = { migrationPlan: plan.raw };
    return db.transaction(async (trx) => {
      const batch = await insertBatch(trx, { id, type: MIGRATION_BATCH, configuration, create_user_id: principal.userId, tenant_id: null }, ids);
      await trace.record(trx, principal, {
        operation: 'Migrate', entityType: 'Batch', entityId: id,
        details: { async: true, nrOfInstances: ids.length, sourceProcessDefinitionId: plan.source.id, targetProcessDefinitionId: plan.target.id, instructions: plan.instructions },
      });
      // The scheduler sleeps until due work is announced: its jobs are due now.
      await notifier.announce(trx, [TIMERS_TOPIC]);
      return batch;
    });
  }

  /** POST /modification/executeAsync: the request and instances checked, the batch and its jobs written in one transaction. */
  async function modifyAsync(body: ExecuteBody, principal: Principal) {
    const ids = await modification.checkAsync(body, principal);
    const m = body.modification;
    const id = randomUUID();
    const configuration: ModificationConfiguration = {
      processDefinitionId: body.processDefinitionId, instructions: m.raw, skipCustomListeners: m.skipCustomListeners, skipIoMappings: m.skipIoMappings, annotation: m.annotation ?? null,
    };
    return db.transaction(async (trx) => {
      const batch = await insertBatch(trx, { id, type: MODIFICATION_BATCH, configuration, create_user_id: principal.userId, tenant_id: null }, ids);
      await trace.record(trx, principal, {
        operation: 'ModifyProcessInstance', entityType: 'Batch', entityId: id,
        details: { async: true, nrOfInstances: ids.length, processDefinitionId: body.processDefinitionId, annotation: m.annotation ?? null, instructions: m.raw },
      });
      await notifier.announce(trx, [TIMERS_TOPIC]);
      return batch;
    });
  }

  /**
   * POST /process-instance/{id}/modification-async: a modification batch of
   * one job, as Camunda's; unlike /modification/executeAsync, its
   * instructions may name the instance's activity instances.
   */
  async function modifyInstanceAsync(instanceId: string, m: Modification, principal: Principal) {
    const processDefinitionId = await modification.checkOneAsync(instanceId, m, principal);
    const configuration: ModificationConfiguration = {
      processDefinitionId, instructions: m.raw, skipCustomListeners: m.skipCustomListeners, skipIoMappings: m.skipIoMappings, annotation: m.annotation ?? null,
    };
    return create(MODIFICATION_BATCH, configuration, [instanceId], principal, {
      operation: 'ModifyProcessInstance', processInstanceId: instanceId, details: { processDefinitionId, annotation: m.annotation ?? null, instructions: m.raw },
    });
  }

  /**
   * Modifies one job's instance, claiming and marking the job in the
   * transaction that saves it. A refusal (AppError: the instance ended or
   * changed so an instruction no longer applies) fails the job with its
   * message, as a migration job whose instance no longer validates.
   */
  async function runModificationJob(job: BatchJobRow, batch: BatchRow): Promise<void> {
    const c = batch.configuration as ModificationConfiguration;
    const actor = { userId: batch.create_user_id ?? 'system', source: 'batch' };
    try {
      const m = parseModification({ instructions: c.instructions, skipCustomListeners: c.skipCustomListeners, skipIoMappings: c.skipIoMappings, annotation: c.annotation });
      await modification.runJob(job.process_instance_id, c.processDefinitionId, m, actor, batch.id, {
        claim: async (trx) => Boolean(await lockPendingJob(trx, job.id)),
        done: (trx) => finishJob(trx, job, null),
      });
    } catch (err) {
      if (!(err instanceof AppError)) throw err;
      await db.transaction(async (trx) => {
        const held = await lockPendingJob(trx, job.id);
        if (held) await finishJob(trx, held, err.message);
      });
    }
  }

  /** The runners of the other kinds of batch (instance-batches.ts), by Camunda's batch type. */
  const runners = new Map<string, JobRunner>();

  /**
   * Runs a registered kind's job: its runner does the job's work and calls
   * `finish(trx)` in the transaction that saves it, which claims the job
   * (still pending, not held) and marks it done, so after a kill -9 a job is
   * either done with its effect saved, or pending with nothing saved. A job
   * claimed elsewhere meanwhile rolls the work back. A refusal (AppError)
   * fails the job with its message.
   */
  async function runRegistered(runner: JobRunner, job: BatchJobRow, batch: BatchRow): Promise<void> {
    const finish = async (trx: Db) => {
      if (!(await lockPendingJob(trx, job.id))) throw JOB_TAKEN;
      await finishJob(trx, job, null);
    };
    try {
      await runner(job.process_instance_id, batch, finish);
    } catch (err) {
      if (err === JOB_TAKEN) return;
      if (!(err instanceof AppError)) throw err;
      await db.transaction(async (trx) => {
        const held = await lockPendingJob(trx, job.id);
        if (held) await finishJob(trx, held, err.message);
      });
    }
  }

  /** Runs one job and marks it in the same transaction; a job done or held elsewhere is left alone. */
  async function runJob(job: BatchJobRow): Promise<void> {
    const batch = await findBatch(db, job.batch_id);
    if (!batch || batch.end_time) return;
    if (batch.type === MODIFICATION_BATCH) return runModificationJob(job, batch);
    const runner = runners.get(batch.type);
    if (runner) return runRegistered(runner, job, batch);
    const plan = await migration.checkPlan((batch.configuration as MigrationConfiguration).migrationPlan);
    const actor = { userId: batch.create_user_id ?? 'system', source: 'batch' };
    await db.transaction(async (trx) => {
      const held = await lockPendingJob(trx, job.id);
      if (!held) return;
      const failed = await migration.migrateOne(trx, plan, held.process_instance_id, actor, batch.id);
      await finishJob(trx, held, failed ? migration.instanceRefused(failed).message : null);
    });
  }

  const source: DueSource<BatchJobRow & { attempts: number }> = {
    async claimDue(owner, limit) {
      return (await leaseJobs(db, owner, LEASE_MS, limit)).map((j) => ({ ...j, attempts: 0 }));
    },
    fire: runJob,
    // Jobs of one batch share a lane: they may touch the same definitions' cache, never the same instance.
    laneKey: (row) => row.process_instance_id,
    /**
     * A job that failed for another reason than the instance's validation. The
     * request's own mistakes (the plan's definitions deleted meanwhile...) fail
     * it with their message, as Camunda leaves a job without retries; anything
     * else (a lost connection, a pool timeout under load, a deadlock) is the
     * server's trouble, not the job's: it stays pending and its lease, run out,
     * hands it to the next pass, so a batch never stops short on a passing fault.
     */
    async fail(row, error) {
      if (!(error instanceof AppError)) return;
      await db.transaction(async (trx) => {
        const held = await lockPendingJob(trx, row.id);
        if (held) await finishJob(trx, held, error.message);
      });
    },
    msUntilNext: () => msUntilNextJob(db),
  };

  async function visible(id: string, principal: Principal) {
    assertAdmin(principal);
    const [batch] = await listBatches(db, { id });
    if (!batch) throw new NotFoundError(`批处理不存在 / batch ${id} does not exist`);
    return batch;
  }

  /**
   * Writes a batch of `type` with one job per instance, traced as `fact` on
   * the batch, and wakes the scheduler, in one transaction.
   */
  async function create(type: string, configuration: unknown, ids: string[], principal: Principal, fact: Omit<TraceFact, 'entityType' | 'entityId'>, id: string = randomUUID()): Promise<BatchRow> {
    assertAdmin(principal);
    return db.transaction(async (trx) => {
      const batch = await insertBatch(trx, { id, type, configuration, create_user_id: principal.userId, tenant_id: null }, ids);
      await trace.record(trx, principal, { ...fact, entityType: 'Batch', entityId: id, details: { async: true, nrOfInstances: ids.length, ...fact.details } });
      await notifier.announce(trx, [TIMERS_TOPIC]);
      return batch;
    });
  }

  return {
    migrateAsync,
    modifyAsync,
    modifyInstanceAsync,
    create,
    /** Registers the runner of a kind of batch (at wiring, before the scheduler starts). */
    register(type: string, runner: JobRunner) {
      runners.set(type, runner);
    },
    /** The scheduler's due source: pending jobs of running batches. */
    source,
    async list(q: BatchQuery, principal: Principal) {
      assertAdmin(principal);
      return listBatches(db, q);
    },
    async count(q: BatchQuery, principal: Principal) {
      assertAdmin(principal);
      return countBatches(db, q);
    },
    async get(id: string, principal: Principal) {
      const batch = await visible(id, principal);
      if (batch.end_time) throw new NotFoundError(`批处理不存在 / batch ${id} does not exist`);
      return batch;
    },
    /** Ended ones too: GET /history/batch/{id}. */
    async history(id: string, principal: Principal) {
      return visible(id, principal);
    },
    async suspend(id: string, suspended: unknown, principal: Principal) {
      assertAdmin(principal);
      if (typeof suspended !== 'boolean') throw new ValidationError('suspended 必须是布尔值 / suspended must be a boolean');
      await db.transaction(async (trx) => {
        if (!(await setBatchSuspended(trx, id, suspended))) throw new NotFoundError(`批处理不存在 / batch ${id} does not exist`);
        if (!suspended) await notifier.announce(trx, [TIMERS_TOPIC]);
        await trace.record(trx, principal, { operation: suspended ? 'SuspendBatch' : 'ActivateBatch', entityType: 'Batch', entityId: id });
      });
    },
    async remove(id: string, cascade: boolean, principal: Principal) {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        if (!(await deleteBatch(trx, id, cascade))) throw new NotFoundError(`批处理不存在 / batch ${id} does not exist`);
        await trace.record(trx, principal, { operation: 'Delete', entityType: 'Batch', entityId: id, details: { cascade } });
      });
    },
    /**
     * DELETE /history/batch/{id}: an ended batch's history. A running batch's
     * history is the batch itself here, so deleting it would stop it: refused
     * (delete the batch first, DELETE /batch/{id}).
     */
    async removeHistory(id: string, principal: Principal) {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        const outcome = await deleteEndedBatch(trx, id);
        if (outcome === 'missing') throw new NotFoundError(`批处理历史不存在 / historic batch ${id} does not exist`);
        if (outcome === 'running') throw new ValidationError(`批处理仍在运行，请先删除批处理 / batch ${id} is still running; delete it first (DELETE /batch/${id})`);
        await trace.record(trx, principal, { operation: 'DeleteHistory', entityType: 'Batch', entityId: id });
      });
    },
  };
}

export type BatchService = ReturnType<typeof makeBatchService>;

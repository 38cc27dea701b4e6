import type { Knex } from 'knex';
import { modifyInstance, ModificationRefused, type EngineInstruction, type ModificationRun } from '../engine/modification.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { listOpenExecutions } from '../store/activities.ts';
import type { Db } from '../store/db.ts';
import { markExternallyTerminated } from '../store/instance-ends.ts';
import { findInstance, type InstanceRow } from '../store/instances.ts';
import type { Variables } from '../types.ts';
import type { Principal } from '../types.ts';
import { withDecisions } from './business-rule-tasks.ts';
import type { DefinitionService, LoadedDefinition } from './definitions.ts';
import { toEngineError } from './engine-errors.ts';
import type { Execution } from './execution.ts';
import { groupMembersFor } from './group-members.ts';
import { assertAdmin, type InstanceService } from './instances.ts';
import type { RunContext } from './persist-runs.ts';
import { runUserOf, type Actor, type TraceFact, type TraceService } from './trace.ts';
import { dateNames, engineValues } from './variables.ts';
import { parseModification, type Modification } from './modification-request.ts';
import type { Step } from './call-activities.ts';
import { suspendedError } from './suspension.ts';

export { parseModification, type Modification };

const MAX_ATTEMPTS = 5;
const LOST_RACE = new Error('lost race');

/** One instance's modification, run and ready to save. */
interface Planned {
  instance: InstanceRow;
  run: ModificationRun;
  steps: Step[];
}

/** What a caller built on the modification (send back, withdraw) adds: its trace fact and what it saves with it. */
export interface ModifyAs {
  actor: Actor;
  fact: (instance: InstanceRow) => TraceFact;
  afterSave?: ((trx: Db, instance: InstanceRow) => Promise<void>) | undefined;
  /** Who gets the user tasks the run opens unassigned (activity id -> user), saved and announced so (persist-runs.ts). */
  assignOpened?: Readonly<Record<string, string>> | undefined;
  /**
   * A batch job the modification is done for: claimed (locked, still pending)
   * and marked done in the transaction that saves it, so after a kill -9 it
   * is either done with its instance modified, or pending with nothing saved.
   */
  job?: { claim(trx: Db): Promise<boolean>; done(trx: Db): Promise<void> } | undefined;
}

/** Process instance modification (Camunda 7): one engine run and one transaction per instance. */
export function makeModificationService(db: Knex, definitions: DefinitionService, execution: Execution, trace: TraceService, instances: InstanceService) {
  /** Runs a modification on one instance as read now (nothing saved yet). */
  async function plan(instanceId: string, m: Modification, as: ModifyAs, definitionId?: string): Promise<Planned> {
    const instance = await findInstance(db, instanceId);
    if (!instance || instance.state !== 'ACTIVE' || !instance.engine_state) {
      throw new NotFoundError(`流程实例不存在或已结束 / no running process instance with id ${instanceId}`);
    }
    // A suspended instance moves for nothing (Camunda's ensureNotSuspended); the save's revision check settles a suspension landing after this read.
    if (instance.suspended) throw suspendedError('ProcessInstance', instance.id);
    if (definitionId && instance.definition_id !== definitionId) {
      throw new ValidationError(`流程实例 ${instanceId} 不属于流程定义 ${definitionId} / process instance ${instanceId} does not belong to process definition ${definitionId}`);
    }
    const def = await definitions.load(instance.definition_id);
    refuseSkips(def, m);
    const [stored, open] = await Promise.all([execution.vault.load(db, instance.id, def.sensitive), listOpenExecutions(db, instance.id)]);
    const instructions = toEngine(instance, m);
    const setByCaller: Variables = Object.assign({}, ...m.instructions.map((i) => i.variables ?? {}));
    const members = await groupMembersFor(db, def);
    const run = await withDecisions(db, def, stored, (decisions) => modifyInstance(def.compiledFor(instance.start_event_id), {
      state: instance.engine_state!, variables: engineValues(stored), openExecutions: new Set(open), instructions, now: execution.engineNow(), zone: execution.zone,
      execution: { processInstanceId: instance.id, businessKey: instance.business_key, processDefinitionId: def.id, user: runUserOf(as.actor), dates: dateNames(stored) },
      members, decisions,
    })).catch((err) => {
      if (err instanceof ModificationRefused) {
        throw new ValidationError(`指令 ${err.index} 无法执行 / instruction ${err.index} (${m.instructions[err.index]?.type}): ${err.message}`, { instruction: err.index, processInstanceId: instance.id });
      }
      throw toEngineError(err);
    });
    const ctx: RunContext = {
      instanceId: instance.id, definitionId: def.id, definitionKey: def.key, businessKey: instance.business_key, sensitive: def.sensitive,
      variables: { ...stored, ...setByCaller }, setByCaller, assignOpened: as.assignOpened,
    };
    const steps = await execution.calls.plan({ ctx, run, open, stored: instance }, as.actor).catch((err) => {
      throw toEngineError(err);
    });
    return { instance, run, steps };
  }

  /** Saves planned modifications in `trx`; false when one lost a race. */
  async function save(trx: Db, planned: Planned[], m: Modification, as: ModifyAs): Promise<boolean> {
    for (const p of planned) {
      if (!(await execution.calls.save(trx, p.steps, as.actor))) return false;
      // Camunda ends an instance whose every activity was cancelled as deleted, not completed.
      if (p.run.cancelledAll) await markExternallyTerminated(trx, p.instance.id, m.annotation ?? 'Cancellation due to process instance modification');
      await as.afterSave?.(trx, p.instance);
      await trace.record(trx, as.actor, { processInstanceId: p.instance.id, ...as.fact(p.instance) });
    }
    return true;
  }

  /** Plans and saves, re-reading on a lost race; all the instances in one transaction, or none. */
  async function apply(ids: string[], m: Modification, as: ModifyAs, definitionId?: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const planned: Planned[] = [];
      for (const id of ids) planned.push(await plan(id, m, as, definitionId));
      const saved = await db.transaction(async (trx) => {
        // A job done meanwhile (by a server whose lease ran out on it) saves nothing.
        if (as.job && !(await as.job.claim(trx))) return;
        if (!(await save(trx, planned, m, as))) throw LOST_RACE;
        await as.job?.done(trx);
      }).then(() => true, (err) => {
        if (err === LOST_RACE) return false;
        throw err;
      });
      if (saved) return;
      if (attempt >= MAX_ATTEMPTS) throw new ConflictError(`流程实例并发修改过多，请重试 / process instances changed concurrently too often; retry`);
    }
  }

  const modificationFact = (m: Modification, batchId?: string) => (instance: InstanceRow): TraceFact => ({
    operation: 'ModifyProcessInstance', entityType: 'ProcessInstance', entityId: instance.id,
    details: { annotation: m.annotation ?? null, skipCustomListeners: m.skipCustomListeners, skipIoMappings: m.skipIoMappings, instructions: m.raw, ...(batchId ? { batchId } : {}) },
  });

  /** The instances `/modification/execute(Async)` names: its ids and its query's running instances, at least one. */
  async function instancesOf(body: ExecuteBody, principal: Principal): Promise<string[]> {
    const fromQuery = body.query ? (await instances.list({ ...body.query, state: 'ACTIVE' }, principal)).map((r) => r.id) : [];
    const ids = [...new Set([...body.ids, ...fromQuery])];
    if (!ids.length) throw new ValidationError('没有要修改的流程实例 / no process instances to modify: give processInstanceIds or a processInstanceQuery that matches some');
    if (body.modification.instructions.some((i) => i.activityInstanceId || i.transitionInstanceId)) {
      throw new ValidationError('批量修改只能按活动 ID 取消 / modification/execute cancels by activityId only (activityInstanceId belongs to one instance)');
    }
    return ids;
  }

  return {
    /** `POST /process-instance/{id}/modification`: administrators only. */
    async modify(instanceId: string, m: Modification, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await apply([instanceId], m, { actor: principal, fact: modificationFact(m) });
    },

    /**
     * `POST /modification/execute`: the same instructions on many instances of
     * one definition, by ids and/or a query. As Camunda's synchronous execute,
     * it fails as a whole: every instance is run first, then all are saved in
     * one transaction, so an instruction one instance refuses saves nothing.
     */
    async execute(body: ExecuteBody, principal: Principal): Promise<void> {
      assertAdmin(principal);
      const ids = await instancesOf(body, principal);
      await apply(ids, body.modification, { actor: principal, fact: modificationFact(body.modification) }, body.processDefinitionId);
    },

    /**
     * What `/modification/executeAsync` checks before it writes a batch: the
     * definition exists and the flags can be honoured on it (refuseSkips), and
     * the instances. What depends on an instance's state is its job's to find.
     */
    async checkAsync(body: ExecuteBody, principal: Principal): Promise<string[]> {
      assertAdmin(principal);
      const def = await definitions.load(body.processDefinitionId).catch((err) => {
        if (err instanceof NotFoundError) throw new ValidationError(`流程定义不存在 / process definition ${body.processDefinitionId} does not exist`, { field: 'processDefinitionId' });
        throw err;
      });
      refuseSkips(def, body.modification);
      return instancesOf(body, principal);
    },

    /**
     * What `/process-instance/{id}/modification-async` checks before it
     * writes its batch: the instance runs, and the flags can be honoured on its
     * definition. Returns the definition the job checks the instance against.
     */
    async checkOneAsync(instanceId: string, m: Modification, principal: Principal): Promise<string> {
      assertAdmin(principal);
      const instance = await findInstance(db, instanceId);
      if (!instance || instance.state !== 'ACTIVE') throw new NotFoundError(`流程实例不存在或已结束 / no running process instance with id ${instanceId}`);
      refuseSkips(await definitions.load(instance.definition_id), m);
      return instance.definition_id;
    },

    /**
     * One job of an `instance-modification` batch: the instance modified as
     * the batch's creator, in the transaction that claims and marks the job.
     * A refusal (the instance ended, of another definition, suspended, an
     * instruction it cannot take) is the caller's to record as the job's failure.
     */
    async runJob(instanceId: string, processDefinitionId: string, m: Modification, actor: Actor, batchId: string, job: NonNullable<ModifyAs['job']>): Promise<void> {
      await apply([instanceId], m, { actor, fact: modificationFact(m, batchId), job }, processDefinitionId);
    },

    /** For send back and withdraw: a modification run as someone other than an administrator, who checked their right. */
    apply,
  };
}

/**
 * skipCustomListeners and skipIoMappings change what runs only where the
 * diagram has listeners or input/output mappings: there this server cannot
 * skip them for the affected activities alone, so the request is refused.
 */
function refuseSkips(def: LoadedDefinition, m: Modification): void {
  const compiled = def.compiledFor(null).compiled;
  if (m.skipCustomListeners && /"camunda:(ExecutionListener|TaskListener)"/.test(compiled)) {
    throw new ValidationError('skipCustomListeners: 流程含自定义监听器，本服务器无法只跳过受影响活动的监听器 / the process has custom listeners; this server cannot skip them for the affected activities only', { field: 'skipCustomListeners' });
  }
  if (m.skipIoMappings && /"camunda:InputOutput"/.test(compiled)) {
    throw new ValidationError('skipIoMappings: 流程含输入输出映射，本服务器无法只跳过受影响活动的映射 / the process has input/output mappings; this server cannot skip them for the affected activities only', { field: 'skipIoMappings' });
  }
}

/** Camunda's instructions as the engine applies them; activity instance ids are `activityId:executionId` (GET .../activity-instances). */
function toEngine(instance: InstanceRow, m: Modification): EngineInstruction[] {
  return m.instructions.map((i, index): EngineInstruction => {
    const variables = engineValues(i.variables ?? {});
    if (i.type === 'cancel') {
      if (i.activityInstanceId) {
        const at = i.activityInstanceId.lastIndexOf(':');
        if (i.activityInstanceId === instance.id || at < 1) {
          throw new ValidationError(`指令 ${index}: 活动实例 ${i.activityInstanceId} 不可取消 / instruction ${index}: activity instance ${i.activityInstanceId} cannot be cancelled here (cancel the activities, or delete the instance)`, { instruction: index });
        }
        return { type: 'cancel', executionId: i.activityInstanceId.slice(at + 1), onlyBefore: false };
      }
      return { type: 'cancel', activityId: i.activityId!, onlyBefore: Boolean(i.cancelCurrentActiveActivityInstances) };
    }
    if (i.ancestorActivityInstanceId && i.ancestorActivityInstanceId !== instance.id) {
      throw new ValidationError(`指令 ${index}: 不支持 ancestorActivityInstanceId（只有流程实例本身）/ instruction ${index}: ancestorActivityInstanceId other than the process instance itself is not supported`, { instruction: index });
    }
    if (i.type === 'startTransition') return { type: 'startTransition', transitionId: i.transitionId!, variables };
    return { type: i.type, activityId: i.activityId!, variables };
  });
}

export type ModificationService = ReturnType<typeof makeModificationService>;

/** `/modification/execute` and `executeAsync`: one definition's instances by ids and/or query, and the instructions. */
export interface ExecuteBody {
  processDefinitionId: string;
  ids: string[];
  query?: Parameters<InstanceService['list']>[0] | undefined;
  modification: Modification;
}

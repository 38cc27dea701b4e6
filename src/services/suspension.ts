import type { Knex } from 'knex';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { findDefinition } from '../store/definitions.ts';
import {
  findDefinitionIdsByKey, findRunningInstanceIds, isInstanceSuspended, setDefinitionsSuspended, setInstancesSuspended,
} from '../store/suspension.ts';
import { ADMIN_GROUP, type Principal } from '../types.ts';
import type { TraceFact, TraceService } from './trace.ts';

/** Besides administrators, the office may suspend and activate instances (not definitions). */
export const OFFICE_GROUP = 'office';

/**
 * Camunda's SuspendedEntityInteractionException text (EnginePersistenceLogger
 * 043, "{type} with id '{id}' is suspended."), after our Chinese. Camunda
 * answers it with 500; we answer 409 (the state, not the request, is wrong).
 */
export function suspendedError(type: 'task' | 'Execution' | 'ExternalTask' | 'Process Definition' | 'ProcessInstance', id: string): ConflictError {
  const zh = type === 'Process Definition' ? '流程定义已挂起' : '流程实例已挂起';
  return new ConflictError(`${zh} / ENGINE-03043 ${type} with id '${id}' is suspended.`, { type, id }, 'SuspendedEntityInteractionException');
}

/**
 * Refuses (409, SuspendedEntityInteractionException) an action on something
 * of a suspended process instance: `type` and `id` name what was acted on in
 * the message, as Camunda's does (a task, an external task, the execution).
 * Other services call it before acting; the instance's revision settles a
 * suspension that lands in between (setInstancesSuspended moves it).
 */
export async function assertActive(db: Db, instanceId: string, type: Parameters<typeof suspendedError>[0] = 'Execution', id = instanceId): Promise<void> {
  if (await isInstanceSuspended(db, instanceId)) throw suspendedError(type, id);
}

/** Refuses a new instance of a suspended definition (Camunda's ProcessDefinitionEntity.ensureNotSuspended). */
export function assertDefinitionActive(def: { id: string; suspended?: boolean | undefined }): void {
  if (def.suspended) throw suspendedError('Process Definition', def.id);
}

export interface InstanceSelection {
  processInstanceIds?: string[] | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  /** The part of Camunda's processInstanceQuery we honour (see routes/suspension.ts). */
  query?: { processDefinitionId?: string; processDefinitionKey?: string; businessKey?: string; processInstanceIds?: string[] } | undefined;
}

export interface DefinitionChange {
  suspended: boolean;
  includeProcessInstances: boolean;
}

const stateName = (suspended: boolean) => (suspended ? 'suspended' : 'active');

/** Suspending and activating process instances and definitions (PUT …/suspended). */
export function makeSuspensionService(db: Knex, trace: TraceService) {
  const instanceFacts = (ids: string[], suspended: boolean, extra?: Record<string, unknown>): TraceFact[] => ids.map((id) => ({
    operation: suspended ? 'Suspend' : 'Activate', entityType: 'ProcessInstance', entityId: id, processInstanceId: id,
    details: { suspensionState: stateName(suspended), ...extra },
  }));

  /** Sets the state of the running instances `ids`, traced, in one transaction. */
  async function setInstances(ids: string[], suspended: boolean, principal: Principal, afterSave?: (trx: Db) => Promise<void>): Promise<string[]> {
    if (!ids.length) return [];
    return db.transaction(async (trx) => {
      await afterSave?.(trx);
      const changed = await setInstancesSuspended(trx, { ids }, suspended);
      await trace.record(trx, principal, instanceFacts(changed, suspended));
      return changed;
    });
  }

  /** Sets definitions' state (and, with includeProcessInstances, their instances'), traced, in one transaction. */
  async function setDefinitions(ids: string[], change: DefinitionChange, principal: Principal): Promise<void> {
    await db.transaction(async (trx) => {
      const changed = await setDefinitionsSuspended(trx, ids, change.suspended);
      await trace.record(trx, principal, ids.map((id) => ({
        operation: change.suspended ? 'SuspendProcessDefinition' : 'ActivateProcessDefinition', entityType: 'ProcessDefinition', entityId: id,
        details: { suspensionState: stateName(change.suspended), includeProcessInstances: change.includeProcessInstances, changed: changed.includes(id) },
      })));
      if (!change.includeProcessInstances) return;
      const instances = await setInstancesSuspended(trx, { definitionIds: ids }, change.suspended);
      await trace.record(trx, principal, instanceFacts(instances, change.suspended, { byProcessDefinition: true }));
    });
  }

  return {
    /** PUT /process-instance/{id}/suspended. */
    async setInstance(id: string, suspended: boolean, principal: Principal): Promise<void> {
      assertMaySuspendInstances(principal);
      const [running] = await findRunningInstanceIds(db, { ids: [id] });
      if (!running) throw new NotFoundError(`流程实例不存在或已结束 / no running process instance with id ${id}`);
      await setInstances([id], suspended, principal);
    },

    /**
     * One job of a `suspended-async` batch (instance-batches.ts): the
     * instance's state set as PUT /process-instance/{id}/suspended sets it,
     * with `afterSave` (the job marked done) in its transaction. An instance
     * no longer running changes nothing, as Camunda's batch skips it.
     */
    async setInstanceInBatch(id: string, suspended: boolean, principal: Principal, afterSave: (trx: Db) => Promise<void>): Promise<void> {
      assertMaySuspendInstances(principal);
      const [running] = await findRunningInstanceIds(db, { ids: [id] });
      if (!running) return void (await db.transaction(afterSave));
      await setInstances([id], suspended, principal, afterSave);
    },

    /** PUT /process-instance/suspended: by definition id or key, or a group (ids and/or a query). */
    async setInstances(selection: InstanceSelection, suspended: boolean, principal: Principal): Promise<void> {
      assertMaySuspendInstances(principal);
      await setInstances(await selectedInstances(db, selection), suspended, principal);
    },

    /** PUT /process-definition/{id}/suspended. */
    async setDefinition(id: string, change: DefinitionChange, principal: Principal): Promise<void> {
      assertAdministrator(principal);
      if (!(await findDefinition(db, id))) throw new NotFoundError(`流程定义不存在 / no process definition with id ${id}`);
      await setDefinitions([id], change, principal);
    },

    /** PUT /process-definition/key/{key}/suspended and PUT /process-definition/suspended: every version of the key. */
    async setDefinitionsByKey(key: string, tenantId: string | null | undefined, change: DefinitionChange, principal: Principal): Promise<void> {
      assertAdministrator(principal);
      const rows = await findDefinitionIdsByKey(db, key, tenantId);
      if (!rows.length) throw new NotFoundError(`流程定义不存在 / no process definition with key ${key}`);
      await setDefinitions(rows.map((r) => r.id), change, principal);
    },
  };
}

/** The running instances a selection names; a definition id or key must exist. */
async function selectedInstances(db: Db, s: InstanceSelection): Promise<string[]> {
  if (s.processDefinitionId) {
    if (!(await findDefinition(db, s.processDefinitionId))) throw new NotFoundError(`流程定义不存在 / no process definition with id ${s.processDefinitionId}`);
    return findRunningInstanceIds(db, { definitionId: s.processDefinitionId });
  }
  if (s.processDefinitionKey) return findRunningInstanceIds(db, { definitionKey: s.processDefinitionKey });
  const ids = new Set<string>();
  if (s.processInstanceIds) for (const id of await findRunningInstanceIds(db, { ids: s.processInstanceIds })) ids.add(id);
  if (s.query) {
    const q = s.query;
    for (const id of await findRunningInstanceIds(db, { ids: q.processInstanceIds, definitionId: q.processDefinitionId, definitionKey: q.processDefinitionKey, businessKey: q.businessKey })) ids.add(id);
  }
  return [...ids];
}

function assertMaySuspendInstances(principal: Principal): void {
  if (principal.isAdmin || principal.groups.includes(OFFICE_GROUP)) return;
  throw new ForbiddenError('只有管理员或领导小组办公室可以挂起或激活流程实例 / only administrators and the office may suspend or activate process instances');
}

function assertAdministrator(principal: Principal): void {
  if (principal.isAdmin || principal.groups.includes(ADMIN_GROUP)) return;
  throw new ForbiddenError('只有管理员可以挂起或激活流程定义 / only administrators may suspend or activate process definitions');
}

/** Refuses what the server does not do: Camunda's delayed (executionDate) suspension. */
export function refuseExecutionDate(executionDate: unknown): void {
  if (executionDate === undefined || executionDate === null || executionDate === '') return;
  throw new ValidationError('不支持定时挂起/激活（executionDate）；请在需要时调用 / executionDate (a delayed suspension or activation) is not supported by this server; call at the time instead', { field: 'executionDate' });
}

export type SuspensionService = ReturnType<typeof makeSuspensionService>;

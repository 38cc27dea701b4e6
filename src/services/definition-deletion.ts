import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { ConflictError, NotFoundError, ValidationError } from '../errors.ts';
import { countInstancesOfDefinitions, deleteDefinitions, findDefinition, findLatestDefinition, listVersionsOfKey, type DefinitionRow } from '../store/definitions.ts';
import { lockForTransaction } from '../store/errors.ts';
import type { TopicNotifier } from '../store/notify.ts';
import type { Principal } from '../types.ts';
import { toLoaded } from './definitions.ts';
import { assertAdmin } from './instances.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';
import { restoreStartTimers } from './start-timers.ts';
import type { TraceService } from './trace.ts';

export interface DefinitionDeletion {
  cascade: boolean;
  skipCustomListeners: boolean;
  skipIoMappings: boolean;
}

/**
 * DELETE /process-definition/{id} and /key/{key}: Camunda's
 * deleteProcessDefinition(s). Without cascade a definition that has
 * instances is refused; with it they go too (running ones as a cascading
 * deployment delete takes them, store/deployments.ts: no listener or output
 * mapping runs). So where running instances would run custom listeners or
 * input/output mappings on their way out, the request must skip them
 * (skipCustomListeners / skipIoMappings), or it is refused naming the flag.
 */
export function makeDefinitionDeletion(db: Knex, clock: Clock, zone: string, notifier: TopicNotifier, trace: TraceService) {
  async function remove(select: (trx: Knex.Transaction) => Promise<DefinitionRow[]>, what: string, o: DefinitionDeletion, principal: Principal): Promise<void> {
    assertAdmin(principal);
    await db.transaction(async (trx) => {
      // Serialized with deployments: which version is the latest is decided under this lock.
      await lockForTransaction(trx, 'deployments');
      const rows = await select(trx);
      if (!rows.length) throw new NotFoundError(`流程定义不存在 / no process definition with ${what}`);
      const ids = rows.map((r) => r.id);
      if (!o.cascade && (await countInstancesOfDefinitions(trx, ids, false)) > 0) {
        throw new ConflictError(`流程定义 ${what} 仍有流程实例，需 cascade=true / Deletion of process definition without cascading failed: ${what} has process instances; delete with cascade=true`, undefined, 'ProcessEngineException');
      }
      for (const row of rows) await refuseUnskippable(trx, row, o);
      const wasLatest = new Map<string, boolean>();
      for (const row of rows) wasLatest.set(row.id, (await findLatestDefinition(trx, row.key, row.tenant_id))?.id === row.id);
      await deleteDefinitions(trx, ids);
      // The version before a deleted latest one takes back its start timers, as after a deployment's delete.
      const now = await clock.now(trx);
      let restored = false;
      for (const row of rows.filter((r) => wasLatest.get(r.id))) {
        const previous = await findLatestDefinition(trx, row.key, row.tenant_id);
        if (previous) {
          await restoreStartTimers(trx, previous, now, zone);
          restored = true;
        }
      }
      if (restored) await notifier.announce(trx, [TIMERS_TOPIC]);
      await trace.record(trx, principal, rows.map((r) => ({
        operation: 'Delete', entityType: 'ProcessDefinition', entityId: r.id, details: { key: r.key, version: r.version, ...o },
      })));
    });
  }

  /** Running instances would pass listeners or mappings this delete does not run: the request must say to skip them. */
  async function refuseUnskippable(trx: Knex.Transaction, row: DefinitionRow, o: DefinitionDeletion): Promise<void> {
    if (o.skipCustomListeners && o.skipIoMappings) return;
    if (!(await countInstancesOfDefinitions(trx, [row.id], true))) return;
    const compiled = toLoaded(row).compiledFor(null).compiled;
    if (!o.skipCustomListeners && /"camunda:(ExecutionListener|TaskListener)"/.test(compiled)) {
      throw new ValidationError(`skipCustomListeners: 流程定义 ${row.id} 的运行实例有自定义监听器，删除不会执行它们；请设 skipCustomListeners=true / process definition ${row.id} has running instances with custom listeners this delete does not run; set skipCustomListeners=true`, { field: 'skipCustomListeners' });
    }
    if (!o.skipIoMappings && /"camunda:InputOutput"/.test(compiled)) {
      throw new ValidationError(`skipIoMappings: 流程定义 ${row.id} 的运行实例有输入输出映射，删除不会执行它们；请设 skipIoMappings=true / process definition ${row.id} has running instances with input/output mappings this delete does not run; set skipIoMappings=true`, { field: 'skipIoMappings' });
    }
  }

  return {
    async removeById(id: string, o: DefinitionDeletion, principal: Principal): Promise<void> {
      await remove(async (trx) => {
        const row = await findDefinition(trx, id);
        return row ? [row] : [];
      }, `id ${id}`, o, principal);
    },
    /** Every version of the key (without a tenant), as Camunda's deleteProcessDefinitions().byKey(key). */
    async removeByKey(key: string, o: DefinitionDeletion, principal: Principal): Promise<void> {
      await remove((trx) => listVersionsOfKey(trx, key), `key ${key}`, o, principal);
    },
  };
}

export type DefinitionDeletionService = ReturnType<typeof makeDefinitionDeletion>;

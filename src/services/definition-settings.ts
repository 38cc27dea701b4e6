import type { Knex } from 'knex';
import { staticCalls } from '../engine/static-calls.ts';
import { NotFoundError, ValidationError } from '../errors.ts';
import { findDecision, findLatestDecision, setDecisionHistoryTtl } from '../store/decisions.ts';
import { findCalledDefinition, findDefinition, findDefinitionXml, findLatestDefinition, setDefinitionHistoryTtl, type DefinitionRow } from '../store/definitions.ts';
import { queryDeployments } from '../store/deployments.ts';
import type { Principal } from '../types.ts';
import { BPMN_SUFFIXES, findDiagram } from './decision-diagrams.ts';
import { assertAdmin } from './instances.ts';
import type { TraceService } from './trace.ts';

/** Which definition a by-id or by-key route names: by key, the latest version without a tenant, as Camunda's. */
export type DefinitionRef = { id: string } | { key: string };

/** Camunda's historyTimeToLive: days, a non-negative integer, or null for none. */
export function parseHistoryTtl(value: unknown): number | null {
  if (value === null) return null;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > 2 ** 31 - 1) {
    throw new ValidationError('historyTimeToLive 必须是非负整数或 null / historyTimeToLive must be a non-negative integer (days) or null', { field: 'historyTimeToLive' });
  }
  return value;
}

/**
 * What the repository routes change or read beside a definition itself: its
 * history time to live (read by history cleanup), its diagram image, the
 * processes its call activities name, and the deployments this server runs.
 */
export function makeDefinitionSettings(db: Knex, trace: TraceService) {
  async function processOf(ref: DefinitionRef): Promise<DefinitionRow> {
    const row = 'id' in ref ? await findDefinition(db, ref.id) : await findLatestDefinition(db, ref.key);
    if (!row) throw new NotFoundError(`流程定义不存在 / no process definition with ${'id' in ref ? `id ${ref.id}` : `key ${ref.key}`}`);
    return row;
  }

  return {
    processOf,

    /** PUT /process-definition/{id|key/{key}}/history-time-to-live: administrators; traced. */
    async setProcessTtl(ref: DefinitionRef, ttl: number | null, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        const row = 'id' in ref ? await findDefinition(trx, ref.id) : await findLatestDefinition(trx, ref.key);
        if (!row || !(await setDefinitionHistoryTtl(trx, row.id, ttl))) throw new NotFoundError(`流程定义不存在 / no process definition with ${'id' in ref ? `id ${ref.id}` : `key ${ref.key}`}`);
        await trace.record(trx, principal, {
          operation: 'UpdateHistoryTimeToLive', entityType: 'ProcessDefinition', entityId: row.id, details: { key: row.key, historyTimeToLive: ttl, previous: row.history_ttl },
        });
      });
    },

    /** PUT /decision-definition/{id|key/{key}}/history-time-to-live: administrators; traced. */
    async setDecisionTtl(ref: DefinitionRef, ttl: number | null, principal: Principal): Promise<void> {
      assertAdmin(principal);
      await db.transaction(async (trx) => {
        const row = 'id' in ref ? await findDecision(trx, ref.id) : await findLatestDecision(trx, ref.key);
        if (!row || !(await setDecisionHistoryTtl(trx, row.id, ttl))) throw new NotFoundError(`决策定义不存在 / no decision definition with ${'id' in ref ? `id ${ref.id}` : `key ${ref.key}`}`);
        await trace.record(trx, principal, {
          operation: 'UpdateHistoryTimeToLive', entityType: 'DecisionDefinition', entityId: row.id, details: { key: row.key, historyTimeToLive: ttl, previous: row.history_ttl },
        });
      });
    },

    /** The diagram image deployed beside a process definition (Camunda's diagramResourceName), or null. */
    diagram: (row: DefinitionRow) => findDiagram(db, row, BPMN_SUFFIXES),

    /**
     * GET /process-definition/{id}/static-called-process-definitions: the
     * definitions its call activities bind to now (each once, with the
     * activities calling it), as Camunda resolves them; a key nothing binds
     * to is left out, as Camunda leaves it out.
     */
    async staticCalled(id: string): Promise<(DefinitionRow & { calledFromActivityIds: string[] })[]> {
      const row = await processOf({ id });
      const xml = await findDefinitionXml(db, id);
      const found = new Map<string, DefinitionRow & { calledFromActivityIds: string[] }>();
      for (const call of await staticCalls(Buffer.from(xml!.bytes).toString('utf8'), row.key)) {
        const called = await findCalledDefinition(db, {
          key: call.calledElement, tenantId: row.tenant_id, binding: call.binding, deploymentId: row.deployment_id, version: call.version, versionTag: call.versionTag,
        });
        if (!called) continue;
        const entry = found.get(called.id) ?? { ...called, calledFromActivityIds: [] };
        entry.calledFromActivityIds.push(call.activityId);
        found.set(called.id, entry);
      }
      return [...found.values()].map((d) => ({ ...d, calledFromActivityIds: d.calledFromActivityIds.sort() }));
    },

    /**
     * GET /deployment/registered: Camunda answers the deployments registered
     * with this engine's job executor; every server here runs every
     * deployment's timers and jobs, so all deployments are registered.
     */
    async registeredDeployments(): Promise<string[]> {
      return (await queryDeployments(db, {})).map((d) => d.id);
    },
  };
}

export type DefinitionSettings = ReturnType<typeof makeDefinitionSettings>;

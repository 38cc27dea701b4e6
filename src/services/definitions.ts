import { NotFoundError } from '../errors.ts';
import type { CompiledRef } from '../engine/runner.ts';
import type { Db } from '../store/db.ts';
import {
  countDefinitions, findDefinition, findDefinitionXml, findLatestDefinition, listDefinitions, type DefinitionQuery, type DefinitionRow,
  type DefinitionSummary,
} from '../store/definitions.ts';
import type { Forms } from '../types.ts';
import { markedSensitive } from './sealed-variables.ts';

/** What the engine needs of a definition version, kept in memory: rows never change once written. */
export interface LoadedDefinition extends CompiledRef {
  key: string;
  forms: Forms;
  /** Variable names its forms mark sensitive: stored encrypted in its instances. */
  sensitive: ReadonlySet<string>;
  /** The compiled form an instance runs on: its message start's own, or the main one. */
  compiledFor(startEventId: string | null): CompiledRef;
  /** Where its business rule tasks look their decisions up (binding deployment, its tenant). */
  deploymentId: string;
  tenantId: string | null;
}

const CACHE_LIMIT = 200;

/** Process definitions: lookups, plus a bounded cache of compiled versions for the engine. */
export function makeDefinitionService(db: Db) {
  const cache = new Map<string, LoadedDefinition>();

  function remember(row: DefinitionRow): LoadedDefinition {
    const loaded = toLoaded(row);
    cache.set(row.id, loaded);
    if (cache.size > CACHE_LIMIT) cache.delete(cache.keys().next().value!);
    return loaded;
  }

  return {
    async list(query: DefinitionQuery): Promise<DefinitionSummary[]> {
      return listDefinitions(db, query);
    },
    count: (query: DefinitionQuery) => countDefinitions(db, query),

    /** The BPMN XML of a definition, as deployed. */
    async xml(id: string): Promise<string> {
      const row = await findDefinitionXml(db, id);
      if (!row) throw new NotFoundError(`流程定义不存在 / no process definition with id ${id}`);
      return Buffer.from(row.bytes).toString('utf8');
    },

    /** A definition by id; NotFoundError if absent. */
    async get(id: string): Promise<DefinitionRow> {
      const row = await findDefinition(db, id);
      if (!row) throw new NotFoundError(`流程定义不存在 / no process definition with id ${id}`);
      return row;
    },

    /** The latest version of `key`; NotFoundError if none. */
    async getLatest(key: string): Promise<DefinitionRow> {
      const row = await findLatestDefinition(db, key);
      if (!row) throw new NotFoundError(`流程定义不存在 / no process definition with key ${key}`);
      return row;
    },

    /** The compiled form of a version, from memory when possible. */
    async load(id: string): Promise<LoadedDefinition> {
      const hit = cache.get(id);
      if (hit) {
        cache.delete(id);
        cache.set(id, hit); // most recently used last
        return hit;
      }
      const row = await findDefinition(db, id);
      if (!row) throw new NotFoundError(`流程定义不存在 / no process definition with id ${id}`);
      return remember(row);
    },
  };
}

export type DefinitionService = ReturnType<typeof makeDefinitionService>;

/** The engine's view of a definition row. */
export function toLoaded(row: DefinitionRow): LoadedDefinition {
  const variants = new Map((row.message_starts ?? []).filter((m) => m.compiled).map((m) => [m.eventId, m.compiled!]));
  return {
    id: row.id, key: row.key, compiled: row.compiled, forms: row.forms ?? {}, sensitive: markedSensitive(row.forms ?? {}),
    deploymentId: row.deployment_id, tenantId: row.tenant_id,
    compiledFor: (startEventId) => ({ id: row.id, compiled: (startEventId && variants.get(startEventId)) || row.compiled }),
  };
}

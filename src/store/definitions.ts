import type { MessageStart } from '../engine/compile.ts';
import type { Forms } from '../types.ts';
import { boundQuery, type BoundReference } from './bindings.ts';
import type { Db } from './db.ts';
import { countOf, likePattern, paged } from './paging.ts';
import { dropUnsentMailsOfTasks } from './notifications.ts';

export interface DefinitionRow {
  id: string;
  key: string;
  version: number;
  name: string | null;
  version_tag: string | null;
  description: string | null;
  tenant_id: string | null;
  deployment_id: string;
  resource_id: string;
  resource_name: string;
  checksum: string;
  history_ttl: number | null;
  startable: boolean;
  start_event_id: string | null;
  /** Startable from the internet zone (process property `public=true`). */
  is_public: boolean;
  compiled: string;
  forms: Forms;
  message_starts: MessageStart[];
  /** camunda:candidateStarterGroups / Users; null when the diagram does not restrict starting. */
  starter_groups: string[] | null;
  starter_users: string[] | null;
  /** Suspended (services/suspension.ts): starts no new instances. */
  suspended?: boolean;
}

/** Columns without the compiled engine form, for listings. */
const summaryColumns = ['id', 'key', 'version', 'name', 'version_tag', 'description', 'tenant_id', 'deployment_id',
  'resource_id', 'resource_name', 'checksum', 'history_ttl', 'startable', 'start_event_id', 'is_public', 'suspended'] as const;
export type DefinitionSummary = Omit<DefinitionRow, 'compiled' | 'forms' | 'message_starts'>;

export async function insertDefinition(db: Db, row: DefinitionRow): Promise<void> {
  await db('process_definitions').insert({
    ...row, forms: JSON.stringify(row.forms), message_starts: JSON.stringify(row.message_starts),
    starter_groups: row.starter_groups && JSON.stringify(row.starter_groups), starter_users: row.starter_users && JSON.stringify(row.starter_users),
  });
}

/** The highest version of `key`, or undefined when none is deployed. */
export async function findLatestDefinition(db: Db, key: string, tenantId: string | null = null): Promise<DefinitionRow | undefined> {
  const q = db('process_definitions').where({ key }).orderBy('version', 'desc').first();
  return tenantId == null ? q.whereNull('tenant_id') : q.where({ tenant_id: tenantId });
}

/**
 * The definition a call activity names: Camunda's calledElementBinding picks
 * the latest version of `key` (in the caller's tenant), the one deployed with
 * the caller, a version number, or the latest version with a version tag.
 */
export async function findCalledDefinition(db: Db, c: BoundReference): Promise<DefinitionRow | undefined> {
  return boundQuery(db, 'process_definitions', c);
}

export async function findDefinition(db: Db, id: string): Promise<DefinitionRow | undefined> {
  return db('process_definitions').where({ id }).first();
}

export interface DefinitionQuery {
  id?: string | undefined;
  ids?: string[] | undefined;
  key?: string | undefined;
  keyLike?: string | undefined;
  keys?: string[] | undefined;
  name?: string | undefined;
  nameLike?: string | undefined;
  version?: number | undefined;
  versionTag?: string | undefined;
  latestVersion?: boolean | undefined;
  deploymentId?: string | undefined;
  startableInTasklist?: boolean | undefined;
  /** Camunda's suspended / active: only suspended (true) or only active (false) definitions. */
  suspended?: boolean | undefined;
  /**
   * Only what this person may start by hand: a diagram naming one of their
   * groups (or them) as candidate starters, or, with `anyRole`, one naming none.
   * The same rule as services/instances.ts assertMayStart, as SQL.
   */
  startableBy?: { userId: string; groups: string[]; anyRole: boolean } | undefined;
  sorting?: { column: DefinitionSortColumn; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export const definitionSortColumns = {
  key: 'key', name: 'name', version: 'version', id: 'id', deploymentId: 'deployment_id', versionTag: 'version_tag', tenantId: 'tenant_id',
} as const;
export type DefinitionSortColumn = (typeof definitionSortColumns)[keyof typeof definitionSortColumns];

export async function listDefinitions(db: Db, query: DefinitionQuery): Promise<DefinitionSummary[]> {
  const q = filteredDefinitions(db, query).select(summaryColumns.map((c) => `d.${c}`));
  return paged(q, query, [{ column: 'key', order: 'asc' }, { column: 'version', order: 'asc' }], 'd.id', 'd.');
}

export async function countDefinitions(db: Db, query: DefinitionQuery): Promise<number> {
  return countOf(filteredDefinitions(db, query));
}

function filteredDefinitions(db: Db, query: DefinitionQuery) {
  const q = db('process_definitions as d');
  if (query.id) q.where('d.id', query.id);
  if (query.ids) q.whereIn('d.id', query.ids);
  if (query.key) q.where('d.key', query.key);
  if (query.keys) q.whereIn('d.key', query.keys);
  if (query.keyLike) q.whereLike('d.key', likePattern(query.keyLike));
  if (query.name) q.where('d.name', query.name);
  if (query.nameLike) q.whereLike('d.name', likePattern(query.nameLike));
  if (query.version != null) q.where('d.version', query.version);
  if (query.versionTag) q.where('d.version_tag', query.versionTag);
  if (query.deploymentId) q.where('d.deployment_id', query.deploymentId);
  if (query.startableInTasklist != null) q.where('d.startable', query.startableInTasklist);
  if (query.suspended !== undefined) q.where('d.suspended', query.suspended);
  if (query.startableBy) {
    const { userId, groups, anyRole } = query.startableBy;
    q.where((w) => {
      w.whereRaw('jsonb_exists_any(d.starter_groups, ?::text[])', [groups]).orWhereRaw('jsonb_exists(d.starter_users, ?)', [userId]);
      if (anyRole) w.orWhere((v) => v.whereNull('d.starter_groups').whereNull('d.starter_users'));
    });
  }
  if (query.latestVersion) {
    q.whereRaw(
      'd.version = (select max(v.version) from process_definitions v where v.key = d.key and coalesce(v.tenant_id, \'\') = coalesce(d.tenant_id, \'\'))',
    );
  }
  return q;
}

/** The BPMN resource a definition was deployed from, bytes included. */
export async function findDefinitionXml(db: Db, id: string): Promise<{ id: string; bytes: Buffer } | undefined> {
  return db('process_definitions as d').join('resources as r', 'r.id', 'd.resource_id').select('d.id', 'r.bytes').where('d.id', id).first();
}

/**
 * The latest versions that are public. A key whose latest version dropped
 * the flag is not listed: the public may start only the current version.
 */
export async function listLatestPublicDefinitions(db: Db): Promise<DefinitionRow[]> {
  return db('process_definitions as d').select('d.*').where('d.is_public', true).whereNull('d.tenant_id')
    .whereRaw('d.version = (select max(v.version) from process_definitions v where v.key = d.key and v.tenant_id is null)')
    .orderBy('d.key');
}

/** The latest versions (per key) that start on a message of this name; a suspended one does not (as Camunda skips it). */
export async function findMessageStartDefinitions(db: Db, messageName: string): Promise<DefinitionRow[]> {
  return db('process_definitions as d').select('d.*').where('d.suspended', false)
    .whereRaw('d.message_starts @> ?::jsonb', [JSON.stringify([{ messageName }])])
    .whereRaw("d.version = (select max(v.version) from process_definitions v where v.key = d.key and coalesce(v.tenant_id, '') = coalesce(d.tenant_id, ''))");
}

/**
 * The latest version of every definition with a conditional start event (POST /condition), or the version `id` if it has one;
 * a suspended one is skipped, as Camunda's DefaultConditionHandler does.
 */
export async function findConditionalStartDefinitions(db: Db, id?: string): Promise<DefinitionRow[]> {
  const q = db('process_definitions as d').select('d.*').where('d.suspended', false).whereRaw('d.message_starts @> ?::jsonb', [JSON.stringify([{ kind: 'conditional' }])]);
  if (id) return q.where('d.id', id);
  return q.whereRaw("d.version = (select max(v.version) from process_definitions v where v.key = d.key and coalesce(v.tenant_id, '') = coalesce(d.tenant_id, ''))")
    .orderBy('d.key');
}

/** Sets a process definition's history time to live (days; null: none); false when no such definition. */
export async function setDefinitionHistoryTtl(db: Db, id: string, ttl: number | null): Promise<boolean> {
  return (await db('process_definitions').where({ id }).update({ history_ttl: ttl })) === 1;
}

/**
 * Deletes process definitions with their instances (running and ended) and
 * those instances' history, as deleteDeployment does for a whole deployment
 * (store/deployments.ts); the deployment and its resources stay.
 */
export async function deleteDefinitions(db: Db, ids: string[]): Promise<void> {
  const instances = db('process_instances').select('id').whereIn('definition_id', ids);
  await db('history_decision_instances').whereIn('process_instance_id', instances).delete();
  await dropUnsentMailsOfTasks(db, await db('tasks').whereIn('process_instance_id', instances).whereNull('end_time').pluck('id'));
  await db('process_instances').whereIn('definition_id', ids).delete();
  await db('process_definitions').whereIn('id', ids).delete();
}

/** How many instances (running only, or all) the definitions have. */
export async function countInstancesOfDefinitions(db: Db, ids: string[], runningOnly: boolean): Promise<number> {
  const q = db('process_instances').whereIn('definition_id', ids);
  if (runningOnly) q.where('state', 'ACTIVE');
  return countOf(q);
}

/** Every version of `key` without a tenant, newest first. */
export async function listVersionsOfKey(db: Db, key: string): Promise<DefinitionRow[]> {
  return db('process_definitions').where({ key }).whereNull('tenant_id').orderBy('version', 'desc');
}

import { boundQuery, type BoundReference } from './bindings.ts';
import type { Db } from './db.ts';
import { countOf, likePattern, paged } from './paging.ts';

/** A decision requirements definition: one DMN resource's <definitions> holding more than one decision. */
export interface DecisionRequirementsRow {
  id: string;
  key: string;
  version: number;
  name: string | null;
  category: string | null;
  tenant_id: string | null;
  deployment_id: string;
  resource_id: string;
  resource_name: string;
  checksum: string;
}

export interface DecisionDefinitionRow {
  id: string;
  key: string;
  version: number;
  name: string | null;
  category: string | null;
  version_tag: string | null;
  history_ttl: number | null;
  tenant_id: string | null;
  deployment_id: string;
  resource_id: string;
  resource_name: string;
  checksum: string;
  decision_requirements_definition_id: string | null;
  decision_requirements_definition_key: string | null;
  /** The evaluator's form (src/engine/dmn), read back by evaluateDecision. */
  compiled: string;
}

export type DecisionDefinitionSummary = Omit<DecisionDefinitionRow, 'compiled'>;

const decisionColumns = ['id', 'key', 'version', 'name', 'category', 'version_tag', 'history_ttl', 'tenant_id', 'deployment_id', 'resource_id',
  'resource_name', 'checksum', 'decision_requirements_definition_id', 'decision_requirements_definition_key'] as const;

const byTenant = <Q extends { whereNull(c: string): Q; where(o: object): Q }>(q: Q, column: string, tenantId: string | null): Q =>
  (tenantId == null ? q.whereNull(column) : q.where({ [column]: tenantId }));

export async function insertDecisionRequirements(db: Db, row: DecisionRequirementsRow): Promise<void> {
  await db('decision_requirements_definitions').insert(row);
}

export async function insertDecisionDefinition(db: Db, row: DecisionDefinitionRow): Promise<void> {
  await db('decision_definitions').insert(row);
}

/** The highest version of decision `key` in a tenant (none: null), or undefined when none is deployed. */
export async function findLatestDecision(db: Db, key: string, tenantId: string | null = null): Promise<DecisionDefinitionRow | undefined> {
  return byTenant(db('decision_definitions').where({ key }).orderBy('version', 'desc').first(), 'tenant_id', tenantId);
}

export async function findLatestDecisionRequirements(db: Db, key: string, tenantId: string | null = null): Promise<DecisionRequirementsRow | undefined> {
  return byTenant(db('decision_requirements_definitions').where({ key }).orderBy('version', 'desc').first(), 'tenant_id', tenantId);
}

export async function findDecision(db: Db, id: string): Promise<DecisionDefinitionRow | undefined> {
  return db('decision_definitions').where({ id }).first();
}

export async function findDecisionRequirements(db: Db, id: string): Promise<DecisionRequirementsRow | undefined> {
  return db('decision_requirements_definitions').where({ id }).first();
}

/** Decision `key` deployed with `deploymentId`: a required decision is looked up beside the one requiring it. */
export async function findDecisionInDeployment(db: Db, deploymentId: string, key: string): Promise<DecisionDefinitionRow | undefined> {
  return db('decision_definitions').where({ deployment_id: deploymentId, key }).first();
}

/** Every decision of a deployment, for evaluating required decisions without a query per lookup. */
export async function listDecisionsOfDeployment(db: Db, deploymentId: string): Promise<DecisionDefinitionRow[]> {
  return db('decision_definitions').where({ deployment_id: deploymentId }).orderBy('key');
}

/**
 * The decision a business rule task names: Camunda's decisionRefBinding picks
 * the latest version of `key` (in the caller's tenant), the one deployed with
 * the caller, a version number, or the latest version with a version tag.
 * Mirrors findCalledDefinition (store/definitions.ts).
 */
export async function findDecisionFor(db: Db, c: BoundReference): Promise<DecisionDefinitionRow | undefined> {
  return boundQuery(db, 'decision_definitions', c);
}

/** Filters shared by decision definitions and decision requirements definitions (Camunda's parameter names, in services). */
interface RepositoryQuery {
  ids?: string[] | undefined;
  key?: string | undefined;
  keyLike?: string | undefined;
  name?: string | undefined;
  nameLike?: string | undefined;
  category?: string | undefined;
  categoryLike?: string | undefined;
  version?: number | undefined;
  latestVersion?: boolean | undefined;
  deploymentId?: string | undefined;
  resourceName?: string | undefined;
  resourceNameLike?: string | undefined;
  tenantIds?: string[] | undefined;
  withoutTenantId?: boolean | undefined;
  /** With tenantIds: also those of no tenant. */
  includeWithoutTenantId?: boolean | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export interface DecisionQuery extends RepositoryQuery {
  requirementsId?: string | undefined;
  requirementsKey?: string | undefined;
  withoutRequirements?: boolean | undefined;
  versionTag?: string | undefined;
  versionTagLike?: string | undefined;
  deployedAfter?: Date | undefined;
  deployedAt?: Date | undefined;
  sorting?: { column: DecisionSortColumn; order: 'asc' | 'desc' }[] | undefined;
}

export const decisionSortColumns = {
  category: 'category', decisionRequirementsDefinitionKey: 'decision_requirements_definition_key', key: 'key', id: 'id', name: 'name',
  version: 'version', deploymentId: 'deployment_id', deployTime: 'deploy_time', versionTag: 'version_tag', tenantId: 'tenant_id',
} as const;
export type DecisionSortColumn = (typeof decisionSortColumns)[keyof typeof decisionSortColumns];

export interface DecisionRequirementsQuery extends RepositoryQuery {
  sorting?: { column: DecisionRequirementsSortColumn; order: 'asc' | 'desc' }[] | undefined;
}

export const decisionRequirementsSortColumns = {
  id: 'id', key: 'key', name: 'name', version: 'version', deploymentId: 'deployment_id', category: 'category', tenantId: 'tenant_id',
} as const;
export type DecisionRequirementsSortColumn = (typeof decisionRequirementsSortColumns)[keyof typeof decisionRequirementsSortColumns];

function filtered(db: Db, table: string, query: RepositoryQuery) {
  const q = db(`${table} as d`);
  if (query.ids) q.whereIn('d.id', query.ids);
  if (query.key) q.where('d.key', query.key);
  if (query.keyLike) q.whereLike('d.key', likePattern(query.keyLike));
  if (query.name) q.where('d.name', query.name);
  if (query.nameLike) q.whereLike('d.name', likePattern(query.nameLike));
  if (query.category) q.where('d.category', query.category);
  if (query.categoryLike) q.whereLike('d.category', likePattern(query.categoryLike));
  if (query.version != null) q.where('d.version', query.version);
  if (query.deploymentId) q.where('d.deployment_id', query.deploymentId);
  if (query.resourceName) q.where('d.resource_name', query.resourceName);
  if (query.resourceNameLike) q.whereLike('d.resource_name', likePattern(query.resourceNameLike));
  if (query.tenantIds) {
    const tenants = query.tenantIds;
    q.where((w) => {
      w.whereIn('d.tenant_id', tenants);
      if (query.includeWithoutTenantId) w.orWhereNull('d.tenant_id');
    });
  }
  if (query.withoutTenantId) q.whereNull('d.tenant_id');
  if (query.latestVersion) {
    q.whereRaw(`d.version = (select max(v.version) from ${table} v where v.key = d.key and coalesce(v.tenant_id, '') = coalesce(d.tenant_id, ''))`);
  }
  return q;
}

function filteredDecisions(db: Db, query: DecisionQuery) {
  const q = filtered(db, 'decision_definitions', query).join('deployments as dep', 'dep.id', 'd.deployment_id');
  if (query.requirementsId) q.where('d.decision_requirements_definition_id', query.requirementsId);
  if (query.requirementsKey) q.where('d.decision_requirements_definition_key', query.requirementsKey);
  if (query.withoutRequirements) q.whereNull('d.decision_requirements_definition_id');
  if (query.versionTag) q.where('d.version_tag', query.versionTag);
  if (query.versionTagLike) q.whereLike('d.version_tag', likePattern(query.versionTagLike));
  if (query.deployedAfter) q.where('dep.deploy_time', '>', query.deployedAfter);
  if (query.deployedAt) q.where('dep.deploy_time', query.deployedAt);
  return q;
}

export async function listDecisions(db: Db, query: DecisionQuery): Promise<DecisionDefinitionSummary[]> {
  const q = filteredDecisions(db, query).select(decisionColumns.map((c) => `d.${c}`));
  // deployTime lives on the deployment; every other column on the definition.
  const sorting = query.sorting?.map((s) => ({ ...s, column: (s.column === 'deploy_time' ? 'dep.deploy_time' : `d.${s.column}`) as DecisionSortColumn }));
  return paged(q, { ...query, sorting }, [{ column: 'd.key' as DecisionSortColumn, order: 'asc' }, { column: 'd.version' as DecisionSortColumn, order: 'asc' }], 'd.id');
}

export async function countDecisions(db: Db, query: DecisionQuery): Promise<number> {
  return countOf(filteredDecisions(db, query));
}

export async function listDecisionRequirements(db: Db, query: DecisionRequirementsQuery): Promise<DecisionRequirementsRow[]> {
  const q = filtered(db, 'decision_requirements_definitions', query).select('d.*');
  return paged(q, query, [{ column: 'key', order: 'asc' }, { column: 'version', order: 'asc' }], 'd.id', 'd.');
}

export async function countDecisionRequirements(db: Db, query: DecisionRequirementsQuery): Promise<number> {
  return countOf(filtered(db, 'decision_requirements_definitions', query));
}

/** The DMN resource a decision or a decision requirements definition was deployed from, bytes included. */
export async function findDecisionXml(db: Db, table: 'decision_definitions' | 'decision_requirements_definitions', id: string): Promise<{ id: string; bytes: Buffer } | undefined> {
  return db(`${table} as d`).join('resources as r', 'r.id', 'd.resource_id').select('d.id', 'r.bytes').where('d.id', id).first();
}

/** Sets a decision definition's history time to live (days; null: none); false when no such definition. */
export async function setDecisionHistoryTtl(db: Db, id: string, ttl: number | null): Promise<boolean> {
  return (await db('decision_definitions').where({ id }).update({ history_ttl: ttl })) === 1;
}

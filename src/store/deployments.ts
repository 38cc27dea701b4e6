import type { Db } from './db.ts';
import { countOf, likePattern, paged } from './paging.ts';
import { dropUnsentMailsOfTasks } from './notifications.ts';

export interface DeploymentRow {
  id: string;
  name: string | null;
  source: string | null;
  tenant_id: string | null;
  deploy_time: Date;
}

export interface ResourceRow {
  id: string;
  deployment_id: string;
  name: string;
  bytes: Buffer;
  checksum: string;
}

/** Inserts a deployment row; returns it with the database's deploy time. */
export async function insertDeployment(db: Db, row: Omit<DeploymentRow, 'deploy_time'>): Promise<DeploymentRow> {
  const [inserted] = await db('deployments').insert(row).returning('*');
  return inserted;
}

export async function insertResource(db: Db, row: ResourceRow): Promise<void> {
  await db('resources').insert(row);
}

export async function findDeployment(db: Db, id: string): Promise<DeploymentRow | undefined> {
  return db('deployments').where({ id }).first();
}

/** The newest deployment with this name (and tenant), for duplicate filtering. */
export async function findLatestDeploymentByName(db: Db, name: string, tenantId: string | null): Promise<DeploymentRow | undefined> {
  const q = db('deployments').where({ name }).orderBy('deploy_time', 'desc').orderBy('id', 'desc').first();
  return tenantId == null ? q.whereNull('tenant_id') : q.where({ tenant_id: tenantId });
}

/** Names and checksums of a deployment's resources, without their bytes. */
export async function listResourceChecksums(db: Db, deploymentId: string): Promise<{ id: string; name: string; checksum: string }[]> {
  return db('resources').select('id', 'name', 'checksum').where({ deployment_id: deploymentId }).orderBy('name');
}


export interface DeploymentQuery {
  id?: string | undefined;
  name?: string | undefined;
  nameLike?: string | undefined;
  source?: string | undefined;
  sorting?: { column: 'id' | 'name' | 'deploy_time'; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export async function queryDeployments(db: Db, query: DeploymentQuery): Promise<DeploymentRow[]> {
  return paged(filteredDeployments(db, query).select('*'), query, [{ column: 'deploy_time', order: 'asc' }], 'id');
}

export async function countDeployments(db: Db, query: DeploymentQuery): Promise<number> {
  return countOf(filteredDeployments(db, query));
}

function filteredDeployments(db: Db, query: DeploymentQuery) {
  const q = db('deployments');
  if (query.id) q.where('id', query.id);
  if (query.name) q.where('name', query.name);
  if (query.nameLike) q.whereLike('name', likePattern(query.nameLike));
  if (query.source) q.where('source', query.source);
  return q;
}

/** A resource with its bytes. */
export async function findResource(db: Db, deploymentId: string, resourceId: string): Promise<ResourceRow | undefined> {
  return db('resources').where({ deployment_id: deploymentId, id: resourceId }).first();
}

/** Instances (running or finished) of the deployment's definitions. */
/** A deployment's resource by its name (a form key `deployment:<name>` names one). */
export async function findResourceByName(db: Db, deploymentId: string, name: string): Promise<ResourceRow | undefined> {
  return db('resources').where({ deployment_id: deploymentId, name }).first();
}

export async function countInstancesOfDeployment(db: Db, deploymentId: string, runningOnly: boolean): Promise<number> {
  const q = db('process_instances as i').join('process_definitions as d', 'd.id', 'i.definition_id').where('d.deployment_id', deploymentId);
  if (runningOnly) q.where('i.state', 'ACTIVE');
  return countOf(q);
}

/**
 * Deletes a deployment with its resources, definitions and (cascade) their
 * instances and history. Decision history is Camunda's: it goes with the
 * process instances deleted here, and with the deployment's decisions only
 * when `cascade`; otherwise it outlives them.
 */
export async function deleteDeployment(db: Db, id: string, cascade: boolean): Promise<void> {
  const instances = db('process_instances').select('id').whereIn('definition_id', db('process_definitions').select('id').where({ deployment_id: id }));
  await db('history_decision_instances').whereIn('process_instance_id', instances).delete();
  if (cascade) {
    await db('history_decision_instances').whereIn('decision_definition_id', db('decision_definitions').select('id').where({ deployment_id: id })).delete();
  }
  // Their open tasks go with them: unsent mail about those tasks goes too, as when a task ends (docs/notifications.md).
  await dropUnsentMailsOfTasks(db, await db('tasks').whereIn('process_instance_id', instances).whereNull('end_time').pluck('id'));
  await db('process_instances').whereIn('definition_id', db('process_definitions').select('id').where({ deployment_id: id })).delete();
  await db('deployments').where({ id }).delete();
}

/** `.form` resources, newest deployment first, for finding a Camunda Form by its id. */
export async function listFormResources(db: Db, deploymentId?: string): Promise<ResourceRow[]> {
  const q = db('resources as r').join('deployments as d', 'd.id', 'r.deployment_id').select('r.*')
    .whereLike('r.name', '%.form').orderBy('d.deploy_time', 'desc').orderBy('r.id');
  if (deploymentId) q.where('r.deployment_id', deploymentId);
  return q;
}

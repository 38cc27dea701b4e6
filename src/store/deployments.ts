import type { Db } from './db.ts';

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
  return db('resources').select('id', 'name', 'checksum').where({ deployment_id: deploymentId });
}

export async function listDeployments(db: Db): Promise<DeploymentRow[]> {
  return db('deployments').orderBy('deploy_time', 'desc');
}

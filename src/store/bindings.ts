import type { Knex } from 'knex';

/**
 * Camunda's bindings of a reference to a deployed definition (a call
 * activity's calledElementBinding, a business rule task's
 * decisionRefBinding): the latest version of a key, the one deployed with
 * the referring definition, a version number, or the latest with a tag.
 */
export type Binding = 'latest' | 'deployment' | 'version' | 'versionTag';

export interface BoundReference {
  key: string; tenantId: string | null; binding: Binding; deploymentId: string; version: number | null; versionTag: string | null;
}

/** The newest row of `table` that `c` binds to, in its tenant. */
export function boundQuery(db: Knex | Knex.Transaction, table: string, c: BoundReference): Knex.QueryBuilder {
  const q = db(table).where({ key: c.key }).orderBy('version', 'desc').first();
  if (c.tenantId == null) q.whereNull('tenant_id');
  else q.where({ tenant_id: c.tenantId });
  if (c.binding === 'deployment') q.where({ deployment_id: c.deploymentId });
  if (c.binding === 'version') q.where({ version: c.version });
  if (c.binding === 'versionTag') q.where({ version_tag: c.versionTag });
  return q;
}

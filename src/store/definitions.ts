import type { Forms } from '../types.ts';
import type { Db } from './db.ts';

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
  compiled: string;
  forms: Forms;
}

/** Columns without the compiled engine form, for listings. */
const summaryColumns = ['id', 'key', 'version', 'name', 'version_tag', 'description', 'tenant_id', 'deployment_id',
  'resource_id', 'resource_name', 'checksum', 'history_ttl', 'startable', 'start_event_id'] as const;
export type DefinitionSummary = Omit<DefinitionRow, 'compiled' | 'forms'>;

export async function insertDefinition(db: Db, row: DefinitionRow): Promise<void> {
  await db('process_definitions').insert({ ...row, forms: JSON.stringify(row.forms) });
}

/** The highest version of `key`, or undefined when none is deployed. */
export async function findLatestDefinition(db: Db, key: string, tenantId: string | null = null): Promise<DefinitionRow | undefined> {
  const q = db('process_definitions').where({ key }).orderBy('version', 'desc').first();
  return tenantId == null ? q.whereNull('tenant_id') : q.where({ tenant_id: tenantId });
}

export async function findDefinition(db: Db, id: string): Promise<DefinitionRow | undefined> {
  return db('process_definitions').where({ id }).first();
}

export interface DefinitionQuery {
  key?: string | undefined;
  latestVersion?: boolean | undefined;
  deploymentId?: string | undefined;
}

export async function listDefinitions(db: Db, query: DefinitionQuery): Promise<DefinitionSummary[]> {
  const q = db('process_definitions as d').select(summaryColumns.map((c) => `d.${c}`)).orderBy([
    { column: 'd.key' },
    { column: 'd.version' },
  ]);
  if (query.key) q.where('d.key', query.key);
  if (query.deploymentId) q.where('d.deployment_id', query.deploymentId);
  if (query.latestVersion) {
    q.whereRaw(
      'd.version = (select max(v.version) from process_definitions v where v.key = d.key and coalesce(v.tenant_id, \'\') = coalesce(d.tenant_id, \'\'))',
    );
  }
  return q;
}

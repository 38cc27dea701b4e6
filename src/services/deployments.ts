import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { compileResource, type CompiledProcess } from '../engine/compile.ts';
import { ValidationError } from '../errors.ts';
import { findLatestDefinition, insertDefinition, type DefinitionRow } from '../store/definitions.ts';
import {
  findLatestDeploymentByName, insertDeployment, insertResource, listResourceChecksums, type DeploymentRow,
} from '../store/deployments.ts';
import { lockForTransaction } from '../store/errors.ts';

export interface DeployInput {
  name: string | null;
  source: string | null;
  tenantId: string | null;
  /** Camunda's enable-duplicate-filtering: skip when nothing changed since this name's last deployment. */
  duplicateFiltering: boolean;
  /** Camunda's deploy-changed-only: only changed processes get new versions. */
  changedOnly: boolean;
  resources: { name: string; bytes: Buffer }[];
}

export interface DeployResult {
  deployment: DeploymentRow;
  /** Definitions created by this deployment (empty when filtered as a duplicate). */
  definitions: DefinitionRow[];
  /** True when an identical deployment existed and was returned instead. */
  duplicate: boolean;
}

const checksum = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Deployments: parse, check and version BPMN resources, all or nothing. */
export function makeDeploymentService(db: Knex) {
  async function deploy(input: DeployInput): Promise<DeployResult> {
    if (!input.resources.length) throw new ValidationError('部署没有资源 / the deployment contains no resources');
    // Compile everything before opening a transaction: a bad file stops the
    // whole deployment and nothing is written.
    const compiled = new Map<string, CompiledProcess[]>();
    for (const r of input.resources) {
      if (/\.bpmn(20\.xml)?$/i.test(r.name)) compiled.set(r.name, await compileResource(r.name, r.bytes.toString('utf8')));
    }
    return db.transaction(async (trx) => {
      // One deployer at a time across server processes, so versions never collide.
      await lockForTransaction(trx, 'deployments');
      const previous = input.name ? await findLatestDeploymentByName(trx, input.name, input.tenantId) : undefined;
      const previousSums = previous ? await listResourceChecksums(trx, previous.id) : [];
      if (input.duplicateFiltering && previous && sameResources(previousSums, input.resources)) {
        return { deployment: previous, definitions: [], duplicate: true };
      }
      const deployment = await insertDeployment(trx, { id: randomUUID(), name: input.name, source: input.source, tenant_id: input.tenantId });
      const definitions: DefinitionRow[] = [];
      for (const r of input.resources) {
        const resourceId = randomUUID();
        const sum = checksum(r.bytes);
        await insertResource(trx, { id: resourceId, deployment_id: deployment.id, name: r.name, bytes: r.bytes, checksum: sum });
        for (const proc of compiled.get(r.name) ?? []) {
          const latest = await findLatestDefinition(trx, proc.key, input.tenantId);
          // Unchanged XML keeps its version when filtering; otherwise version n+1 (Camunda 7).
          if (input.duplicateFiltering && input.changedOnly && latest?.checksum === sum) continue;
          const version = (latest?.version ?? 0) + 1;
          const row: DefinitionRow = {
            id: `${proc.key}:${version}:${randomUUID()}`,
            key: proc.key,
            version,
            name: proc.name,
            version_tag: proc.versionTag,
            description: proc.description,
            tenant_id: input.tenantId,
            deployment_id: deployment.id,
            resource_id: resourceId,
            resource_name: r.name,
            checksum: sum,
            history_ttl: proc.historyTtl,
            startable: proc.startable,
            start_event_id: proc.startEventId,
            compiled: proc.compiled,
            forms: proc.forms,
          };
          await insertDefinition(trx, row);
          definitions.push(row);
        }
      }
      return { deployment, definitions, duplicate: false };
    });
  }

  /**
   * Deploys every `*.bpmn` in a folder, one deployment per file named after
   * it, with duplicate filtering: restarting the server changes nothing
   * unless a file changed.
   */
  async function deployDirectory(dir: string): Promise<DeployResult[]> {
    const files = (await fs.readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.bpmn')).sort();
    const results: DeployResult[] = [];
    for (const file of files) {
      const bytes = await fs.readFile(path.join(dir, file));
      results.push(await deploy({
        name: file, source: 'processes', tenantId: null, duplicateFiltering: true, changedOnly: true,
        resources: [{ name: file, bytes }],
      }));
    }
    return results;
  }

  return { deploy, deployDirectory };
}

function sameResources(previous: { name: string; checksum: string }[], next: { name: string; bytes: Buffer }[]): boolean {
  if (previous.length !== next.length) return false;
  const sums = new Map(previous.map((p) => [p.name, p.checksum]));
  return next.every((r) => sums.get(r.name) === checksum(r.bytes));
}

export type DeploymentService = ReturnType<typeof makeDeploymentService>;

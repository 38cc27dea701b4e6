import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Knex } from 'knex';
import { compileResource, type CompiledProcess } from '../engine/compile.ts';
import type { CompiledDmn } from '../engine/dmn/compile.ts';
import { ConflictError, NotFoundError, ValidationError, type ParseProblem } from '../errors.ts';
import { findLatestDefinition, insertDefinition, type DefinitionRow } from '../store/definitions.ts';
import {
  countDeployments, countInstancesOfDeployment, deleteDeployment, findDeployment, findLatestDeploymentByName, findResource,
  insertDeployment, insertResource, listResourceChecksums, queryDeployments, type DeploymentQuery, type DeploymentRow,
  type ResourceRow,
} from '../store/deployments.ts';
import { listDefinitions, type DefinitionSummary } from '../store/definitions.ts';
import { findLatestDecision, listDecisionsOfDeployment } from '../store/decisions.ts';
import { lockForTransaction } from '../store/errors.ts';
import type { Clock } from '../clock.ts';
import { armStartTimers, restoreStartTimers } from './start-timers.ts';
import { TIMERS_TOPIC } from './persist-runs.ts';
import type { Actor, TraceService } from './trace.ts';
import type { TopicNotifier } from '../store/notify.ts';
import { SYSTEM } from '../types.ts';
import {
  compileDecisionResources, currentDecisions, deployDecisionResource, noDecisions, type DeployedDecisions,
} from './decision-deployments.ts';

export interface DeployInput {
  name: string | null;
  source: string | null;
  tenantId: string | null;
  /** Camunda's enable-duplicate-filtering: skip when nothing changed since this name's last deployment. */
  duplicateFiltering: boolean;
  /** Camunda's deploy-changed-only: only changed processes get new versions. */
  changedOnly: boolean;
  resources: { name: string; bytes: Buffer }[];
  /** Who deploys, for the trace; the server itself (`system`) when absent (the processes folder). */
  actor?: Actor | undefined;
  /**
   * Deploy nothing when a changed process would supersede a latest version
   * from another source (the processes folder yielding to the modeler):
   * the result lists them in `yielded` instead.
   */
  yieldToOtherSources?: boolean;
}

/** A process a changed file would have superseded, and the version from elsewhere kept instead. */
export interface YieldedVersion {
  key: string;
  resource: string;
  kept: { id: string; version: number; source: string | null; deploymentId: string };
}

export interface DeployResult {
  deployment: DeploymentRow;
  /** Definitions created by this deployment (empty when filtered as a duplicate). */
  definitions: DefinitionRow[];
  /**
   * The current versions of processes left unchanged by filtering, so a
   * client that deploys and then starts (Camunda Modeler) has an id to start.
   */
  unchanged: DefinitionSummary[];
  /** True when an identical deployment existed and was returned instead. */
  duplicate: boolean;
  /**
   * Problems Camunda 7 would deploy anyway (references from diagram
   * interchange or collaboration drawings to missing elements), by resource;
   * only resources that have some are listed.
   */
  warnings: Record<string, ParseProblem[]>;
  /** Decisions and decision requirements definitions from `.dmn` resources (created, or left unchanged). */
  decisions: DeployedDecisions;
}

/** Thrown inside deploy's transaction (so nothing is written) when it yields to another source. */
class YieldsToOtherSource extends Error {
  constructor(readonly yielded: YieldedVersion[]) {
    super('yields to another source');
  }
}

/** The deployment source of the files in PROCESSES_DIR deployed at start-up. */
export const PROCESSES_SOURCE = 'processes';

const checksum = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

/** Deployments: parse, check and version BPMN and DMN resources, all or nothing. */
export function makeDeploymentService(db: Knex, clock: Clock, zone: string, notifier: TopicNotifier, trace: TraceService) {
  const deployFact = (deploymentId: string, input: DeployInput, details: Record<string, unknown>) => ({
    operation: 'Create', entityType: 'Deployment', entityId: deploymentId,
    details: { name: input.name, source: input.source, resources: input.resources.map((r) => r.name), ...details },
  });

  async function deploy(input: DeployInput): Promise<DeployResult> {
    if (!input.resources.length) throw new ValidationError('部署没有资源 / the deployment contains no resources');
    // Compile everything before opening a transaction: a bad file stops the
    // whole deployment and nothing is written.
    const compiled = new Map<string, CompiledProcess[]>();
    const warnings: Record<string, ParseProblem[]> = {};
    for (const r of input.resources) {
      if (!/\.bpmn(20\.xml)?$/i.test(r.name)) continue;
      const found: ParseProblem[] = [];
      compiled.set(r.name, await compileResource(r.name, r.bytes, found));
      if (found.length) warnings[r.name] = found;
    }
    const dmn = await compileDecisionResources(input.resources);
    return db.transaction(async (trx) => {
      // One deployer at a time across server processes, so versions never collide.
      await lockForTransaction(trx, 'deployments');
      const previous = input.name ? await findLatestDeploymentByName(trx, input.name, input.tenantId) : undefined;
      const previousSums = previous ? await listResourceChecksums(trx, previous.id) : [];
      if (input.duplicateFiltering && previous && sameResources(previousSums, input.resources)) {
        await trace.record(trx, input.actor ?? SYSTEM, deployFact(previous.id, input, { duplicate: true }));
        return {
          deployment: previous, definitions: [], unchanged: await listDefinitions(trx, { deploymentId: previous.id }), duplicate: true, warnings,
          decisions: await currentDecisions(trx, dmn, input.tenantId),
        };
      }
      if (input.yieldToOtherSources) {
        const yielded = await newerFromElsewhere(trx, input, compiled, dmn);
        if (yielded.length) throw new YieldsToOtherSource(yielded);
      }
      const deployment = await insertDeployment(trx, { id: randomUUID(), name: input.name, source: input.source, tenant_id: input.tenantId });
      const definitions: DefinitionRow[] = [];
      const unchanged: DefinitionSummary[] = [];
      const decisions = noDecisions();
      for (const r of input.resources) {
        const resourceId = randomUUID();
        const sum = checksum(r.bytes);
        await insertResource(trx, { id: resourceId, deployment_id: deployment.id, name: r.name, bytes: r.bytes, checksum: sum });
        const tables = dmn.get(r.name);
        if (tables) {
          await deployDecisionResource(trx, {
            dmn: tables, deploymentId: deployment.id, tenantId: input.tenantId, resourceId, resourceName: r.name, checksum: sum,
            changedOnly: input.duplicateFiltering && input.changedOnly,
          }, decisions);
        }
        for (const proc of compiled.get(r.name) ?? []) {
          const latest = await findLatestDefinition(trx, proc.key, input.tenantId);
          // Unchanged XML keeps its version when filtering; otherwise version n+1 (Camunda 7).
          if (input.duplicateFiltering && input.changedOnly && latest?.checksum === sum) {
            unchanged.push(latest);
            continue;
          }
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
            is_public: proc.isPublic,
            message_starts: proc.messageStarts,
            compiled: proc.compiled,
            forms: proc.forms,
            starter_groups: proc.starterGroups,
            starter_users: proc.starterUsers,
          };
          await insertDefinition(trx, row);
          definitions.push(row);
        }
      }
      // Each new version takes over its key's start timers (a version without any clears them).
      const now = await clock.now(trx);
      for (const def of definitions) await armStartTimers(trx, def.key, def, now, zone);
      // A sleeping scheduler must look again: a new start timer may be due sooner than it planned.
      if (definitions.length) await notifier.announce(trx, [TIMERS_TOPIC]);
      await trace.record(trx, input.actor ?? SYSTEM, deployFact(deployment.id, input, {
        definitions: definitions.map((d) => `${d.key}:${d.version}`), unchanged: unchanged.map((d) => `${d.key}:${d.version}`),
        ...(dmn.size ? {
          decisions: decisions.decisions.map((d) => `${d.key}:${d.version}`), unchangedDecisions: decisions.unchangedDecisions.map((d) => `${d.key}:${d.version}`),
        } : {}),
      }));
      return { deployment, definitions, unchanged, duplicate: false, warnings, decisions };
    });
  }

  /**
   * The processes of `input` whose latest version came from another source
   * (the modeler, the REST API) and differs from the file: deploying the file
   * would silently replace what someone made there, for every new instance.
   */
  async function newerFromElsewhere(trx: Knex.Transaction, input: DeployInput, compiled: Map<string, CompiledProcess[]>, dmn: Map<string, CompiledDmn>): Promise<YieldedVersion[]> {
    const yielded: YieldedVersion[] = [];
    for (const r of input.resources) {
      const sum = checksum(r.bytes);
      // A decision table edited in the web DMN editor is kept over a changed .dmn file just as a diagram is.
      const latest = [
        ...await Promise.all((compiled.get(r.name) ?? []).map((p) => findLatestDefinition(trx, p.key, input.tenantId))),
        ...await Promise.all((dmn.get(r.name)?.decisions ?? []).map((d) => findLatestDecision(trx, d.key, input.tenantId))),
      ];
      for (const version of latest) {
        if (!version || version.checksum === sum) continue;
        const made = await findDeployment(trx, version.deployment_id);
        if (made && made.source !== input.source) {
          yielded.push({ key: version.key, resource: r.name, kept: { id: version.id, version: version.version, source: made.source, deploymentId: made.id } });
        }
      }
    }
    return yielded;
  }

  /**
   * Deploys every `*.dmn` and `*.bpmn` in a folder, one deployment per file named after
   * it, with duplicate filtering: restarting the server changes nothing
   * unless a file changed. A changed file whose process has a newer version from
   * the modeler or the API is deployed only with `override` (PROCESSES_OVERRIDE);
   * otherwise nothing of that file is deployed and `yielded` names the versions kept.
   */
  async function deployDirectory(dir: string, override = false): Promise<{ deployed: DeployResult[]; yielded: YieldedVersion[] }> {
    // Decision tables first, each its own deployment like a diagram: a process naming one by latest binding finds it.
    const names = await fs.readdir(dir).catch(() => [] as string[]);
    const files = [...names.filter((f) => f.endsWith('.dmn')).sort(), ...names.filter((f) => f.endsWith('.bpmn')).sort()];
    const deployed: DeployResult[] = [];
    const yielded: YieldedVersion[] = [];
    for (const file of files) {
      const bytes = await fs.readFile(path.join(dir, file));
      try {
        deployed.push(await deploy({
          name: file, source: PROCESSES_SOURCE, tenantId: null, duplicateFiltering: true, changedOnly: true,
          resources: [{ name: file, bytes }], yieldToOtherSources: !override,
        }));
      } catch (err) {
        if (!(err instanceof YieldsToOtherSource)) throw err;
        yielded.push(...err.yielded);
      }
    }
    return { deployed, yielded };
  }

  async function get(id: string): Promise<DeploymentRow> {
    const row = await findDeployment(db, id);
    if (!row) throw new NotFoundError(`部署不存在 / no deployment with id ${id}`);
    return row;
  }

  return {
    deploy,
    deployDirectory,
    get,
    list: (query: DeploymentQuery) => queryDeployments(db, query),
    count: (query: DeploymentQuery) => countDeployments(db, query),
    async resources(id: string): Promise<{ id: string; name: string; checksum: string }[]> {
      await get(id);
      return listResourceChecksums(db, id);
    },
    async resource(id: string, resourceId: string): Promise<ResourceRow> {
      const row = await findResource(db, id, resourceId);
      if (!row) throw new NotFoundError(`资源不存在 / no resource ${resourceId} in deployment ${id}`);
      return row;
    },
    /**
     * POST /deployment/{id}/redeploy: a new deployment of the same name and
     * tenant with the named resources of `id` (by id or name; all when none is
     * named), deployed as POST /deployment/create deploys, without filtering.
     */
    async redeploy(id: string, pick: { resourceIds: string[]; resourceNames: string[]; source: string | null }, actor: Actor): Promise<DeployResult> {
      const old = await get(id);
      const all = await listResourceChecksums(db, id);
      for (const r of pick.resourceIds) if (!all.some((a) => a.id === r)) throw new NotFoundError(`资源不存在 / no resource with id ${r} in deployment ${id}`);
      for (const n of pick.resourceNames) if (!all.some((a) => a.name === n)) throw new NotFoundError(`资源不存在 / no resource named ${n} in deployment ${id}`);
      const chosen = pick.resourceIds.length || pick.resourceNames.length ? all.filter((a) => pick.resourceIds.includes(a.id) || pick.resourceNames.includes(a.name)) : all;
      const resources = [];
      for (const r of chosen) resources.push({ name: r.name, bytes: Buffer.from((await findResource(db, id, r.id))!.bytes) });
      return deploy({ name: old.name, source: pick.source, tenantId: old.tenant_id, duplicateFiltering: false, changedOnly: false, resources, actor });
    },
    async definitions(id: string): Promise<DefinitionSummary[]> {
      return listDefinitions(db, { deploymentId: id });
    },
    /**
     * Deletes a deployment; with running instances only when `cascade` (they are deleted too), as in Camunda.
     * Its decisions' history stays unless `cascade` (store/deployments.ts deleteDeployment).
     */
    async remove(id: string, cascade: boolean, actor: Actor): Promise<void> {
      await db.transaction(async (trx) => {
        await lockForTransaction(trx, 'deployments');
        if (!(await findDeployment(trx, id))) throw new NotFoundError(`部署不存在 / no deployment with id ${id}`);
        if (!cascade && (await countInstancesOfDeployment(trx, id, false)) > 0) {
          throw new ConflictError(`部署 ${id} 仍有流程实例，需 cascade=true / deployment ${id} still has process instances; delete with cascade=true`, undefined, 'ProcessEngineException');
        }
        const removed = await listDefinitions(trx, { deploymentId: id });
        const keys = [...new Set(removed.map((d) => d.key))];
        // The keys whose newest version goes with this deployment: only they change hands.
        const newest: DefinitionSummary[] = [];
        for (const d of removed) {
          const latest = await findLatestDefinition(trx, d.key, d.tenant_id);
          if (latest?.deployment_id === id && !newest.some((n) => n.key === d.key && n.tenant_id === d.tenant_id)) newest.push(d);
        }
        const decisions = [...new Set((await listDecisionsOfDeployment(trx, id)).map((d) => d.key))];
        await deleteDeployment(trx, id, cascade);
        // The version before takes back the start timers it had, as they stood (see restoreStartTimers).
        const now = await clock.now(trx);
        for (const d of newest) {
          const previous = await findLatestDefinition(trx, d.key, d.tenant_id);
          if (previous) await restoreStartTimers(trx, previous, now, zone);
        }
        if (newest.length) await notifier.announce(trx, [TIMERS_TOPIC]);
        await trace.record(trx, actor, { operation: 'Delete', entityType: 'Deployment', entityId: id, details: { cascade, definitions: keys, decisions } });
      });
    },
  };
}

function sameResources(previous: { name: string; checksum: string }[], next: { name: string; bytes: Buffer }[]): boolean {
  if (previous.length !== next.length) return false;
  const sums = new Map(previous.map((p) => [p.name, p.checksum]));
  return next.every((r) => sums.get(r.name) === checksum(r.bytes));
}

export type DeploymentService = ReturnType<typeof makeDeploymentService>;

import { randomUUID } from 'node:crypto';
import { compileDmn, type CompiledDmn } from '../engine/dmn/compile.ts';
import { ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import {
  findLatestDecision, findLatestDecisionRequirements, insertDecisionDefinition, insertDecisionRequirements, type DecisionDefinitionRow, type DecisionDefinitionSummary, type DecisionRequirementsRow,
} from '../store/decisions.ts';

/** Camunda 7's DMN resource suffixes. */
export const isDmnResource = (name: string) => /\.dmn(11\.xml)?$/i.test(name);

/** What a deployment did with its DMN resources. */
export interface DeployedDecisions {
  decisions: DecisionDefinitionSummary[];
  requirements: DecisionRequirementsRow[];
  /** The current versions left unchanged by deploy-changed-only, so the answer still names them (as for processes). */
  unchangedDecisions: DecisionDefinitionSummary[];
  unchangedRequirements: DecisionRequirementsRow[];
}

/**
 * Compiles every DMN resource before anything is written: one broken table
 * refuses the whole deployment (ParseError naming the element and line, from
 * compileDmn). A decision key, or the key of a decision requirements
 * definition that would be stored, twice in one deployment is refused as
 * Camunda refuses it.
 */
export async function compileDecisionResources(resources: { name: string; bytes: Buffer }[]): Promise<Map<string, CompiledDmn>> {
  const compiled = new Map<string, CompiledDmn>();
  const keys = new Map<string, string>();
  const drdKeys = new Map<string, string>();
  for (const r of resources) {
    if (!isDmnResource(r.name)) continue;
    const dmn = await compileDmn(r.name, r.bytes);
    for (const d of dmn.decisions) {
      const other = keys.get(d.key);
      if (other) throw duplicateKey('决策', 'decision', d.key, other, r.name);
      keys.set(d.key, r.name);
    }
    if (dmn.decisions.length > 1) {
      const other = drdKeys.get(dmn.requirements.key);
      if (other) throw duplicateKey('决策需求定义', 'decision requirements definition', dmn.requirements.key, other, r.name);
      drdKeys.set(dmn.requirements.key, r.name);
    }
    compiled.set(r.name, dmn);
  }
  return compiled;
}

const duplicateKey = (zh: string, en: string, key: string, first: string, second: string) => new ValidationError(
  `部署中${zh}键 ${key} 出现两次（${first}、${second}）/ the deployment contains two ${en}s with the same key '${key}' (id attribute) in ${first} and ${second}, this is not allowed`,
  undefined, 'ProcessEngineException',
);

/**
 * Stores the decisions of one DMN resource, versioned per key exactly as
 * process definitions are (version n+1 of the key in the tenant; with
 * deploy-changed-only an unchanged resource keeps its versions). Its
 * <definitions> becomes a decision requirements definition only when it
 * holds more than one decision (Camunda 7: no DRD for a single decision).
 */
export async function deployDecisionResource(trx: Db, d: {
  dmn: CompiledDmn; deploymentId: string; tenantId: string | null; resourceId: string; resourceName: string; checksum: string; changedOnly: boolean;
}, into: DeployedDecisions): Promise<void> {
  const base = { tenant_id: d.tenantId, deployment_id: d.deploymentId, resource_id: d.resourceId, resource_name: d.resourceName, checksum: d.checksum };
  let drd: DecisionRequirementsRow | null = null;
  if (d.dmn.decisions.length > 1) {
    const latest = await findLatestDecisionRequirements(trx, d.dmn.requirements.key, d.tenantId);
    if (d.changedOnly && latest?.checksum === d.checksum) {
      into.unchangedRequirements.push(latest);
    } else {
      const version = (latest?.version ?? 0) + 1;
      drd = { id: `${d.dmn.requirements.key}:${version}:${randomUUID()}`, key: d.dmn.requirements.key, version, name: d.dmn.requirements.name, category: d.dmn.requirements.category, ...base };
      await insertDecisionRequirements(trx, drd);
      into.requirements.push(drd);
    }
  }
  for (const decision of d.dmn.decisions) {
    const latest = await findLatestDecision(trx, decision.key, d.tenantId);
    if (d.changedOnly && latest?.checksum === d.checksum) {
      const { compiled: _c, ...summary } = latest;
      into.unchangedDecisions.push(summary);
      continue;
    }
    const version = (latest?.version ?? 0) + 1;
    const row: DecisionDefinitionRow = {
      id: `${decision.key}:${version}:${randomUUID()}`, key: decision.key, version, name: decision.name, category: d.dmn.requirements.category,
      version_tag: decision.versionTag, history_ttl: decision.historyTtl, ...base,
      decision_requirements_definition_id: drd?.id ?? null, decision_requirements_definition_key: drd?.key ?? null, compiled: decision.compiled,
    };
    await insertDecisionDefinition(trx, row);
    const { compiled: _c, ...summary } = row;
    into.decisions.push(summary);
  }
}

/**
 * The answer to a deployment filtered as a duplicate: the current versions of
 * its decision keys (which an earlier deployment may hold, when deploy-changed-only
 * kept them), so a client that deploys and then evaluates has an id.
 */
export async function currentDecisions(db: Db, compiled: Map<string, CompiledDmn>, tenantId: string | null): Promise<DeployedDecisions> {
  const into = noDecisions();
  for (const dmn of compiled.values()) {
    if (dmn.decisions.length > 1) {
      const drd = await findLatestDecisionRequirements(db, dmn.requirements.key, tenantId);
      if (drd) into.unchangedRequirements.push(drd);
    }
    for (const decision of dmn.decisions) {
      const latest = await findLatestDecision(db, decision.key, tenantId);
      if (!latest) continue;
      const { compiled: _c, ...summary } = latest;
      into.unchangedDecisions.push(summary);
    }
  }
  return into;
}

export const noDecisions = (): DeployedDecisions => ({ decisions: [], requirements: [], unchangedDecisions: [], unchangedRequirements: [] });

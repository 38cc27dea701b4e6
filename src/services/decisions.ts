import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import type { Keyring } from '../crypto/keyring.ts';
import { evaluateDecision, type DecisionEvaluation } from '../engine/dmn/evaluate.ts';
import { DecisionEvaluationError } from '../engine/dmn/errors.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import {
  countDecisionInstances, countEvaluationsByDecision, insertDecisionInstance, listDecisionInstances, listDecisionValues, type DecisionInstanceQuery, type DecisionInstanceRow,
  type DecisionValueRow,
} from '../store/decision-instances.ts';
import {
  countDecisionRequirements, countDecisions, findDecision, findDecisionRequirements, findDecisionXml, findLatestDecision, findLatestDecisionRequirements,
  listDecisionRequirements, listDecisions, listDecisionsOfDeployment, type DecisionDefinitionRow, type DecisionQuery, type DecisionRequirementsQuery,
  type DecisionRequirementsRow,
} from '../store/decisions.ts';
import { PUBLIC_USER, roleGroups, type Principal, type TypedValue, type Variables } from '../types.ts';
import { visibility } from './instances.ts';
import { runUserOf, type TraceService } from './trace.ts';
import { findDiagram } from './decision-diagrams.ts';
import { clauseTypes, typedDecisionValue } from './decision-values.ts';
import { openDecisionValue, sealDecisionValue } from './sealed-decision-values.ts';

/** Where an evaluation happened: all null for one asked over REST. */
export interface DecisionContext {
  processDefinitionId?: string | null | undefined;
  processDefinitionKey?: string | null | undefined;
  processInstanceId?: string | null | undefined;
  rootProcessInstanceId?: string | null | undefined;
  executionId?: string | null | undefined;
  activityId?: string | null | undefined;
  activityInstanceId?: string | null | undefined;
  userId?: string | null | undefined;
  tenantId?: string | null | undefined;
  /** When it was evaluated; the database's now when absent (pass the injected clock's in tests). */
  evaluationTime?: Date | undefined;
  /** Seals the inputs and outputs history keeps (an input may be a sensitive variable's value). */
  keyring: Keyring;
}

/**
 * The `lookup` evaluateDecision needs for required decisions: the decisions
 * deployed with `root` (Camunda resolves a required decision within its
 * decision requirements graph, which is one resource of one deployment).
 */
export async function lookupFor(trx: Db, root: Pick<DecisionDefinitionRow, 'deployment_id'>): Promise<(key: string) => string | undefined> {
  const rows = await listDecisionsOfDeployment(trx, root.deployment_id);
  const byKey = new Map(rows.map((r) => [r.key, r.compiled]));
  return (key) => byKey.get(key);
}

/**
 * Writes the history of one evaluation in the caller's transaction: a row per
 * decision evaluated (required decisions point at the root), with the inputs
 * it saw and the outputs of its matched rules. Returns the root's row id.
 */
export async function recordEvaluation(trx: Db, evaluation: DecisionEvaluation, root: DecisionDefinitionRow, context: DecisionContext): Promise<string> {
  const time = context.evaluationTime ?? await databaseNow(trx);
  const siblings = new Map((await listDecisionsOfDeployment(trx, root.deployment_id)).map((r) => [r.key, r]));
  const rootId = randomUUID();
  // The root last in `records`, but first in the table: the others reference it.
  const ordered = [...evaluation.records].reverse();
  for (const [i, record] of ordered.entries()) {
    const def = i === 0 ? root : siblings.get(record.key);
    if (!def) throw new Error(`required decision ${record.key} is not deployed with ${root.id}`);
    const id = i === 0 ? rootId : randomUUID();
    const types = clauseTypes(def.compiled);
    const row: DecisionInstanceRow = {
      id, decision_definition_id: def.id, decision_definition_key: def.key, decision_definition_name: def.name,
      decision_requirements_definition_id: def.decision_requirements_definition_id, decision_requirements_definition_key: def.decision_requirements_definition_key,
      evaluation_time: time,
      process_definition_id: context.processDefinitionId ?? null, process_definition_key: context.processDefinitionKey ?? null,
      process_instance_id: context.processInstanceId ?? null, root_process_instance_id: context.rootProcessInstanceId ?? context.processInstanceId ?? null,
      execution_id: context.executionId ?? null, activity_id: context.activityId ?? null, activity_instance_id: context.activityInstanceId ?? null,
      user_id: context.userId ?? null, tenant_id: context.tenantId ?? def.tenant_id,
      root_decision_instance_id: i === 0 ? null : rootId, collect_result_value: record.collectResultValue,
    };
    const inputs: DecisionValueRow[] = record.inputs.map((x, position) => ({
      id: randomUUID(), decision_instance_id: id, position, clause_id: x.clauseId, clause_name: x.clauseName, ...typedDecisionValue(x.value, types.inputs.get(x.clauseId)),
    }));
    const outputs: DecisionValueRow[] = record.outputs.map((x, position) => ({
      id: randomUUID(), decision_instance_id: id, position, clause_id: x.clauseId, clause_name: x.clauseName, rule_id: x.ruleId,
      rule_order: x.ruleOrder, variable_name: x.variableName, ...typedDecisionValue(x.value, types.outputs.get(x.clauseId ?? x.variableName)),
    }));
    await insertDecisionInstance(trx, row, inputs.map((v) => sealDecisionValue(context.keyring, 'input', v)),
      outputs.map((v) => sealDecisionValue(context.keyring, 'output', v)));
  }
  return rootId;
}

async function databaseNow(trx: Db): Promise<Date> {
  const result = await trx.raw('select now() as now');
  return new Date((result.rows ?? result)[0].now);
}

/** Plain values as the decision's expressions see them: dates as Date, Json parsed. */
function decisionValues(variables: Variables): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables).map(([k, v]) => [k, v.type === 'Date' && typeof v.value === 'string' ? new Date(v.value) : v.value]));
}

/**
 * Camunda asks for CREATE_INSTANCE on the decision; here, as for a process
 * whose diagram names no starters: administrators and members of one of the
 * organisation's roles. The public and workers evaluate nothing by hand.
 */
export function assertMayEvaluate(principal: Principal, key: string): void {
  if (principal.isAdmin) return;
  if (principal.userId !== PUBLIC_USER && roleGroups.some((g) => principal.groups.includes(g.id))) return;
  throw new ForbiddenError(`无权评估决策 ${key} / you may not evaluate decision ${key}`);
}

export type EvaluatedInstance = DecisionInstanceRow & { inputs?: DecisionValueRow[]; outputs?: DecisionValueRow[] };

/** Decision definitions, decision requirements definitions, evaluation over REST and its history. */
export function makeDecisionService(db: Knex, clock: Clock, trace: TraceService, keyring: Keyring, zone = 'Asia/Shanghai') {
  const noDecision = (what: string) => new NotFoundError(`决策定义不存在 / no decision definition with ${what}`);
  const noRequirements = (what: string) => new NotFoundError(`决策需求定义不存在 / no decision requirements definition with ${what}`);

  async function get(id: string): Promise<DecisionDefinitionRow> {
    const row = await findDecision(db, id);
    if (!row) throw noDecision(`id ${id}`);
    return row;
  }
  async function getLatest(key: string, tenantId: string | null = null): Promise<DecisionDefinitionRow> {
    const row = await findLatestDecision(db, key, tenantId);
    if (!row) throw noDecision(tenantId == null ? `key ${key}` : `key ${key} and tenant ${tenantId}`);
    return row;
  }
  async function getRequirements(id: string): Promise<DecisionRequirementsRow> {
    const row = await findDecisionRequirements(db, id);
    if (!row) throw noRequirements(`id ${id}`);
    return row;
  }
  async function getLatestRequirements(key: string, tenantId: string | null = null): Promise<DecisionRequirementsRow> {
    const row = await findLatestDecisionRequirements(db, key, tenantId);
    if (!row) throw noRequirements(tenantId == null ? `key ${key}` : `key ${key} and tenant ${tenantId}`);
    return row;
  }
  const xmlOf = async (table: 'decision_definitions' | 'decision_requirements_definitions', id: string) => {
    const row = await findDecisionXml(db, table, id);
    if (!row) throw (table === 'decision_definitions' ? noDecision : noRequirements)(`id ${id}`);
    return Buffer.from(row.bytes).toString('utf8');
  };

  /**
   * Evaluates `def` with the caller's variables and writes its history, in one
   * transaction; returns Camunda's result list (one map per matched rule or
   * aggregation) as typed values.
   */
  async function evaluate(def: DecisionDefinitionRow, variables: Variables, principal: Principal): Promise<Record<string, TypedValue>[]> {
    assertMayEvaluate(principal, def.key);
    return db.transaction(async (trx) => {
      const lookup = await lookupFor(trx, def);
      const now = await clock.now(trx);
      let evaluation: DecisionEvaluation;
      try {
        // JUEL's currentUser() is the caller, now() and dateTime() the server's clock in its zone, as in a run.
        evaluation = evaluateDecision(def.key, lookup, decisionValues(variables), { now: () => now, zone, user: runUserOf(principal) });
      } catch (err) {
        // Camunda 7 answers 500 here ("the decision could not be evaluated, e.g. an input is missing").
        // We answer 400: the table failed on the caller's input (a UNIQUE table with two matching rules,
        // an expression that cannot take the value given), which the caller can change; a 500 would say
        // the server is broken. The body keeps Camunda's `RestException` type and its message's start.
        if (err instanceof DecisionEvaluationError) {
          throw new ValidationError(`决策 ${def.id} 无法评估 / Cannot evaluate decision ${def.id}: ${err.message}`, undefined, 'RestException');
        }
        throw err;
      }
      const instanceId = await recordEvaluation(trx, evaluation, def, { userId: principal.userId, tenantId: def.tenant_id, evaluationTime: now, keyring });
      await trace.record(trx, principal, {
        operation: 'Evaluate', entityType: 'DecisionDefinition', entityId: def.id,
        details: { key: def.key, version: def.version, decisionInstanceId: instanceId, variables: Object.keys(variables), results: evaluation.resultList.length },
      });
      const types = clauseTypes(def.compiled);
      const typeOf = (name: string) => (types.count ? 'integer' : types.outputs.get(name));
      return evaluation.resultList.map((entry) => Object.fromEntries(Object.entries(entry).map(([name, value]) => [name, typedDecisionValue(value, typeOf(name))])));
    });
  }

  /** History of evaluations the caller may see (see DecisionInstanceQuery.visibleTo), inputs and outputs on request. */
  async function history(query: Omit<DecisionInstanceQuery, 'visibleTo'>, include: { inputs: boolean; outputs: boolean }, principal: Principal): Promise<EvaluatedInstance[]> {
    const rows: EvaluatedInstance[] = await listDecisionInstances(db, { ...query, visibleTo: visibility(principal) });
    const ids = rows.map((r) => r.id);
    for (const which of ['inputs', 'outputs'] as const) {
      if (!include[which]) continue;
      const values = await listDecisionValues(db, which, ids);
      const kind = which === 'inputs' ? 'input' : 'output';
      // IntegrityError when one was altered: history shows no value it cannot vouch for.
      for (const r of rows) r[which] = values.filter((v) => v.decision_instance_id === r.id).map((v) => openDecisionValue(keyring, kind, v, r.process_instance_id));
    }
    return rows;
  }

  return {
    list: (query: DecisionQuery) => listDecisions(db, query),
    count: (query: DecisionQuery) => countDecisions(db, query),
    get,
    getLatest,
    xml: (id: string) => xmlOf('decision_definitions', id),
    listRequirements: (query: DecisionRequirementsQuery) => listDecisionRequirements(db, query),
    countRequirements: (query: DecisionRequirementsQuery) => countDecisionRequirements(db, query),
    getRequirements,
    getLatestRequirements,
    requirementsXml: (id: string) => xmlOf('decision_requirements_definitions', id),
    /** The image deployed beside a decision definition, null when none (see decision-diagrams.ts). */
    diagram: async (def: DecisionDefinitionRow) => findDiagram(db, def),
    /** The image deployed beside a decision requirements definition, null when none. */
    requirementsDiagram: async (drd: DecisionRequirementsRow) => findDiagram(db, drd),
    evaluateById: async (id: string, variables: Variables, principal: Principal) => evaluate(await get(id), variables, principal),
    evaluateByKey: async (key: string, tenantId: string | null, variables: Variables, principal: Principal) => evaluate(await getLatest(key, tenantId), variables, principal),

    history,
    /** One evaluated decision the caller may see; NotFoundError otherwise, as if it did not exist. */
    async historyOne(id: string, include: { inputs: boolean; outputs: boolean }, principal: Principal): Promise<EvaluatedInstance> {
      const [row] = await history({ ids: [id] }, include, principal);
      if (!row) throw new NotFoundError(`历史决策实例不存在 / no historic decision instance with id ${id}`);
      return row;
    },
    /**
     * Evaluations per decision of a decision requirements definition, counting
     * only the evaluations the caller may see (as `history`); an unknown id
     * gives an empty list, as in Camunda.
     */
    requirementsStatistics: (requirementsId: string, decisionInstanceId: string | undefined, principal: Principal) =>
      countEvaluationsByDecision(db, { requirementsId, rootDecisionInstanceId: decisionInstanceId, visibleTo: visibility(principal) }),
    countHistory: (query: Omit<DecisionInstanceQuery, 'visibleTo'>, principal: Principal) =>
      countDecisionInstances(db, { ...query, visibleTo: visibility(principal) }),
  };
}

export type DecisionService = ReturnType<typeof makeDecisionService>;

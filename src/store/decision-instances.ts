import type { Db } from './db.ts';
import { visibleInstanceIds } from './instances.ts';
import { countOf, paged } from './paging.ts';

/** One evaluated decision in history (Camunda's HistoricDecisionInstance). */
export interface DecisionInstanceRow {
  id: string;
  decision_definition_id: string;
  decision_definition_key: string;
  decision_definition_name: string | null;
  decision_requirements_definition_id: string | null;
  decision_requirements_definition_key: string | null;
  evaluation_time: Date;
  process_definition_id: string | null;
  process_definition_key: string | null;
  process_instance_id: string | null;
  root_process_instance_id: string | null;
  execution_id: string | null;
  activity_id: string | null;
  activity_instance_id: string | null;
  user_id: string | null;
  tenant_id: string | null;
  /** The decision evaluated at the caller's request, for a required decision; null for that one itself. */
  root_decision_instance_id: string | null;
  collect_result_value: number | null;
}

/** An input the table saw, or an output of a matched rule, as a typed value (opened). */
export interface DecisionValueRow {
  id: string;
  decision_instance_id: string;
  position: number;
  /** Null for a literal expression's output, which has no clause (as in Camunda). */
  clause_id: string | null;
  clause_name: string | null;
  rule_id?: string | null;
  rule_order?: number | null;
  variable_name?: string | null;
  type: string;
  value: unknown;
}

/** As stored: `value` is the envelope sealed under `key_id` (services/sealed-decision-values.ts). */
export type StoredDecisionValue = DecisionValueRow & { key_id: string | null };

/** Writes one evaluated decision with its (sealed) inputs and outputs. */
export async function insertDecisionInstance(db: Db, row: DecisionInstanceRow, inputs: StoredDecisionValue[], outputs: StoredDecisionValue[]): Promise<void> {
  await db('history_decision_instances').insert(row);
  // jsonb: the envelope goes in as JSON text.
  const stored = (v: StoredDecisionValue) => ({ ...v, value: JSON.stringify(v.value ?? null) });
  if (inputs.length) await db('history_decision_inputs').insert(inputs.map(stored));
  if (outputs.length) await db('history_decision_outputs').insert(outputs.map(stored));
}

export interface DecisionInstanceQuery {
  ids?: string[] | undefined;
  definitionIds?: string[] | undefined;
  definitionKeys?: string[] | undefined;
  definitionName?: string | undefined;
  processDefinitionId?: string | undefined;
  processDefinitionKey?: string | undefined;
  processInstanceId?: string | undefined;
  activityIds?: string[] | undefined;
  activityInstanceIds?: string[] | undefined;
  evaluatedBefore?: Date | undefined;
  evaluatedAfter?: Date | undefined;
  userId?: string | undefined;
  rootDecisionInstanceId?: string | undefined;
  rootDecisionInstancesOnly?: boolean | undefined;
  requirementsId?: string | undefined;
  requirementsKey?: string | undefined;
  tenantIds?: string[] | undefined;
  withoutTenantId?: boolean | undefined;
  /**
   * Only what this person may see: evaluations inside the process instances
   * visible to them (store/instances.ts), and those they asked for themselves.
   */
  visibleTo?: { userId: string; groups: string[] } | undefined;
  sorting?: { column: DecisionInstanceSortColumn; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

export const decisionInstanceSortColumns = { evaluationTime: 'evaluation_time', tenantId: 'tenant_id' } as const;
export type DecisionInstanceSortColumn = (typeof decisionInstanceSortColumns)[keyof typeof decisionInstanceSortColumns];

function filtered(db: Db, query: DecisionInstanceQuery) {
  const q = db('history_decision_instances as h');
  if (query.ids) q.whereIn('h.id', query.ids);
  if (query.definitionIds) q.whereIn('h.decision_definition_id', query.definitionIds);
  if (query.definitionKeys) q.whereIn('h.decision_definition_key', query.definitionKeys);
  if (query.definitionName) q.where('h.decision_definition_name', query.definitionName);
  if (query.processDefinitionId) q.where('h.process_definition_id', query.processDefinitionId);
  if (query.processDefinitionKey) q.where('h.process_definition_key', query.processDefinitionKey);
  if (query.processInstanceId) q.where('h.process_instance_id', query.processInstanceId);
  if (query.activityIds) q.whereIn('h.activity_id', query.activityIds);
  if (query.activityInstanceIds) q.whereIn('h.activity_instance_id', query.activityInstanceIds);
  if (query.evaluatedBefore) q.where('h.evaluation_time', '<=', query.evaluatedBefore);
  if (query.evaluatedAfter) q.where('h.evaluation_time', '>=', query.evaluatedAfter);
  if (query.userId) q.where('h.user_id', query.userId);
  if (query.rootDecisionInstanceId) {
    // Camunda: the root itself and the decisions it required.
    const root = query.rootDecisionInstanceId;
    q.where((w) => w.where('h.id', root).orWhere('h.root_decision_instance_id', root));
  }
  if (query.rootDecisionInstancesOnly) q.whereNull('h.root_decision_instance_id');
  if (query.requirementsId) q.where('h.decision_requirements_definition_id', query.requirementsId);
  if (query.requirementsKey) q.where('h.decision_requirements_definition_key', query.requirementsKey);
  if (query.tenantIds) q.whereIn('h.tenant_id', query.tenantIds);
  if (query.withoutTenantId) q.whereNull('h.tenant_id');
  if (query.visibleTo) {
    const who = query.visibleTo;
    q.where((w) => w.where((own) => own.whereNull('h.process_instance_id').where('h.user_id', who.userId))
      .orWhereIn('h.process_instance_id', visibleInstanceIds(db, who)));
  }
  return q;
}

export async function listDecisionInstances(db: Db, query: DecisionInstanceQuery): Promise<DecisionInstanceRow[]> {
  return paged(filtered(db, query).select('h.*'), query, [{ column: 'evaluation_time', order: 'asc' }], 'h.id', 'h.');
}

export async function countDecisionInstances(db: Db, query: DecisionInstanceQuery): Promise<number> {
  return countOf(filtered(db, query));
}

/**
 * Camunda's HistoricDecisionInstanceStatistics of one decision requirements
 * definition: evaluations per decision key, only keys evaluated at least once
 * (`rootDecisionInstanceId` narrows to one evaluation: the root and the
 * decisions it required).
 */
export async function countEvaluationsByDecision(db: Db, query: Pick<DecisionInstanceQuery, 'requirementsId' | 'rootDecisionInstanceId' | 'visibleTo'>): Promise<{ key: string; evaluations: number }[]> {
  const rows = (await filtered(db, query)
    .select('h.decision_definition_key as key').count('h.id as evaluations')
    .groupBy('h.decision_definition_key').orderBy('h.decision_definition_key')) as unknown as { key: string; evaluations: string | number }[];
  return rows.map((r) => ({ key: r.key, evaluations: Number(r.evaluations) }));
}

/** The inputs (or outputs) of these decision instances, in the order the table has them, still sealed. */
export async function listDecisionValues(db: Db, which: 'inputs' | 'outputs', instanceIds: string[]): Promise<StoredDecisionValue[]> {
  if (!instanceIds.length) return [];
  return db(`history_decision_${which}`).whereIn('decision_instance_id', instanceIds).orderBy('decision_instance_id').orderBy('position');
}

/** A stored value with the process instance its decision ran in (for the re-encryption command). */
export type SealedDecisionValueRef = StoredDecisionValue & { process_instance_id: string | null };

/** Values sealed under a key other than `currentKeyId` (or not sealed), by row id after `after`. */
export async function listDecisionValuesToReseal(
  db: Db, which: 'inputs' | 'outputs', q: { currentKeyId: string; after: string | null; limit: number },
): Promise<SealedDecisionValueRef[]> {
  const b = db(`history_decision_${which} as v`).join('history_decision_instances as h', 'h.id', 'v.decision_instance_id')
    .select('v.*', 'h.process_instance_id')
    .where((w) => w.whereNull('v.key_id').orWhereNot('v.key_id', q.currentKeyId))
    .orderBy('v.id').limit(q.limit);
  if (q.after) b.where('v.id', '>', q.after);
  return b;
}

/** Replaces one value's envelope only if it is still exactly what was read (another run may have rewritten it). */
export async function replaceDecisionValue(
  db: Db, which: 'inputs' | 'outputs', expected: StoredDecisionValue, next: Pick<StoredDecisionValue, 'value' | 'key_id'>,
): Promise<boolean> {
  const b = db(`history_decision_${which}`).where({ id: expected.id }).whereRaw('value = ?::jsonb', [JSON.stringify(expected.value ?? null)]);
  if (expected.key_id == null) b.whereNull('key_id');
  else b.where('key_id', expected.key_id);
  return (await b.update({ value: JSON.stringify(next.value ?? null), key_id: next.key_id })) > 0;
}

import { decisionRefsOf, refKey, type DecisionRef, type Decisions, type LoadedDecision } from '../engine/business-rule-task.ts';
import { DecisionsNotRead, EngineRunError, type EngineRun } from '../engine/runner.ts';
import type { Keyring } from '../crypto/keyring.ts';
import type { Db } from '../store/db.ts';
import type { Variables } from '../types.ts';
import { findDecisionFor, type DecisionDefinitionRow } from '../store/decisions.ts';
import { rootInstances } from '../store/instances.ts';
import { lookupFor, recordEvaluation } from './decisions.ts';

/*
 * Business rule tasks, the server's side. The engine evaluates a decision
 * synchronously inside the run (engine/business-rule-task.ts), so what it
 * may evaluate is read before the run: the decisions every business rule
 * task of the definition names, by its binding, and those of the same
 * deployment its required decisions need. A key given by an expression is
 * known only in the run: the run fails asking for it, and is run again with
 * it read (runs save nothing until they succeed). The history rows of the
 * evaluations are written with the rest of the run, in its transaction
 * (persistRuns), so a crash keeps both or neither.
 */

/** A decision read for a run, with its row for the history. */
interface ReadDecision extends LoadedDecision {
  row: DecisionDefinitionRow;
}

/** Where a definition's tasks look decisions up: Camunda's deployment binding and the caller's tenant. */
export interface DecisionCaller {
  /** The process definition's id. */
  id: string;
  compiled: string;
  deploymentId: string;
  tenantId: string | null;
}

/**
 * Runs of one command that may each meet a decision named by an expression
 * not read before: a run stops at the first, so a process with n such tasks
 * in a row needs n+1 runs. Each run must bring a reference not asked for
 * before, so this only bounds the work of a loop or a multi-instance task
 * naming ever new keys.
 */
const MAX_ROUNDS = 64;

/** Variable names under which the engine keeps its own message parts (see Decisions.shadowed). */
const SHADOWED = ['content', 'fields', 'properties'];

/** The static references of a definition, found once per definition (a definition never changes). */
const staticRefs = new Map<string, DecisionRef[]>();

function refsOf(caller: DecisionCaller): DecisionRef[] {
  let refs = staticRefs.get(caller.id);
  if (!refs) {
    refs = caller.compiled.includes('bpmn:BusinessRuleTask') ? decisionRefsOf(caller.compiled) : [];
    if (staticRefs.size >= 500) staticRefs.delete(staticRefs.keys().next().value!);
    staticRefs.set(caller.id, refs);
  }
  return refs;
}

/** Reads the decisions of the definition's static references and of `more`; undefined when it names none. */
async function decisionsFor(db: Db, caller: DecisionCaller, more: DecisionRef[], variables: Variables): Promise<Decisions | undefined> {
  const refs = [...refsOf(caller), ...more];
  if (!refs.length) return undefined;
  const read = new Map<string, ReadDecision | null>();
  for (const ref of refs) {
    const k = refKey(ref);
    if (read.has(k)) continue;
    const row = ref.key ? await findDecisionFor(db, {
      key: ref.key, tenantId: ref.tenantId ?? caller.tenantId, binding: ref.binding, deploymentId: caller.deploymentId, version: ref.version, versionTag: ref.versionTag,
    }) : undefined;
    read.set(k, row ? { id: row.id, key: row.key, version: row.version, compiled: row.compiled, lookup: await lookupFor(db, row), row } : null);
  }
  const dates = new Set(Object.entries(variables).filter(([, v]) => v.type === 'Date').map(([name]) => name));
  const shadowed = Object.fromEntries(SHADOWED.filter((name) => name in variables).map((name) => [name, variables[name]!.value]));
  return { get: (ref) => read.get(refKey(ref)), dates, shadowed };
}

/**
 * Runs `run` with the decisions its definition's business rule tasks may
 * evaluate; once more with those a run asked for that were not read.
 * `variables` are the instance's typed variables before the run.
 */
export async function withDecisions<T>(
  db: Db, caller: DecisionCaller, variables: Variables, run: (decisions: Decisions | undefined) => Promise<T>,
): Promise<T> {
  const more = new Map<string, DecisionRef>();
  for (let round = 1; ; round++) {
    try {
      return await run(await decisionsFor(db, caller, [...more.values()], variables));
    } catch (err) {
      if (!(err instanceof DecisionsNotRead)) throw err;
      const fresh = err.refs.filter((r) => !more.has(refKey(r)));
      // Nothing new: what it asks for was read and still not found, so another run would fail alike.
      if (!fresh.length) throw err;
      if (round >= MAX_ROUNDS) {
        throw new EngineRunError(`一次运行按表达式引用的决策超过 ${MAX_ROUNDS} 轮读取 / one run met decisions named by expressions in more than ${MAX_ROUNDS} rounds of reading; last: ${fresh[0]!.key}`, err.activityId);
      }
      for (const r of fresh) more.set(refKey(r), r);
    }
  }
}

/** The instance a run belongs to, as a decision's history names it. */
export interface EvaluationOwner {
  instanceId: string;
  definitionId: string;
  definitionKey: string;
}

/** Writes the history of the decisions one run evaluated, in the transaction that saves the run, at the server's `now`. */
export async function recordDecisionEvaluations(trx: Db, owner: EvaluationOwner, run: EngineRun, now: Date, keyring: Keyring): Promise<void> {
  if (!run.evaluatedDecisions.length) return;
  // A called instance's top caller; its row and its callers' are written before its runs (call-activities.ts).
  const root = (await rootInstances(trx, [owner.instanceId])).get(owner.instanceId) ?? owner.instanceId;
  for (const e of run.evaluatedDecisions) {
    const { row } = e.decision as ReadDecision;
    await recordEvaluation(trx, e.evaluation, row, {
      processDefinitionId: owner.definitionId, processDefinitionKey: owner.definitionKey, processInstanceId: owner.instanceId, rootProcessInstanceId: root,
      executionId: e.executionId, activityId: e.activityId,
      activityInstanceId: `${e.activityId}:${e.executionId}`, tenantId: row.tenant_id, evaluationTime: now, keyring,
    });
  }
}

import * as elements from 'bpmn-elements';
import { evaluateDecision, type DecisionEvaluation } from './dmn/evaluate.ts';
import type { JuelEnv } from './expressions.ts';

/*
 * Business rule tasks with `camunda:decisionRef`, the engine's side. As in
 * Camunda 7 the decision is evaluated synchronously when the task runs, and
 * the task completes at once (like a service task whose service answers
 * straight away). The decisions an instance may evaluate are read by the
 * service before the run (services/business-rule-tasks.ts), so evaluating
 * needs no database; what was evaluated comes back with the run, and its
 * history rows are written in the transaction that saves the run.
 */

export type DecisionBinding = 'latest' | 'deployment' | 'version' | 'versionTag';

/** What a task asks for, its expressions resolved: the decision key and which version. */
export interface DecisionRef {
  key: string;
  binding: DecisionBinding;
  version: number | null;
  versionTag: string | null;
  /** `camunda:decisionRefTenantId`; null: the process definition's tenant. */
  tenantId: string | null;
}

/** A decision definition read before the run, with what its required decisions need. */
export interface LoadedDecision {
  id: string;
  key: string;
  version: number;
  compiled: string;
  /** The `compiled` of a decision of the same deployment, for required decisions. */
  lookup: (key: string) => string | undefined;
}

/** The decisions read before a run: null when none is deployed for a ref, undefined when it was not read. */
export interface Decisions {
  get(ref: DecisionRef): LoadedDecision | null | undefined;
  /** Variables stored as Date, which the engine sees as ISO text: a decision gets them as dates, as Camunda passes them. */
  dates?: ReadonlySet<string> | undefined;
  /**
   * Process variables named `content`, `fields` or `properties`: the engine
   * keeps its own message parts under those names in its variables, so a
   * decision gets the process's values from here (Camunda has no such names).
   */
  shadowed?: Readonly<Record<string, unknown>> | undefined;
}

/** One evaluation a run made, for the service to write its history. */
export interface EvaluatedDecisionTask {
  activityId: string;
  executionId: string;
  decision: LoadedDecision;
  evaluation: DecisionEvaluation;
}

/** The run's decisions and what it evaluated, handed to the engine as a service (not part of the saved state). */
export interface DecisionHost {
  decisions: Decisions;
  evaluated: EvaluatedDecisionTask[];
  /** References met in the run that were not read before it (an expression's key): the service reads them and runs again. */
  missing: DecisionRef[];
  /**
   * Fails the whole run, as a failing script does (RunBudget.fail): a task's
   * own failure is an engine exception in Camunda, which no error boundary
   * event catches (only a BpmnError is caught), so it never reaches the engine.
   */
  fail(message: string, activityId: string): void;
}

/** The name under which the engine's environment carries the DecisionHost. */
export const DECISION_HOST = '__decisionHost';

/** The one identity of a reference, for maps of what was read. */
export const refKey = (r: DecisionRef): string => JSON.stringify([r.key, r.binding, r.version, r.versionTag, r.tenantId]);

export const MAPPERS = ['singleEntry', 'singleResult', 'collectEntries', 'resultList'] as const;
export type Mapper = (typeof MAPPERS)[number];

const EXPRESSION = /[$#]\{/;

/** The static references of a definition's business rule tasks (its serialized form), read before every run. */
export function decisionRefsOf(compiled: string): DecisionRef[] {
  const refs: DecisionRef[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, any>;
    if (o.type === 'bpmn:BusinessRuleTask' && typeof o.behaviour?.decisionRef === 'string') {
      const b = o.behaviour;
      const parts = [b.decisionRef, b.decisionRefVersion, b.decisionRefVersionTag, b.decisionRefTenantId].map((x) => (x == null ? '' : String(x)));
      if (!parts.some((p) => EXPRESSION.test(p))) refs.push(refOf(b, (x) => x));
    }
    for (const v of Object.values(o)) if (v && typeof v === 'object') visit(v);
  };
  visit(JSON.parse(compiled));
  return refs;
}

/** The largest version a decision can have (an INTEGER column, Camunda's Integer). */
const MAX_VERSION = 2_147_483_647;

/**
 * A task's reference, each attribute resolved by `resolve` (expressions,
 * Camunda allows them for key, version, tag, tenant). A version that is not
 * an integer 1..2^31-1 fails naming the task `id` (deployment refuses such a
 * constant; an expression can still give one).
 */
function refOf(b: any, resolve: (text: string) => unknown, id = ''): DecisionRef {
  const text = (x: unknown) => (x == null || x === '' ? null : String(resolve(String(x)) ?? ''));
  const binding = (b.decisionRefBinding ?? 'latest') as DecisionBinding;
  const version = binding === 'version' ? text(b.decisionRefVersion) : null;
  if (version != null && !(/^\s*[1-9]\d{0,9}\s*$/.test(version) && Number(version) <= MAX_VERSION)) {
    throw new Error(`业务规则任务 ${id}：camunda:decisionRefVersion 的值 "${version}" 不是 1 到 ${MAX_VERSION} 的整数 / business rule task ${id}: camunda:decisionRefVersion "${version}" is not an integer from 1 to ${MAX_VERSION}`);
  }
  return {
    key: text(b.decisionRef) ?? '',
    binding,
    version: version == null ? null : Number(version),
    versionTag: binding === 'versionTag' ? text(b.decisionRefVersionTag) : null,
    tenantId: text(b.decisionRefTenantId),
  };
}

/** Camunda's decision result mappers (DecisionEvaluationUtil): the value the result variable gets. */
export function mapDecisionResult(mapper: Mapper, resultList: Record<string, unknown>[], taskId: string): unknown {
  const single = () => {
    if (resultList.length > 1) {
      throw new Error(`业务规则任务 ${taskId}：决策结果有 ${resultList.length} 条，${mapper} 只接受一条 / business rule task ${taskId}: the decision result has ${resultList.length} results; ${mapper} expects at most one`);
    }
    return resultList[0] ?? null;
  };
  const onlyEntry = (entries: Record<string, unknown>) => {
    const names = Object.keys(entries);
    if (names.length > 1) {
      throw new Error(`业务规则任务 ${taskId}：决策结果有多个输出（${names.join(', ')}），${mapper} 只接受一个 / business rule task ${taskId}: a decision result has several outputs (${names.join(', ')}); ${mapper} expects one`);
    }
    return names.length ? entries[names[0]!] : null;
  };
  switch (mapper) {
    case 'singleEntry': {
      const result = single();
      return result ? onlyEntry(result) : null;
    }
    case 'singleResult':
      return single();
    case 'collectEntries':
      return resultList.map(onlyEntry);
    case 'resultList':
      return resultList;
  }
}

/**
 * The variables a decision's inputs see, as Camunda's execution has them: the
 * process variables, a multi-instance iteration's loop variables and the
 * task's own input parameters in front.
 */
function inputsOf(environment: any, message: any, decisions: Decisions): Record<string, unknown> {
  const { fields: _f, content: _c, properties: _p, ...rest } = environment?.variables ?? {};
  const own: Record<string, unknown> = { ...rest, ...(decisions.shadowed ?? {}) };
  for (const name of decisions.dates ?? []) {
    const v = own[name];
    if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) own[name] = new Date(v);
  }
  const content = message?.content ?? {};
  const loop = content.isMultiInstance && content.loopVariables && typeof content.loopVariables === 'object' ? content.loopVariables : {};
  return { ...own, ...loop, ...(content.localVariables ?? {}) };
}

/** The service a decision task runs: evaluate, map, set the result variable, complete. */
function DecisionService(this: any, activity: any) {
  this.activity = activity;
}

DecisionService.prototype.execute = function execute(this: any, executeMessage: any, callback: (err: Error | null, output?: unknown) => void) {
  const { activity } = this;
  const { environment } = activity;
  const b = activity.behaviour;
  const id = String(activity.id);
  try {
    const host = environment.services?.[DECISION_HOST] as DecisionHost | undefined;
    if (!host) throw new Error(`业务规则任务 ${id}：本次运行未读取决策 / business rule task ${id}: no decisions were read for this run`);
    const ref = refOf(b, (text) => (EXPRESSION.test(text) ? environment.resolveExpression(text, executeMessage) : text), id);
    const decision = host.decisions.get(ref);
    if (decision === undefined) {
      host.missing.push(ref);
      throw new Error(`业务规则任务 ${id}：决策 ${ref.key} 未在运行前读取 / business rule task ${id}: decision ${ref.key} was not read before the run`);
    }
    if (decision === null) {
      const which = ref.binding === 'latest' ? '' : ` (${ref.binding}${ref.binding === 'version' ? ` ${ref.version}` : ref.binding === 'versionTag' ? ` ${ref.versionTag}` : ''})`;
      throw new Error(`业务规则任务 ${id}：决策 ${ref.key}${which} 未部署 / business rule task ${id}: no decision definition deployed with key '${ref.key}'${which}`);
    }
    let evaluation: DecisionEvaluation;
    try {
      // JUEL in the table sees the run's clock, zone and user, as the diagram's own expressions do.
      const env = (environment.expressions as { env?: JuelEnv } | undefined)?.env;
      evaluation = evaluateDecision(decision.key, decision.lookup, inputsOf(environment, executeMessage, host.decisions), env);
    } catch (err) {
      throw new Error(`业务规则任务 ${id} / business rule task ${id}: ${(err as Error).message}`);
    }
    const mapped = mapDecisionResult((b.mapDecisionResult ?? 'resultList') as Mapper, evaluation.resultList, id);
    host.evaluated.push({ activityId: id, executionId: executeMessage.content.executionId, decision, evaluation });
    // Camunda's execution.setVariable: the nearest scope holding the name. A multi-instance sub-process
    // instance's locals are honoured by its variables (sub-process-instances.ts); a task input parameter of
    // that name is refused at deployment (check-business-rule.ts); else the process variable.
    if (typeof b.resultVariable === 'string' && b.resultVariable) environment.variables[b.resultVariable] = mapped;
    callback(null);
  } catch (err) {
    // Never to the callback: an error boundary event (a catch-all one too) would take it.
    const host = environment.services?.[DECISION_HOST] as DecisionHost | undefined;
    const message = err instanceof Error ? err.message : String(err);
    if (host) host.fail(message, id);
    else callback(err instanceof Error ? err : new Error(message));
  }
};

/** The engine behaviour of a business rule task: a decision task with `camunda:decisionRef`, else `own` (an external task). */
export function decisionAware(own: (def: any, context: any) => unknown) {
  return function BusinessRuleTask(activityDef: any, context: any) {
    if (typeof activityDef.behaviour?.decisionRef !== 'string') return own(activityDef, context);
    return elements.ServiceTask({ ...activityDef, behaviour: { ...activityDef.behaviour, Service: DecisionService } }, context);
  };
}

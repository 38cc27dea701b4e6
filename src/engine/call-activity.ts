import { evaluate, kept, type JuelEnv } from './expressions.ts';

/*
 * Call activities, the engine's side. bpmn-elements announces a call
 * activity with an `activity.call` event and waits until it is signalled; the
 * server starts the called process as an instance of its own
 * (services/call-activities.ts) and, when that ends, signals the call
 * activity with the child's variables. What is read here is Camunda 7's
 * variable passing: `camunda:in` when the call starts, `camunda:out` when
 * the child ends. Forms this server cannot evaluate exactly are refused at
 * deployment (check-call-activity.ts).
 */

/** A variable passed on: copied from `source` (its stored type kept) or computed by `sourceExpression`. */
export interface PassedValue {
  source?: string | undefined;
  value: unknown;
}

export interface CalledProcess {
  activityId: string;
  /** The call activity's execution: the child's link back (its super execution). */
  executionId: string;
  calledElement: string;
  binding: 'latest' | 'deployment' | 'version' | 'versionTag';
  version: number | null;
  versionTag: string | null;
  /** The child's start variables, by name (`camunda:in`). */
  variables: Record<string, PassedValue>;
  /** `camunda:in businessKey="${execution.processBusinessKey}"`: the child gets the caller's business key. */
  passBusinessKey: boolean;
}

/** The uncaught BPMN error an instance ended with (an error end event nothing caught in it). */
export interface ThrownError {
  code: string;
  message: string;
}

/** `${execution.processBusinessKey}` or `#{…}`, the one business key expression run here. */
export const BUSINESS_KEY_EXPRESSION = /^\s*[$#]\{\s*execution\.processBusinessKey\s*\}\s*$/;

const mappings = (behaviour: any, type: 'camunda:In' | 'camunda:Out'): any[] =>
  ((behaviour?.extensionElements?.values ?? []) as any[]).filter((v) => v?.$type === type);

/** Strips a `${…}` / `#{…}` wrapper: Camunda's sourceExpression is one expression. */
function bare(expression: string): string {
  const m = /^\s*[$#]\{([\s\S]*)\}\s*$/.exec(expression);
  return m ? m[1]! : expression;
}

/**
 * Applies `camunda:in` or `camunda:out` mappings over `variables` (the
 * caller's when the call starts, the child's when it ends), in document
 * order as Camunda does: `variables="all"` copies every variable, `source`
 * one, `sourceExpression` computes one. A missing source passes null.
 */
export function passVariables(behaviour: any, type: 'camunda:In' | 'camunda:Out', variables: Record<string, unknown>, env?: JuelEnv): Record<string, PassedValue> {
  const out: Record<string, PassedValue> = {};
  for (const m of mappings(behaviour, type)) {
    if (m.variables === 'all') {
      for (const [name, value] of Object.entries(variables)) out[name] = { source: name, value };
    } else if (typeof m.source === 'string' && m.target) {
      out[m.target] = { source: m.source, value: variables[m.source] ?? null };
    } else if (typeof m.sourceExpression === 'string' && m.target) {
      // The run's clock and user, so now() and currentUser() read what the rest of the run does.
      const expression = bare(m.sourceExpression);
      out[m.target] = { value: kept(evaluate(expression, (name) => variables[name], env), expression) ?? null };
    }
  }
  return out;
}

/** The process variables, without what the engine keeps beside them (its run message: fields, content, properties; see state.ts). */
function ownVariables(variables: Record<string, unknown> | undefined): Record<string, unknown> {
  const { fields: _f, content: _c, properties: _p, ...own } = variables ?? {};
  return own;
}

/** The loop variables of a multi-instance instance (element variable, loopCounter, nrOf*), none otherwise. */
function loopScope(content: any): Record<string, unknown> {
  return content?.isMultiInstance && content.loopVariables && typeof content.loopVariables === 'object' ? content.loopVariables : {};
}

/** What an `activity.call` event asks for, with the caller's variables as they are now. */
export function describeCall(api: any): CalledProcess {
  const behaviour = api.owner?.behaviour ?? {};
  const version = behaviour.calledElementVersion;
  return {
    activityId: api.id,
    executionId: api.executionId,
    calledElement: String(api.content?.calledElement ?? behaviour.calledElement),
    binding: behaviour.calledElementBinding ?? 'latest',
    version: version == null ? null : Number(version),
    versionTag: behaviour.calledElementVersionTag ?? null,
    // An instance of a multi-instance call activity reads its loop variables first (its scope, multi-instance.ts).
    variables: passVariables(behaviour, 'camunda:In', { ...ownVariables(api.environment?.variables), ...loopScope(api.content) }, api.environment?.expressions?.env),
    passBusinessKey: mappings(behaviour, 'camunda:In').some((m) => typeof m.businessKey === 'string'),
  };
}

/**
 * Before a call activity is signalled with its child's final variables: the
 * `camunda:out` mappings are written to the caller's variables, so the call
 * activity's output parameters, listeners and the outgoing flows see them.
 * Returns what was passed, for the server to keep the child's types.
 */
export function applyOut(api: any, childVariables: Record<string, unknown>): Record<string, PassedValue> {
  const passed = passVariables(api.owner?.behaviour, 'camunda:Out', childVariables, api.environment?.expressions?.env);
  const target = api.environment?.variables;
  if (target) for (const [name, p] of Object.entries(passed)) target[name] = p.value;
  return passed;
}

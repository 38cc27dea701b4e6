import type { Method } from './juel-dates.ts';

/*
 * Camunda's `execution` in an expression (DelegateExecution): who the
 * instance is, and its variables, read and written. Writes go where an
 * io-mapping output parameter writes (io-mapping.ts): the engine's process
 * variables, which the run saves with its other effects in one transaction.
 */

/** The instance, as the host passes it to a run (run-parts.ts ExecutionInfo). */
export interface InstanceInfo {
  processInstanceId: string;
  businessKey: string | null;
  processDefinitionId: string;
}

export interface ExecutionScope {
  /** The process variables (the engine's environment.variables): read, and written by setVariable. */
  variables: Record<string, unknown>;
  /** Which of them are of type Date, read as Dates (JuelEnv.dates). */
  dates?: ReadonlySet<string> | undefined;
  /**
   * The element's own variables when it has a scope of its own here: its
   * input parameters (io-mapping.ts) and a multi-instance iteration's
   * variables (multi-instance.ts); undefined otherwise.
   */
  locals: Record<string, unknown> | undefined;
  activityId: string | null;
  executionId: string | null;
}

/** A Date variable's value as expressions see it: its ISO text, as the engine keeps it, read back as a Date. */
export function asDate(value: unknown): unknown {
  if (typeof value !== 'string') return value;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? value : d;
}

/** Thrown for a call Camunda would run but this server cannot run the same way. */
export class UnsupportedCall extends Error {}

export class JuelExecution {
  constructor(readonly info: InstanceInfo, readonly scope: ExecutionScope) {}
  read(name: string): unknown {
    const { locals, variables } = this.scope;
    if (locals && Object.hasOwn(locals, name)) return locals[name];
    return Object.hasOwn(variables, name) ? this.variable(name) : null;
  }
  /** A process variable, a Date one as a Date. */
  variable(name: string): unknown {
    const value = this.scope.variables[name];
    return this.scope.dates?.has(name) ? asDate(value) : value;
  }
  has(name: string): boolean {
    return Boolean(this.scope.locals && Object.hasOwn(this.scope.locals, name)) || Object.hasOwn(this.scope.variables, name);
  }
  toString(): string {
    return `Execution[${this.scope.executionId ?? this.info.processInstanceId}]`;
  }
}

export interface TaskInfo {
  /** The user task's element id (the task definition key). */
  activityId: string;
  /** Its name, resolved when the listener asks (it may hold an expression). */
  name: () => string | null;
  /** The listener's event: create, assignment, complete, … */
  event: string;
  /**
   * The task itself, where this server knows it when the listener runs
   * (a `create` listener's task, resolved and given its id before the
   * listeners run, task-creation.ts; a task row for the listeners fired
   * over REST); a `create` listener may change it (juel-task.ts setters).
   */
  draft?: TaskDraft | undefined;
}

/** A task's own attributes as its listeners see them (Camunda's DelegateTask fields). */
export interface TaskDraft {
  id: string;
  name: string | null;
  description: string | null;
  assignee: string | null;
  owner: string | null;
  priority: number;
  /** ISO 8601, as the engine's messages carry dates. */
  due: string | null;
  /** setAssignee was called (Camunda then fires `assignment` after `create`, even for null). */
  assigneeSet?: boolean;
}

/** Camunda's `task` in a task listener in expression form (juel-task.ts has its methods). */
export class JuelTask {
  constructor(readonly execution: JuelExecution, readonly info: TaskInfo) {}
  toString(): string {
    return `Task[${this.info.activityId}]`;
  }
}

const name = (v: unknown, fail: (why: string) => never): string => (typeof v === 'string' && v ? v : fail('a variable name must be a non-empty string'));
const self = (f: (e: JuelExecution, args: unknown[], fail: (why: string) => never) => unknown) => f as Method['run'];

/** DelegateExecution methods on the allow-list (docs/expressions.md). */
export const EXECUTION_METHODS = new Map<string, Method>([
  ['getVariable', { arity: [1], run: self((e, [n], fail) => e.read(name(n, fail)) ?? null) }],
  // Without a scope of its own, the element runs in the instance's execution, whose locals are the process variables.
  ['getVariableLocal', {
    arity: [1],
    run: self((e, [n], fail) => {
      const key = name(n, fail);
      if (e.scope.locals) return Object.hasOwn(e.scope.locals, key) ? e.scope.locals[key] : null;
      return Object.hasOwn(e.scope.variables, key) ? e.variable(key) : null;
    }),
  }],
  ['hasVariable', { arity: [1], run: self((e, [n], fail) => e.has(name(n, fail))) }],
  ['getVariables', { arity: [0], run: self((e) => ({ ...Object.fromEntries(Object.keys(e.scope.variables).map((k) => [k, e.variable(k)])), ...(e.scope.locals ?? {}) })) }],
  ['setVariable', {
    arity: [2],
    run: self((e, [n, value], fail) => {
      const key = name(n, fail);
      // Camunda would change the element's own variable; this server writes locals from expressions nowhere, so it says so.
      if (e.scope.locals && Object.hasOwn(e.scope.locals, key)) throw new UnsupportedCall(`setVariable('${key}') names a local variable of the element (input parameter or multi-instance variable), which an expression cannot change here`);
      if (value instanceof JuelExecution || value instanceof JuelTask) fail('an execution or a task cannot be stored as a variable');
      e.scope.variables[key] = value === undefined ? null : value;
      return null;
    }),
  }],
  ['getProcessInstanceId', { arity: [0], run: self((e) => e.info.processInstanceId) }],
  ['getProcessBusinessKey', { arity: [0], run: self((e) => e.info.businessKey) }],
  ['getBusinessKey', { arity: [0], run: self((e) => e.info.businessKey) }],
  ['getProcessDefinitionId', { arity: [0], run: self((e) => e.info.processDefinitionId) }],
  ['getActivityId', { arity: [0], run: self((e) => e.scope.activityId) }],
  ['getCurrentActivityId', { arity: [0], run: self((e) => e.scope.activityId) }],
  ['getId', { arity: [0], run: self((e) => e.scope.executionId ?? e.info.processInstanceId) }],
]);

/** Bean properties (`execution.processBusinessKey`) read through the getter of the same name, as JUEL does. */
export function executionProperty(e: JuelExecution, property: string): unknown {
  const getter = EXECUTION_METHODS.get(`get${property.charAt(0).toUpperCase()}${property.slice(1)}`);
  if (!getter || !getter.arity.includes(0)) return undefined;
  return getter.run(e, [], () => undefined as never);
}

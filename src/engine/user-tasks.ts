import { EngineRunError } from './run-error.ts';
import { timeoutListenersOf, type TimeoutListener } from './task-timeouts.ts';
/** A user task the engine is waiting on, with its Camunda attributes resolved. */
export interface WaitingTask {
  /** The task's id when it was decided before its listeners ran (task-creation.ts); else the row's is new. */
  id?: string;
  activityId: string;
  executionId: string;
  name: string | null;
  description: string | null;
  assignee: string | null;
  candidateUsers: string[];
  candidateGroups: string[];
  due: Date | null;
  followUp: Date | null;
  priority: number;
  formKey: string | null;
  /** A Camunda Form's id (camunda:formRef), deployed as a `.form` resource. */
  formRef: string | null;
  /** Its `timeout` listeners, whose timers are armed with it (task-timeouts.ts). */
  timeouts: TimeoutListener[];
}

/**
 * Reads the Camunda attributes of a waiting user task. Expressions such as
 * `${initiator}` or `${dueDate}` are resolved against the process variables
 * at the moment the task is created, as Camunda does.
 */
export function describeWaitingTask(api: any): WaitingTask {
  const b = api.owner?.behaviour ?? {};
  const resolve = resolverFor(api);
  return {
    activityId: api.id,
    executionId: api.executionId,
    // Camunda resolves expressions in a task's name too (`第 ${loopCounter + 1} 位`).
    name: text(resolve(api.name ?? b.name)),
    description: documentationOf(b.documentation),
    assignee: text(resolve(b.assignee)),
    candidateUsers: list(resolve(b.candidateUsers)),
    candidateGroups: list(resolve(b.candidateGroups)),
    due: date(resolve(b.dueDate)),
    followUp: date(resolve(b.followUpDate)),
    priority: priority(resolve(b.priority)),
    formKey: text(resolve(b.formKey)),
    formRef: text(resolve(b.formRef)),
    timeouts: timeoutListenersOf(b),
  };
}

function documentationOf(doc: unknown): string | null {
  if (!doc) return null;
  const parts = Array.isArray(doc) ? doc.map((d: any) => d?.text ?? '') : [String(doc)];
  return parts.join('\n').trim() || null;
}

function text(v: unknown): string | null {
  return v == null || v === '' ? null : String(v);
}

function list(v: unknown): string[] {
  if (v == null || v === '') return [];
  const items = Array.isArray(v) ? v : String(v).split(',');
  return items.map((s) => String(s).trim()).filter(Boolean);
}

function date(v: unknown): Date | null {
  if (v == null || v === '') return null;
  const d = v instanceof Date ? v : new Date(String(v));
  return Number.isNaN(d.getTime()) ? null : d;
}

function priority(v: unknown): number {
  const n = Number(v);
  return v == null || v === '' || !Number.isFinite(n) ? 50 : Math.trunc(n);
}

/** A waiting external task: its topic and priority, expressions resolved. */
export function describeExternalTask(api: any): { activityId: string; executionId: string; topic: string; priority: number } {
  const b = api.owner?.behaviour ?? {};
  const resolve = resolverFor(api);
  const priority = Number(resolve(b.taskPriority));
  return { activityId: api.id, executionId: api.executionId, topic: String(resolve(b.topic) ?? ''), priority: Number.isFinite(priority) ? Math.trunc(priority) : 0 };
}

/**
 * Resolves an attribute's `${...}` against the process variables at this
 * moment. A failing expression fails the command, as in Camunda; a missing
 * variable is null (expressions.ts), so `${initiator}` unset leaves it unset.
 */
function resolverFor(api: any): (value: unknown) => unknown {
  return (value) => {
    if (typeof value !== 'string') return value ?? null;
    try {
      return api.environment.resolveExpression(value, api);
    } catch (err) {
      throw new EngineRunError(`${api.id}: ${(err as Error).message}`, api.id);
    }
  };
}

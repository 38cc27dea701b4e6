import { EXECUTION_METHODS, JuelTask, UnsupportedCall, type TaskDraft } from './juel-context.ts';
import type { Method } from './juel-dates.ts';

/*
 * Camunda's `task` (DelegateTask) in a task listener written as an
 * expression (`camunda:taskListener event="create" expression="${…}"`):
 * who the task is in the diagram, its variables (read and written as
 * `execution` reads and writes them), and, where this server knows the task
 * when the listener runs, its own attributes: a `create` listener sees the
 * task resolved and given its id (task-creation.ts) and may change its
 * assignee, name, description, priority and due date before its row is
 * written, as Camunda 7.12+ does; the listeners fired over REST see its row.
 * Which listener may call what is decided at deployment (methodsOffered).
 */

const self = (f: (t: JuelTask, args: unknown[], fail: (why: string) => never) => unknown) => f as Method['run'];
export { JuelTask };
const viaExecution = (name: string): Method => {
  const m = EXECUTION_METHODS.get(name)!;
  return { arity: m.arity, run: self((t, args, fail) => m.run(t.execution, args, fail)) };
};

/** The task's attributes; a listener that runs where they are not known is refused at deployment, so this is a guard. */
function draftOf(t: JuelTask): TaskDraft {
  if (!t.info.draft) throw new UnsupportedCall(`the task's attributes are not offered to a ${t.info.event} listener here`);
  return t.info.draft;
}

/** A setter: only a `create` listener changes the task (its row is written after it, with what it set). */
const setter = (apply: (d: TaskDraft, value: unknown, fail: (why: string) => never) => void): Method => ({
  arity: [1],
  run: self((t, [value], fail) => {
    if (t.info.event !== 'create') throw new UnsupportedCall(`a ${t.info.event} listener cannot change the task here`);
    apply(draftOf(t), value, fail);
    return null;
  }),
});
const text = (v: unknown, fail: (why: string) => never): string | null => (v == null ? null : typeof v === 'string' ? v : fail('a String argument is expected'));

/** DelegateTask methods on the allow-list (docs/expressions.md). */
export const TASK_METHODS = new Map<string, Method>([
  ['getVariable', viaExecution('getVariable')],
  ['hasVariable', viaExecution('hasVariable')],
  ['getVariables', viaExecution('getVariables')],
  ['setVariable', viaExecution('setVariable')],
  ['getProcessInstanceId', viaExecution('getProcessInstanceId')],
  ['getProcessDefinitionId', viaExecution('getProcessDefinitionId')],
  ['getTaskDefinitionKey', { arity: [0], run: self((t) => t.info.activityId) }],
  ['getName', { arity: [0], run: self((t) => (t.info.draft ? t.info.draft.name : t.info.name())) }],
  ['getEventName', { arity: [0], run: self((t) => t.info.event) }],
  ['getExecution', { arity: [0], run: self((t) => t.execution) }],
  ['getId', { arity: [0], run: self((t) => draftOf(t).id) }],
  ['getAssignee', { arity: [0], run: self((t) => draftOf(t).assignee) }],
  ['getOwner', { arity: [0], run: self((t) => draftOf(t).owner) }],
  ['getDescription', { arity: [0], run: self((t) => draftOf(t).description) }],
  ['getPriority', { arity: [0], run: self((t) => draftOf(t).priority) }],
  ['getDueDate', { arity: [0], run: self((t) => { const due = draftOf(t).due; return due == null ? null : new Date(due); }) }],
  ['setAssignee', setter((d, v, fail) => {
    const assignee = text(v, fail);
    // Camunda records a change (and so fires `assignment` after `create`) unless both are null.
    if (assignee != null || d.assignee != null) d.assigneeSet = true;
    d.assignee = assignee;
  })],
  ['setName', setter((d, v, fail) => { d.name = text(v, fail); })],
  ['setDescription', setter((d, v, fail) => { d.description = text(v, fail); })],
  ['setPriority', setter((d, v, fail) => {
    // Java's int: a whole number in range (JUEL coerces a numeric String too).
    const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v;
    if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > 2 ** 31 - 1) fail('setPriority takes a whole number');
    d.priority = n as number;
  })],
  ['setDueDate', setter((d, v, fail) => {
    if (v != null && !(v instanceof Date)) fail('setDueDate takes a Date (now(), dateTime().….toDate() or a Date variable)');
    d.due = v == null ? null : (v as Date).toISOString();
  })],
]);

const VARIABLES_AND_KEY = ['getVariable', 'hasVariable', 'getVariables', 'setVariable', 'getProcessInstanceId', 'getProcessDefinitionId', 'getTaskDefinitionKey', 'getName', 'getEventName', 'getExecution'];
const ATTRIBUTES = ['getId', 'getAssignee', 'getOwner', 'getDescription', 'getPriority', 'getDueDate'];
const SETTERS = ['setAssignee', 'setName', 'setDescription', 'setPriority', 'setDueDate'];

/**
 * What a task listener on `event` may call on `task`: its variables and key
 * always; its attributes where the task is known when it runs (`create`,
 * after the task is resolved; `assignment`, `update` and `timeout`, which
 * see its row); the setters only in `create`. (`complete` and `delete` run
 * inside an engine run, which does not hold the task's row.)
 */
export function methodsOffered(event: string): ReadonlySet<string> {
  if (event === 'create') return new Set([...VARIABLES_AND_KEY, ...ATTRIBUTES, ...SETTERS]);
  if (event === 'assignment' || event === 'update' || event === 'timeout') return new Set([...VARIABLES_AND_KEY, ...ATTRIBUTES]);
  return new Set(VARIABLES_AND_KEY);
}

/** Bean properties (`task.name`) read through the getter of the same name, as JUEL does. */
export function taskProperty(t: JuelTask, property: string): unknown {
  const getter = TASK_METHODS.get(`get${property.charAt(0).toUpperCase()}${property.slice(1)}`);
  if (!getter || !getter.arity.includes(0)) return undefined;
  return getter.run(t, [], () => undefined as never);
}

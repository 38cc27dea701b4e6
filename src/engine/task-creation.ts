import { randomUUID } from 'node:crypto';
import type { TaskDraft } from './juel-context.ts';
import { describeWaitingTask, type WaitingTask } from './user-tasks.ts';

/*
 * A user task created as Camunda 7.12+ creates it when it has `create` or
 * `assignment` listeners: its attributes (name, description, assignee,
 * candidates, dates, priority, form) are resolved first, over the element's
 * locals as the `start` listeners left them, and it is given its id; then
 * its `create` listeners run and see it whole (and may change its assignee,
 * name, description, priority and due date); then, when it has an assignee
 * (or a create listener set one), its `assignment` listeners. What they left
 * travels with the element's run message (`camundaTask`) to the wait, where
 * the recorder reads it instead of resolving the task again, and its row is
 * written with that id in the run's transaction (persist-runs.ts).
 */

/** The task as the wait announces it: resolved, with its id, dates as ISO text. */
export type CreatedTask = Omit<WaitingTask, 'due' | 'followUp' | 'timeouts'> & { id: string; due: string | null; followUp: string | null };

/** Resolves user task `activity` over `locals` and gives it an id; throws EngineRunError naming it when an attribute fails. */
export function resolveCreatedTask(activity: any, message: any, locals: Record<string, unknown>): { task: CreatedTask; draft: TaskDraft } {
  const api = { id: activity.id, name: activity.name, executionId: message.content?.executionId, owner: activity, environment: activity.environment, content: { ...message.content, localVariables: locals } };
  const { timeouts: _, ...w } = describeWaitingTask(api);
  const task: CreatedTask = { ...w, id: randomUUID(), due: w.due ? w.due.toISOString() : null, followUp: w.followUp ? w.followUp.toISOString() : null };
  const draft: TaskDraft = { id: task.id, name: task.name, description: task.description, assignee: task.assignee, owner: null, priority: task.priority, due: task.due };
  return { task, draft };
}

/** Whether `assignment` listeners fire after `create` (Camunda: an assignee at creation, or one set by a create listener). */
export function assignedOnCreation(initial: string | null, draft: TaskDraft): boolean {
  return initial != null || draft.assigneeSet === true;
}

/** The created task with what its `create` listeners changed. */
export function withDraft(task: CreatedTask, draft: TaskDraft): CreatedTask {
  return { ...task, name: draft.name, description: draft.description, assignee: draft.assignee, priority: draft.priority, due: draft.due };
}

/** The wait's task from what the run message carried (recorder.ts). */
export function waitingFromCreated(created: CreatedTask, timeouts: WaitingTask['timeouts']): WaitingTask & { id: string } {
  return { ...created, due: created.due ? new Date(created.due) : null, followUp: created.followUp ? new Date(created.followUp) : null, timeouts };
}

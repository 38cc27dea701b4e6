import { applyOut, type PassedValue } from './call-activity.ts';
import { EventSubProcessRun } from './event-subprocesses.ts';
import { findPostponed } from './recorder.ts';
import type { RunParts } from './run-parts.ts';
import { findParallelLoop } from './multi-instance.ts';
import { EngineRunError } from './run-error.ts';

/**
 * What a command delivers to the wait it targets: complete it (`signal`, the
 * default), throw a BPMN error from it for a boundary event to catch, a
 * message, a timer that fired (resuming re-registered it), only the caller's
 * variable changes for the conditional events (`conditions`), or the end of a
 * call activity's child with its variables (`call`).
 */
export type SignalAction =
  | { kind: 'signal' } | { kind: 'error'; code: string; message: string } | { kind: 'message'; messageId: string } | { kind: 'timer' } | { kind: 'conditions' }
  | { kind: 'call'; variables: Record<string, unknown> }
  | { kind: 'escalation'; escalationId: string; code: string; boundaryId: string }
  | { kind: 'addInstance'; element: unknown } | { kind: 'removeInstance' };

export interface Delivered {
  /** With the `call` action: what the call activity's `camunda:out` passed back. */
  passedOut: Record<string, PassedValue>;
  /** The wait had already ended when its turn came (a conditional boundary event the caller's variables fired interrupted it). */
  preempted?: boolean;
  /** With `addInstance`: the execution id of the instance added. */
  addedExecutionId?: string;
}

interface Target {
  activityId: string;
  executionId: string;
  action?: SignalAction | undefined;
}

/** Delivers `target.action` within a resumed run; `execution` is the engine's definition execution. */
export function deliver(run: RunParts, execution: any, target: Target): Delivered {
  const { executionId, activityId } = target;
  const action = target.action ?? { kind: 'signal' };
  if (run.recorder.closed.has(executionId)) return { passedOut: {}, preempted: true };
  // Signalled on the waiting element's own broker, not delegated down from the definition: a delegated
  // signal is still being handled by every enclosing scope's api consumer, which then cannot receive what
  // the run throws up to it (an escalation the boundary or event sub-process of a scope must catch). It
  // also reaches the one instance meant when the same task waits in several instances of a multi-instance sub-process.
  const waiting = () => findPostponed(execution.getPostponed(), executionId);
  if (action.kind === 'addInstance' || action.kind === 'removeInstance') {
    return changeSigners(run, waiting(), executionId, action);
  } else if (action.kind === 'conditions') {
    // Nothing more to send: the caller's changes were evaluated before.
  } else if (EventSubProcessRun.isHostWait(executionId)) {
    // A message, signal or timer start of an event sub-process (event-subprocesses.ts).
    run.eventSubProcesses.trigger(run.engine, executionId, (id) => findPostponed(execution.getPostponed(), id));
  } else if (action.kind === 'timer') {
    // Nothing to send: resuming re-registered the timer, and it fired.
  } else if (action.kind === 'signal') {
    const api = waiting();
    if (api) api.signal();
    else execution.signal({ id: activityId, executionId });
  } else if (action.kind === 'message') {
    const api = waiting();
    if (api) api.signal({ id: action.messageId });
    else execution.signal({ id: action.messageId });
  } else if (action.kind === 'call') {
    // The child ended: its variables come back through camunda:out, then the call activity completes.
    const api = waiting();
    const passedOut = api ? applyOut(api, action.variables) : {};
    if (api) api.signal();
    else execution.signal({ id: activityId, executionId });
    return { passedOut };
  } else if (action.kind === 'escalation') {
    // As an escalation throw event escalates (bpmn-elements' EscalationEventDefinition): an event of the task's
    // own, delegated by its process to the escalation catches listening, which match on the bpmn:Escalation's id.
    const api = waiting();
    if (!api) throw new EngineRunError(`任务 ${activityId} 不在等待中 / task ${activityId} is not waiting`, activityId);
    const { escalationId, code } = action;
    api.owner.broker.publish('event', 'activity.escalate', {
      ...api.content, state: 'throw', message: { id: escalationId, type: 'bpmn:Escalation', escalationCode: code, code },
    }, { type: 'escalate', delegate: true });
  } else {
    // SignalTask turns an 'error' API message into an error whose code a boundary error event matches.
    waiting()?.sendApiMessage('error', { message: action.message, code: action.code });
  }
  return { passedOut: {} };
}

/**
 * 加签/减签 on the parallel multi-instance body whose instance `executionId`
 * is (multi-instance.ts): one more instance, or this one discarded and
 * counted out, the completion condition then evaluated as after any instance.
 */
function changeSigners(run: RunParts, api: any, executionId: string, action: { kind: 'addInstance'; element: unknown } | { kind: 'removeInstance' }): Delivered {
  const loop = findParallelLoop(run.engine.environment.services, executionId);
  if (!api || !loop) {
    throw new EngineRunError(`任务不是运行中的并行多实例的一个实例，不能加签或减签 / ${executionId} is not an instance of a running parallel multi-instance activity; signers can only be added to or removed from those`, api?.id ?? null);
  }
  if (action.kind === 'addInstance') return { passedOut: {}, addedExecutionId: loop.addInstance(action.element) };
  loop.markRemoved(executionId);
  api.discard();
  return { passedOut: {} };
}

import type { EngineState } from './state.ts';

/*
 * An execution's local variables, read from and written into a saved engine
 * state (Camunda's `/execution/{id}/localVariables`).
 *
 * They are what the engine keeps with the waiting element: the input
 * parameters (camunda:inputOutput, io-mapping.ts) as `localVariables`, and a
 * multi-instance iteration's element variable and `loopCounter` as
 * `loopVariables` (multi-instance.ts). Camunda keeps `nrOfInstances`,
 * `nrOfActiveInstances` and `nrOfCompletedInstances` on the multi-instance
 * body's execution, not on the iteration's, so they are not listed here.
 *
 * The engine copies an element's run message into several queues of the
 * state (the element's run and execution queues, its process's event queue);
 * every copy of the execution's message carries the same locals, so a write
 * changes them all: whichever copy the engine resumes from, it sees the same.
 */

const BODY_COUNTERS = new Set(['nrOfInstances', 'nrOfActiveInstances', 'nrOfCompletedInstances']);

/** Every message content of the state that belongs to `executionId`. */
function contentsOf(state: EngineState, executionId: string): Record<string, any>[] {
  const found: Record<string, any>[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) {
      for (const item of node) walk(item);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const n = node as Record<string, any>;
    if (n.fields && n.content?.executionId === executionId) found.push(n.content);
    for (const value of Object.values(n)) if (value && typeof value === 'object') walk(value);
  };
  walk(state);
  return found;
}

/** The local variables of a running execution; undefined when the state has no such execution. */
export function readLocals(state: EngineState, executionId: string): Record<string, unknown> | undefined {
  const contents = contentsOf(state, executionId);
  if (!contents.length) return undefined;
  const out: Record<string, unknown> = {};
  for (const c of contents) {
    for (const [name, value] of Object.entries(c.loopVariables ?? {})) if (!BODY_COUNTERS.has(name)) out[name] = value;
    Object.assign(out, c.localVariables ?? {});
  }
  return out;
}

/** Names that are a multi-instance iteration's own (its element variable, loopCounter): the engine counts with them. */
export function loopVariableNames(state: EngineState, executionId: string): Set<string> {
  return new Set(contentsOf(state, executionId).flatMap((c) => Object.keys(c.loopVariables ?? {})));
}

/**
 * Sets and removes local variables of `executionId` in every copy of its
 * message; false when the state has no such execution.
 */
export function writeLocals(state: EngineState, executionId: string, set: Record<string, unknown>, remove: string[]): boolean {
  const contents = contentsOf(state, executionId);
  if (!contents.length) return false;
  for (const c of contents) {
    const locals: Record<string, unknown> = { ...(c.localVariables ?? {}), ...set };
    for (const name of remove) delete locals[name];
    c.localVariables = locals;
  }
  return true;
}

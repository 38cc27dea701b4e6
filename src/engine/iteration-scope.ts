import type { EngineState } from './state.ts';

/** One instance of a multi-instance activity as the saved state holds it (multi-instance.ts, Characteristics.next). */
export interface SavedIteration {
  /** Its loop variables as they were when it started: element variable, loopCounter, nrOf*. */
  variables: Record<string, unknown>;
  /** The execution of its multi-instance body, `<body>_<loopCounter>` being its own. */
  bodyExecutionId: string;
  isSequential: boolean;
  /** Whether the execution asked for is the instance itself, not an element inside it (a multi-instance sub-process). */
  direct: boolean;
}

/**
 * Finds the multi-instance instance `executionId` is, or runs inside (an
 * element of one instance of a multi-instance sub-process), in a saved
 * engine state: the messages of a running instance carry its loop variables
 * (multi-instance.ts), those of an element its parent executions. Undefined
 * when it is neither.
 */
export function savedIteration(state: EngineState | null | undefined, executionId: string): SavedIteration | undefined {
  const messages = messagesOf(state, executionId);
  const own = messages.find((m) => m.isMultiInstance && m.loopVariables && typeof m.loopVariables === 'object');
  if (own) return { variables: { ...own.loopVariables }, bodyExecutionId: String(own.parent?.executionId ?? ''), isSequential: Boolean(own.isSequential), direct: true };
  const parent = messages.find((m) => m.parent?.executionId)?.parent;
  const enclosing: string[] = parent ? [parent.executionId, ...(parent.path ?? []).map((p: any) => p?.executionId)].filter(Boolean) : [];
  for (const id of enclosing) {
    const found = savedIteration(state, id);
    if (found?.direct) return { ...found, direct: false };
  }
  return undefined;
}

/** Every saved message content of `executionId`, outside the environments (which hold variables, not messages). */
function messagesOf(state: unknown, executionId: string): any[] {
  const found: any[] = [];
  const stack: unknown[] = [state];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    const o = node as Record<string, any>;
    if (o.executionId === executionId) found.push(o);
    for (const [key, value] of Object.entries(o)) {
      if (key !== 'environment' && value && typeof value === 'object') stack.push(value);
    }
  }
  return found;
}

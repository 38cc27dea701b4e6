import type { EngineState } from './state.ts';

/** One instance of a multi-instance activity as the saved state holds it (multi-instance.ts, Characteristics.next). */
export interface SavedIteration {
  /** Its loop variables as they were when it started: element variable, loopCounter, nrOf*. */
  variables: Record<string, unknown>;
  /** The execution of its multi-instance body, `<body>_<loopCounter>` being its own. */
  bodyExecutionId: string;
  isSequential: boolean;
}

/**
 * Finds the instance `executionId` in a saved engine state: the messages of
 * a running instance carry its loop variables (multi-instance.ts). Undefined
 * when that execution is not an instance of a multi-instance activity.
 */
export function savedIteration(state: EngineState | null | undefined, executionId: string): SavedIteration | undefined {
  const stack: unknown[] = [state];
  while (stack.length) {
    const node = stack.pop();
    if (!node || typeof node !== 'object') continue;
    if (Array.isArray(node)) {
      stack.push(...node);
      continue;
    }
    const o = node as Record<string, any>;
    if (o.executionId === executionId && o.isMultiInstance && o.loopVariables && typeof o.loopVariables === 'object') {
      return { variables: { ...o.loopVariables }, bodyExecutionId: String(o.parent?.executionId ?? ''), isSequential: Boolean(o.isSequential) };
    }
    for (const [key, value] of Object.entries(o)) {
      if (key !== 'environment' && value && typeof value === 'object') stack.push(value);
    }
  }
  return undefined;
}

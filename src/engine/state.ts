import { INSTANCE_LOCALS } from './sub-process-instances.ts';

/**
 * The engine's saved state, made fit for storage: without the compiled
 * definition (stored once per version) and without process variables (stored
 * typed in their own table, so they can be queried and, later, encrypted).
 */
export type EngineState = Record<string, any>;

/** Removes `definitions[].source` and the named variables from every environment in the state. */
export function slimState(state: EngineState, variableNames: Iterable<string>): EngineState {
  for (const definition of state.definitions ?? []) delete definition.source;
  const names = [...variableNames];
  forEachEnvironment(state, (variables) => {
    for (const name of names) delete variables[name];
  });
  return state;
}

/** Puts the process variables back into every environment of a slim state before recovery. */
export function hydrateState(state: EngineState, variables: Record<string, unknown>): EngineState {
  forEachEnvironment(state, (target) => Object.assign(target, variables));
  return state;
}

/** Variables as the engine's process environment holds them after a run. */
export function processVariables(state: EngineState): Record<string, unknown> {
  const env = state.definitions?.[0]?.execution?.processes?.[0]?.environment ?? state.environment;
  const { fields: _f, content: _c, properties: _p, ...variables } = env?.variables ?? {};
  return variables;
}

/**
 * Calls `fn` with each environment's variables; in the environment of one
 * instance of a multi-instance sub-process, without that instance's own
 * variables, which process variables of the same name must not replace.
 */
function forEachEnvironment(node: unknown, fn: (variables: Record<string, unknown>) => void): void {
  forEachVariables(node, (variables) => {
    const locals = variables[INSTANCE_LOCALS];
    if (!Array.isArray(locals)) return fn(variables);
    const own = Object.fromEntries(locals.map((name) => [name, variables[name]]));
    fn(variables);
    Object.assign(variables, own);
  });
}

function forEachVariables(node: unknown, fn: (variables: Record<string, unknown>) => void): void {
  if (Array.isArray(node)) {
    for (const item of node) forEachVariables(item, fn);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node)) {
    if (key === 'environment' && value && typeof value === 'object' && (value as any).variables) {
      fn((value as any).variables);
    }
    if (key !== 'broker' && value && typeof value === 'object') forEachVariables(value, fn);
  }
}

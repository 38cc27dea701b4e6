/*
 * The elements running in an instance's saved engine state, read from the
 * state itself (a join holding a token, a waiting event, a multi-instance
 * activity as its one element): history rows alone miss what records no open
 * row, and name a multi-instance body `x#multiInstanceBody`.
 */

/** One element running in a saved state. */
export interface RunningElement {
  executionId: string;
  activityId: string;
}

/** Every element running in the state, at any depth (inside sub-processes too). */
export function runningElements(state: unknown): RunningElement[] {
  const found: RunningElement[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, key));
    if (!node || typeof node !== 'object' || key === 'broker' || key === 'environment') return;
    const o = node as Record<string, unknown>;
    const element = elementOf(o);
    if (key === 'children' && element) found.push(element);
    for (const [k, v] of Object.entries(o)) walk(v, k);
  };
  walk(state, '');
  return found;
}

/**
 * The elements running directly in the process scope (a sub-process as
 * itself, not what runs inside it), and the joins there holding tokens
 * while they wait for other branches: what a modification on the process
 * scope can cancel.
 */
export function runningProcessScopeElements(state: unknown): RunningElement[] {
  return processScopeChildren(state).map((c) => elementOf(c) ?? waitingJoinOf(c)).filter((e): e is RunningElement => e != null);
}

/**
 * The joins of the process scope holding tokens while they wait for other
 * branches, with their type as history names it (`parallelGateway`); their
 * execution id is the join's id, which a cancel by activity instance accepts.
 */
export function waitingJoins(state: unknown): (RunningElement & { activityType: string })[] {
  return processScopeChildren(state).flatMap((c) => {
    const join = waitingJoinOf(c);
    return join ? [{ ...join, activityType: String(c.type).replace(/^bpmn:/, '').replace(/^./, (x) => x.toLowerCase()) }] : [];
  });
}

/**
 * Joins holding tokens while they wait for other branches, at any depth
 * (inside sub-processes too): no history row records them, yet their saved
 * tokens are part of the instance (migration must carry them or refuse).
 */
export function waitingJoinsAnywhere(state: unknown): RunningElement[] {
  const found: RunningElement[] = [];
  const walk = (node: unknown, key: string): void => {
    if (Array.isArray(node)) return node.forEach((n) => walk(n, key));
    if (!node || typeof node !== 'object' || key === 'broker' || key === 'environment') return;
    const join = key === 'children' ? waitingJoinOf(node) : undefined;
    if (join) found.push(join);
    for (const [k, v] of Object.entries(node)) walk(v, k);
  };
  walk(state, '');
  return found;
}

function processScopeChildren(state: unknown): any[] {
  const definitions = (state as { definitions?: any[] } | null)?.definitions ?? [];
  return definitions.flatMap((d) => (d?.execution?.processes ?? []) as any[]).flatMap((p) => (p?.execution?.children ?? []) as any[]);
}

/** A join not running yet whose inbound queue holds taken flows (bpmn-elements saves them in the element's broker). */
function waitingJoinOf(o: any): RunningElement | undefined {
  if (o?.status || !/Gateway$/.test(String(o?.type))) return undefined;
  const inbound = (o.broker?.queues ?? []).find((q: any) => q?.name === 'inbound-q');
  return inbound?.messages?.length ? { activityId: String(o.id), executionId: String(o.id) } : undefined;
}

function elementOf(o: Record<string, unknown>): RunningElement | undefined {
  if (typeof o?.id !== 'string' || typeof o.type !== 'string' || !o.status) return undefined;
  return { activityId: o.id, executionId: String(o.executionId ?? o.id) };
}

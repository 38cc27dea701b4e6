import * as elements from 'bpmn-elements';

/*
 * Conditional events as Camunda 7 runs them (issue 14). The engine's own
 * conditional event evaluates its condition when it is reached and again
 * whenever it is signalled; what Camunda adds, this file adds:
 * - a waiting condition is evaluated again only when a variable of the
 *   instance changes, filtered by `camunda:variableName` and
 *   `camunda:variableEvents` (the services tell the run which changed, and
 *   the run itself notices what its scripts changed: see reevaluate);
 * - resuming a saved run is not a change: the engine would evaluate every
 *   waiting condition again on resume, so a resumed one just waits;
 * - a non-interrupting boundary event stays armed after it fires and fires
 *   again at the next matching change while its activity runs;
 * - after an event-based gateway the event first waits, and is evaluated
 *   once the run is quiet (settleConditions), when the gateway has armed all
 *   its events: a condition that holds on arrival wins the race at once, as
 *   in Camunda, and the gateway discards the events armed beside it (the
 *   engine, evaluating on arrival, would pass before the others were armed
 *   and leave them waiting).
 */

export type VariableEvent = 'create' | 'update' | 'delete';
export interface VariableChange {
  name: string;
  event: VariableEvent;
}

/** The engine's ConditionalEventDefinition with Camunda's resume and repeat behaviour. */
export function CamundaConditionalEventDefinition(activity: any, eventDefinition: any, context: any, index: number) {
  const definition = new (elements.ConditionalEventDefinition as any)(activity, eventDefinition, context, index);
  const ownExecute = definition.execute;
  const raced = afterEventGateway(activity, context);
  definition.execute = function execute(this: any, executeMessage: any) {
    // A recovered wait, or a non-interrupting boundary re-armed after it fired: nothing changed yet.
    // (The boundary event restarts with its attached activity's content marked `repeat`.)
    // After an event-based gateway: evaluated by the tracker once its siblings wait too (ConditionTracker.onWait).
    if (raced || executeMessage.fields?.redelivered || executeMessage.content?.inbound?.[0]?.repeat === true) {
      this[Symbol.for('executeMessage')] = executeMessage;
      return this._setup(executeMessage);
    }
    return ownExecute.call(this, executeMessage);
  };
  if (activity.type === 'bpmn:BoundaryEvent' && activity.behaviour?.cancelActivity === false) {
    const ownCallback = definition.evaluateCallback;
    definition.evaluateCallback = function evaluateCallback(this: any, err: unknown, result: unknown) {
      // Re-armed before it completes, as a non-interrupting timer cycle is: the boundary starts again, waiting.
      if (!err && result) {
        const content = this[Symbol.for('executeMessage')].content;
        this.broker.publish('execution', 'execute.repeat', { ...content, repeat: true });
      }
      return ownCallback.call(this, err, result);
    };
  }
  return definition;
}

/** Whether an element's only way in is from an event-based gateway (a race of events). */
function afterEventGateway(activity: any, context: any): boolean {
  const sources = [...(activity.inbound ?? [])].map((flow: any) => context.getActivityById?.(flow.sourceId)?.type);
  return sources.length > 0 && sources.every((type) => type === 'bpmn:EventBasedGateway');
}

/** Whether a waiting element is a conditional event raced by an event-based gateway, to be evaluated once armed. */
function isRaced(api: any): boolean {
  const owner = api.owner;
  return owner?.type === 'bpmn:IntermediateCatchEvent' && afterEventGateway(owner, owner.context);
}

/** What a waiting conditional event listens to: `camunda:variableName` and `camunda:variableEvents`. */
export interface ConditionFilter {
  variableName: string | null;
  variableEvents: VariableEvent[] | null;
}

/** The filter of a waiting element's conditional event definition, or undefined when it has none. */
export function conditionFilterOf(api: any): ConditionFilter | undefined {
  const definitions: any[] = api?.owner?.behaviour?.eventDefinitions ?? [];
  const conditional = definitions.find((d) => d?.type === 'bpmn:ConditionalEventDefinition');
  if (!conditional) return undefined;
  const b = conditional.behaviour ?? {};
  return { variableName: b.variableName ?? null, variableEvents: parseVariableEvents(b.variableEvents) };
}

/** `create, update` → ['create', 'update']; null when absent (every event). */
export function parseVariableEvents(text: unknown): VariableEvent[] | null {
  if (typeof text !== 'string' || !text.trim()) return null;
  return text.split(',').map((s) => s.trim()).filter(Boolean) as VariableEvent[];
}

/** Whether one of `changes` is one the filter listens to. */
export function matchesFilter(filter: ConditionFilter, changes: readonly VariableChange[]): boolean {
  return changes.some((c) => (!filter.variableName || filter.variableName === c.name)
    && (!filter.variableEvents || filter.variableEvents.includes(c.event)));
}

/**
 * The changes between two sets of process variables: a name added is
 * created, one whose value differs is updated, one gone is deleted.
 */
export function diffVariables(before: Record<string, unknown>, after: Record<string, unknown>): VariableChange[] {
  const changes: VariableChange[] = [];
  for (const [name, value] of Object.entries(after)) {
    if (!Object.hasOwn(before, name)) changes.push({ name, event: 'create' });
    else if (JSON.stringify(before[name]) !== JSON.stringify(value)) changes.push({ name, event: 'update' });
  }
  for (const name of Object.keys(before)) if (!Object.hasOwn(after, name)) changes.push({ name, event: 'delete' });
  return changes;
}

/**
 * Signals every waiting conditional event among `apis` (what still runs)
 * whose filter listens to one of `changes`: the engine evaluates its
 * condition on the variables as they are now and, when it holds, the event
 * fires. Returns how many were signalled.
 */
export function signalConditions(apis: any[], changes: readonly VariableChange[]): number {
  if (!changes.length) return 0;
  let signalled = 0;
  for (const api of apis) {
    const filter = conditionFilterOf(api);
    if (!filter || !isWaiting(api) || !matchesFilter(filter, changes)) continue;
    api.signal();
    signalled += 1;
  }
  return signalled;
}

/**
 * A catch or boundary event's own execution (the walk of what runs lists
 * its event definition's execution too; signalling the element reaches it).
 */
function isWaiting(api: any): boolean {
  const type = api.owner?.type;
  return (type === 'bpmn:IntermediateCatchEvent' || type === 'bpmn:BoundaryEvent') && api.executionId === api.owner?.executionId;
}

/** Engine-internal keys of the environment's variables, not process variables. */
const INTERNAL = new Set(['fields', 'content', 'properties']);

/** A JSON copy of the process variables as the run holds them now. */
function snapshot(api: any): Record<string, unknown> {
  const variables = api?.environment?.variables ?? {};
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) if (!INTERNAL.has(name)) out[name] = value;
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

/**
 * Keeps, for every conditional event waiting in one run, the variables as
 * they were when its condition was last evaluated, so that what a run
 * changes (its scripts, output parameters, the variables a task was
 * completed with) moves exactly the waits that listen to it, as Camunda's
 * variable events do, and a wait is never evaluated on a change made
 * before it began to wait.
 */
export class ConditionTracker {
  private readonly seen = new Map<string, Record<string, unknown>>();
  /** Conditional events after an event-based gateway that began to wait in this run, not evaluated yet. */
  private readonly arrived = new Set<string>();

  /** Listens to the run's 'wait' events (the recorder's listener). */
  onWait(api: any): void {
    if (!conditionFilterOf(api) || !isWaiting(api)) return;
    this.seen.set(api.executionId, snapshot(api));
    // A resumed run re-announces its waits: only a fresh arrival is evaluated as one.
    if (isRaced(api) && !api.fields?.redelivered) this.arrived.add(api.executionId);
  }

  /** Signals the waits that listen to `changes` (made by a caller, before anything else in the run). */
  signalChanges(apis: any[], changes: readonly VariableChange[]): number {
    const waiting = apis.filter((api) => isWaiting(api) && conditionFilterOf(api));
    for (const api of waiting) this.seen.set(api.executionId, snapshot(api));
    return signalConditions(waiting, changes);
  }

  /** Signals each wait whose variables changed, as its filter sees them, since it was last evaluated. */
  signalChanged(apis: any[]): number {
    let signalled = 0;
    for (const api of apis) {
      const filter = conditionFilterOf(api);
      if (!filter || !isWaiting(api)) continue;
      if (this.arrived.delete(api.executionId)) {
        // Arrived after an event-based gateway: evaluated now, whatever changed (Camunda's gateway does on entry).
        api.signal();
        signalled += 1;
        continue;
      }
      const now = snapshot(api);
      const changes = diffVariables(this.seen.get(api.executionId) ?? now, now);
      this.seen.set(api.executionId, now);
      if (!matchesFilter(filter, changes)) continue;
      api.signal();
      signalled += 1;
    }
    return signalled;
  }
}

import * as elements from 'bpmn-elements';

/*
 * Compensation as Camunda 7 runs it (docs: "Cancel and Compensation Events").
 *
 * The engine's own compensation (bpmn-elements CompensateEventDefinition)
 * keeps the catch side we need: a compensation boundary event detaches from
 * its activity and collects, in its durable `compensate-q`, every completion
 * of it; sent 'compensate', it takes its association once per completion
 * (the handler runs) and ends. Its throw side differs from Camunda and is
 * replaced here:
 * - the engine's throw broadcasts and goes on at once; Camunda's throw (and
 *   compensation end event) waits until every handler it started has ended
 *   (Camunda 7 always waits: `waitForCompletion="false"` is not supported);
 * - the engine ignores `activityRef`; Camunda compensates only that activity;
 * - the engine invokes handlers in completion order; Camunda invokes them in
 *   reverse order of completion (CompensationUtil sorts the subscriptions by
 *   creation, newest first), all at once, the throw waiting for them all;
 * - the engine also collects an activity that failed (`execute.error`);
 *   Camunda compensates only activities that completed successfully.
 * What the throw waits for lives in its execute message (`compensating`, the
 * handler ids still running), so a saved state resumes the wait: kill -9 safe.
 * What is not run this way (loops, multi-instance, sub-processes as handlers or
 * compensated activities, propagation into sub-processes) is refused at
 * deployment (check-compensation.ts).
 */

const kCompensateQ = Symbol.for('compensateQ');
const kCompleted = Symbol.for('completed');
const kExecuteMessage = Symbol.for('executeMessage');

/** Resolved by the type mapper (serialize.ts) for every compensate event definition. */
export function CamundaCompensateEventDefinition(this: unknown, activity: any, eventDefinition: any, context: any): any {
  if (activity.isThrowing) return new CompensateThrow(activity, eventDefinition, context);
  const catcher = new (elements.CompensateEventDefinition as any)(activity, eventDefinition, context);
  // Looked up on the instance when the catch subscribes, so this replaces the engine's collector.
  catcher._onCollect = (routingKey: string, message: any) => {
    if (routingKey !== 'execute.completed' || !message.content.isRootScope) return;
    const seq = nextCompletionSeq(context, activity.parent?.id);
    catcher[kCompensateQ].queueMessage(message.fields, { ...structuredClone(message.content), compensationSeq: seq }, message.properties);
  };
  // Discarded (its scope ended without compensating it), the engine would also discard its
  // association, a message no handler consumes, so the scope never completes. In Camunda the
  // subscription simply goes.
  catcher._onDiscardApiMessage = () => {
    catcher[kCompleted] = true;
    catcher._stop();
    catcher[kCompensateQ].purge();
    return catcher.broker.publish('execution', 'execute.discard', structuredClone(catcher[kExecuteMessage].content));
  };
  return catcher;
}

/** Compensation boundary events of one scope (a process or an embedded sub-process). */
function compensationBoundaries(context: any, scopeId: string | undefined): any[] {
  return (context.getActivities(scopeId) ?? []).filter((a: any) => a.attachedTo && (a.behaviour?.eventDefinitions ?? [])
    .some((d: any) => d.type === 'bpmn:CompensateEventDefinition'));
}

/** The completions a boundary event collected and has not compensated yet. */
function collected(boundary: any): any[] {
  return boundary.broker.getQueue('compensate-q')?.messages ?? [];
}

/**
 * A completion's place in its scope: one more than any completion still
 * collected there. Ordering needs no clock: every compensable completion of a
 * scope is in one of these queues, saved with the state.
 */
function nextCompletionSeq(context: any, scopeId: string | undefined): number {
  let max = 0;
  for (const b of compensationBoundaries(context, scopeId)) {
    for (const m of collected(b)) max = Math.max(max, Number(m.content?.compensationSeq ?? 0));
  }
  return max + 1;
}

/** The handler activity a boundary event's association points at. */
function handlerOf(context: any, boundary: any): any {
  const [association] = context.getOutboundAssociations(boundary.id);
  return association && context.getActivityById(association.targetId);
}

/** The throw side: an intermediate throw or end event with a compensate event definition. */
class CompensateThrow {
  readonly id: string;
  readonly type: string;
  readonly isThrowing = true;
  readonly reference = { referenceType: 'compensate' };
  protected readonly activityRef: string | undefined;
  protected executeMessage: any;
  private readonly waits = new Map<string, any>();

  constructor(readonly activity: any, eventDefinition: any, protected readonly context: any) {
    this.id = activity.id;
    this.type = eventDefinition.type;
    this.activityRef = eventDefinition.behaviour?.activityRef?.id;
  }

  get broker(): any {
    return this.activity.broker;
  }

  get executionId(): string | undefined {
    return this.executeMessage?.content.executionId;
  }

  execute(executeMessage: any): void {
    this.executeMessage = executeMessage;
    const content = executeMessage.content;
    this.broker.subscribeTmp('api', `activity.*.${content.executionId}`, (_: string, msg: any) => {
      if (msg.properties.type === 'discard' || msg.properties.type === 'stop') this.stopWaiting();
    }, { noAck: true, consumerTag: `_compensate-api-${content.executionId}` });
    if (executeMessage.fields.routingKey === 'execute.compensating') return this.await(content.compensating ?? []);
    const targets = this.targets();
    const pending = targets.map((t) => t.handler.id);
    this.broker.publish('execution', 'execute.compensating', { ...structuredClone(content), compensating: pending });
    this.await(pending);
    // Newest completion first, as Camunda invokes them; each handler starts as its boundary is told.
    for (const { boundary } of targets) {
      boundary.broker.publish('api', `activity.compensate.${boundary.executionId}`, { message: {} }, { type: 'compensate' });
    }
  }

  /** The boundary events to compensate (of `activityRef` only, when given), newest completion first. */
  protected targets(): { boundary: any; handler: any; seq: number }[] {
    return compensationBoundaries(this.context, this.activity.parent?.id)
      .filter((b) => !this.activityRef || b.attachedTo?.id === this.activityRef)
      .map((boundary) => ({ boundary, handler: handlerOf(this.context, boundary), seq: Math.max(0, ...collected(boundary).map((m: any) => Number(m.content?.compensationSeq ?? 0))) }))
      .filter((t) => t.seq > 0 && t.handler && t.boundary.status)
      .sort((a, b) => b.seq - a.seq);
  }

  /** Waits until every handler in `pending` has left; then the event completes. */
  private await(pending: string[]): void {
    const left = new Set(pending);
    const done = () => {
      this.stopWaiting();
      this.complete();
    };
    if (!left.size) return done();
    for (const id of left) {
      const handler = this.context.getActivityById(id);
      const tag = `_compensate-wait-${this.executionId}`;
      this.waits.set(id, handler);
      handler.broker.subscribeTmp('event', 'activity.leave', () => {
        handler.broker.cancel(tag);
        this.waits.delete(id);
        left.delete(id);
        if (!left.size) return done();
        this.broker.publish('execution', 'execute.compensating', { ...structuredClone(this.executeMessage.content), compensating: [...left] });
      }, { noAck: true, consumerTag: tag });
    }
  }

  /** Every handler has ended: the event completes and its path goes on. */
  protected complete(): void {
    this.broker.publish('execution', 'execute.completed', structuredClone(this.executeMessage.content));
  }

  private stopWaiting(): void {
    for (const handler of this.waits.values()) handler.broker.cancel(`_compensate-wait-${this.executionId}`);
    this.waits.clear();
    this.broker.cancel(`_compensate-api-${this.executionId}`);
  }
}

/**
 * Resolved for every cancel event definition. A cancel end event (in a
 * transaction sub-process) runs as Camunda 7's CancelEndEventActivityBehavior:
 * it first compensates the transaction's completed activities, newest first,
 * and waits for their handlers; only then is the transaction cancelled and
 * left by its cancel boundary event. The engine's own cancel would interrupt
 * and compensate at once, in the order the activities started, and go on
 * without waiting. What runs concurrently with the cancel end event is refused
 * (check-compensation.ts), so nothing else of the transaction is running while
 * it compensates. The catch side (the cancel boundary event) is the engine's.
 */
export function CamundaCancelEventDefinition(this: unknown, activity: any, eventDefinition: any, context: any): any {
  const engine = new (elements.CancelEventDefinition as any)(activity, eventDefinition, context);
  return activity.isThrowing ? new CancelThrow(activity, eventDefinition, context, engine) : engine;
}

class CancelThrow extends CompensateThrow {
  constructor(activity: any, eventDefinition: any, context: any, private readonly engine: any) {
    super(activity, { ...eventDefinition, behaviour: {} }, context);
  }

  /** Compensation is done: the boundary events with nothing to compensate leave unseen, then the engine cancels the transaction. */
  protected override complete(): void {
    for (const boundary of compensationBoundaries(this.context, this.activity.parent?.id)) {
      if (boundary.status && !collected(boundary).length) boundary.getApi().discard();
    }
    this.engine.executeThrow(this.executeMessage);
  }
}

/**
 * A compensation boundary event, which the engine starts with its activity.
 * In Camunda it is no running element until compensation triggers it (its
 * event subscription is made when the activity completes), so the recorder
 * writes its history only then, started and ended at once.
 */
export function isCompensationBoundary(api: any): boolean {
  // The end event's message carries the event definition's type; the element's is the owner's.
  return api?.owner?.type === 'bpmn:BoundaryEvent' && (api.owner.behaviour?.eventDefinitions ?? []).some((d: any) => d.type === 'bpmn:CompensateEventDefinition');
}

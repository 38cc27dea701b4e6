import { Characteristics, type Message } from './multi-instance-loop.ts';

/** The engine service holding the run's parallel multi-instance bodies by execution id, for 加签/减签 (signers.ts). */
const PARALLEL_LOOPS = 'camunda:parallelLoops';

/** A running parallel multi-instance body, as 加签/减签 change it. */
export interface ParallelLoop {
  readonly activityId: string;
  readonly bodyExecutionId: string;
  readonly elementVariable: string | undefined;
  /** Starts one more instance whose element variable is `element`; returns its execution id. */
  addInstance(element: unknown): string;
  /** Marks `executionId`'s instance as removed: discarding it then counts it out (not completed). */
  markRemoved(executionId: string): void;
}

/** The running parallel multi-instance body that `iterationExecutionId` is an instance of, if any. */
export function findParallelLoop(services: Record<string, unknown>, iterationExecutionId: string): ParallelLoop | undefined {
  const loops = services[PARALLEL_LOOPS] as Map<string, ParallelLoop> | undefined;
  for (const [body, loop] of loops ?? []) {
    if (iterationExecutionId.startsWith(`${body}_`) && /^\d+$/.test(iterationExecutionId.slice(body.length + 1))) return loop;
  }
  return undefined;
}

/*
 * Multi-instance (会签) as Camunda 7 runs it, in place of bpmn-elements'
 * LoopCharacteristics (17.3, MIT), from which this is adapted. The engine's
 * own gives an iteration its element variable only as a field of its message
 * and counts nothing a diagram can read, so `camunda:assignee="${reviewer}"`
 * resolved to nothing and `${nrOfCompletedInstances >= 2}` never held. Here:
 *
 * - every iteration carries `loopVariables`, its own scope in Camunda's terms
 *   (the element variable, `loopCounter`, `nrOfInstances`,
 *   `nrOfActiveInstances`, `nrOfCompletedInstances`); expressions read it
 *   before the process variables (expressions.ts, contextScope), as Camunda
 *   reads an execution's local variables first;
 * - the completion condition is evaluated after an iteration ends, with the
 *   counters already moved (Camunda: completed + 1, active - 1 in parallel);
 * - `camunda:collection` may be an expression or a plain variable name, and
 *   must yield a list: anything else fails the run naming the element,
 *   rather than looping over the characters of a string;
 * - the element's output parameters (camunda:inputOutput) belong to the
 *   inner activity, as in Camunda: they are resolved in the scope of each
 *   instance that completes (not of one cancelled), before the completion
 *   condition, so `${approveCount + 1}` counts one vote per instance and the
 *   condition reads the new count (camunda-extension.ts leaves the body's end
 *   alone).
 *
 * The counters live in the messages the engine saves (`index`, `running`,
 * `discarded` on the parallel batch; the iteration index in sequence), so
 * they survive a restart between two completions like the rest of the state.
 */

export function CamundaLoopCharacteristics(this: any, activity: any, loopCharacteristics: any) {
  this.activity = activity;
  this.loopCharacteristics = loopCharacteristics;
  const { type = 'LoopCharacteristics', behaviour = {} } = loopCharacteristics;
  this.type = type;
  this.isSequential = behaviour.isSequential ?? false;
  this.collection = behaviour.collection;
  this.loopCardinality = behaviour.loopCardinality;
  this.characteristics = null;
}

CamundaLoopCharacteristics.prototype.execute = function execute(executeMessage: Message) {
  if (!executeMessage) throw new TypeError('LoopCharacteristics execution requires message');
  const chr: Characteristics = (this.characteristics ??= new Characteristics(this.activity, this.loopCharacteristics, executeMessage));
  if (chr.cardinality === 0) return chr.complete(executeMessage.content);
  const execution = this.isSequential ? new Sequential(this.activity, chr) : new Parallel(this.activity, chr);
  return execution.execute(executeMessage);
};

class Sequential {
  constructor(private readonly activity: any, private readonly chr: Characteristics) {}

  execute(executeMessage: Message) {
    const { routingKey, redelivered } = executeMessage.fields ?? {};
    const startIndex = redelivered && routingKey === 'execute.iteration.next' ? executeMessage.content.index : 0;
    this.chr.subscribe((routingKey, message) => this.onComplete(routingKey, message));
    return this.startNext(startIndex, redelivered);
  }

  private startNext(index: number, ignoreIfExecuting?: boolean) {
    const chr = this.chr;
    // In sequence one instance is active at a time, and those before it completed.
    const content = chr.next(index, { active: 1, completed: index });
    if (!content) return;
    const broker = this.activity.broker;
    broker.publish('execution', 'execute.iteration.next', {
      ...content, ...chr.getContent(), index, preventComplete: true, output: chr.output.slice(), state: 'iteration.next',
    });
    broker.publish('execution', 'execute.start', { ...content, ignoreIfExecuting });
    chr.announce('start', content);
    return content;
  }

  private onComplete(routingKey: string, message: Message) {
    const { content } = message;
    const chr = this.chr;
    if (content.output !== undefined) chr.output[content.index] = content.output;
    chr.outputs(message, { active: 1, completed: content.index });
    chr.announce(routingKey === 'execute.completed' ? 'end' : 'cancel', content);
    this.activity.broker.publish('execution', 'execute.iteration.completed', {
      ...content, ...chr.getContent(), preventComplete: true, output: chr.output.slice(), state: 'iteration.completed',
    });
    if (!chr.isCompletionConditionMet(message, { active: 1, completed: content.index + 1 })) {
      if (this.startNext(content.index + 1)) return;
    }
    return chr.complete(content);
  }
}

class Parallel implements ParallelLoop {
  private running = 0;
  private index = 0;
  private discarded = 0;
  private removing: string | null = null;

  constructor(private readonly activity: any, private readonly chr: Characteristics) {}

  get activityId(): string {
    return this.chr.id;
  }

  get bodyExecutionId(): string {
    return this.chr.parentExecutionId;
  }

  get elementVariable(): string | undefined {
    return this.chr.elementVariable;
  }

  private register(on: boolean): void {
    const services = this.activity.environment.services;
    const loops: Map<string, ParallelLoop> = (services[PARALLEL_LOOPS] ??= new Map());
    if (on) loops.set(this.chr.parentExecutionId, this);
    else loops.delete(this.chr.parentExecutionId);
  }

  /** Counts the instances that are neither running nor removed as completed (Camunda's nrOfCompletedInstances). */
  private counts(active = this.running) {
    return { active, completed: this.index - this.running - this.chr.removed };
  }

  private publishBatch(): void {
    this.activity.broker.publish('execution', 'execute.iteration.batch', {
      ...this.chr.getContent(), index: this.index, running: this.running, discarded: this.discarded, output: this.chr.output, preventComplete: true,
    });
  }

  addInstance(element: unknown): string {
    const chr = this.chr;
    chr.addElement(element);
    const content = chr.next(this.index, this.counts(this.running + 1));
    this.running++;
    this.index++;
    this.publishBatch();
    this.activity.broker.publish('execution', 'execute.start', content);
    chr.announce('start', content);
    return content.executionId;
  }

  markRemoved(executionId: string): void {
    this.removing = executionId;
  }

  execute(executeMessage: Message) {
    const redelivered = executeMessage.fields?.redelivered;
    if (redelivered) {
      const { index, running, discarded } = executeMessage.content;
      if (!Number.isNaN(Number(index))) this.index = Number(index);
      if (!Number.isNaN(Number(running))) this.running = Number(running);
      if (!Number.isNaN(Number(discarded))) this.discarded = Number(discarded);
    }
    this.chr.subscribe((routingKey, message) => this.onComplete(routingKey, message));
    this.register(true);
    if (redelivered) return;
    return this.startBatch();
  }

  private startBatch() {
    const chr = this.chr;
    const first = this.index;
    const last = Math.min(chr.cardinality, first + chr.batchSize);
    // Camunda starts every instance at once: each sees all of them active.
    const counts = this.counts(this.running + (last - first));
    const batch: any[] = [];
    for (let i = first; i < last; i++) {
      const content = chr.next(i, counts);
      if (!content) break;
      batch.push(content);
    }
    this.running += batch.length;
    this.index += batch.length;
    const broker = this.activity.broker;
    this.publishBatch();
    for (const content of batch) {
      broker.publish('execution', 'execute.start', content);
      chr.announce('start', content);
    }
  }

  private onComplete(routingKey: string, message: Message) {
    const chr = this.chr;
    const { content } = message;
    if (content.output !== undefined) chr.output[content.index] = content.output;
    if (routingKey === 'execute.discard' && content.executionId === this.removing) {
      // 减签: the instance leaves the count (nrOfInstances - 1), it does not complete.
      chr.removed++;
      this.removing = null;
    } else if (routingKey === 'execute.discard') this.discarded++;
    else if (routingKey === 'execute.completed') chr.outputs(message, this.counts());
    this.running--;
    chr.announce(routingKey === 'execute.completed' ? 'end' : 'cancel', content);
    this.activity.broker.publish('execution', 'execute.iteration.completed', {
      ...content, ...chr.getContent(), index: this.index, running: this.running, discarded: this.discarded,
      output: chr.output, state: 'iteration.completed', preventComplete: true,
    });
    const allDiscarded = this.discarded + chr.removed === this.index;
    if (this.running <= 0 && this.index >= chr.cardinality) return this.complete(content, allDiscarded);
    if (chr.isCompletionConditionMet(message, this.counts())) return this.complete(content, allDiscarded);
    if (this.running <= 0) {
      this.running = 0;
      this.startBatch();
    }
  }

  private complete(content: any, allDiscarded: boolean) {
    this.register(false);
    return this.chr.complete(content, allDiscarded);
  }
}

/**
 * How `activityId` of a compiled definition loops, read from the serialized
 * form the engine runs: null when it is not multi-instance. The services ask
 * before 加签/减签, which only a parallel multi-instance over a collection takes.
 */
export function describeLoop(compiled: string, activityId: string): { isSequential: boolean; hasCollection: boolean } | null {
  let found: any = null;
  const walk = (node: any): void => {
    if (found || node == null || typeof node !== 'object') return;
    if (node.id === activityId && node.behaviour?.loopCharacteristics) {
      found = node.behaviour.loopCharacteristics;
      return;
    }
    for (const value of Object.values(node)) walk(value);
  };
  walk(JSON.parse(compiled));
  if (!found || found.type !== 'bpmn:MultiInstanceLoopCharacteristics') return null;
  const behaviour = found.behaviour ?? {};
  return { isSequential: !!behaviour.isSequential, hasCollection: !!behaviour.collection };
}

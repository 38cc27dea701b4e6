import * as elements from 'bpmn-elements';
import { ioMappingOf, type IoMapping } from './io-mapping.ts';

// The engine's own error for a failed run (not in its type declarations): the run fails naming the element.
const RunError: new (message: string, source: unknown) => Error = (elements as any).RunError;

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

interface Message { fields?: any; content: any; properties?: any }

/**
 * The engine service through which instances are announced to the run's
 * recorder: services are shared by every environment of a run, also those
 * recovered before the engine's listener is set on resume.
 */
const ITERATION_EVENTS = 'camunda:multiInstanceIterations';

/** Lets `listener` hear each instance begin and end (`iteration.start`, `iteration.end`, `iteration.cancel`). */
export function announceIterationsTo(engine: { environment: { services: Record<string, unknown> } }, listener: { emit(event: string, api: unknown): unknown }): void {
  engine.environment.services[ITERATION_EVENTS] = listener;
}

function cloneContent(content: any, extend?: any): any {
  const clone = { ...content, ...extend };
  if (content.parent) clone.parent = cloneParent(content.parent);
  return clone;
}

function cloneParent(parent: any): any {
  const clone = { ...parent };
  if (parent.path) clone.path = parent.path.map((p: any) => ({ ...p }));
  return clone;
}

function unshiftParent(parent: any, adopting: any): any {
  const { id, type, executionId } = adopting;
  if (!parent) return { id, type, executionId };
  const clone = cloneParent(parent);
  clone.id = id;
  clone.type = type;
  clone.executionId = executionId;
  clone.path = [{ id: parent.id, type: parent.type, executionId: parent.executionId }, ...(parent.path ?? []).map((p: any) => ({ ...p }))];
  return clone;
}

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

class Parallel {
  private running = 0;
  private index = 0;
  private discarded = 0;

  constructor(private readonly activity: any, private readonly chr: Characteristics) {}

  execute(executeMessage: Message) {
    const redelivered = executeMessage.fields?.redelivered;
    if (redelivered) {
      const { index, running, discarded } = executeMessage.content;
      if (!Number.isNaN(Number(index))) this.index = Number(index);
      if (!Number.isNaN(Number(running))) this.running = Number(running);
      if (!Number.isNaN(Number(discarded))) this.discarded = Number(discarded);
    }
    this.chr.subscribe((routingKey, message) => this.onComplete(routingKey, message));
    if (redelivered) return;
    return this.startBatch();
  }

  private startBatch() {
    const chr = this.chr;
    const first = this.index;
    const last = Math.min(chr.cardinality, first + chr.batchSize);
    // Camunda starts every instance at once: each sees all of them active.
    const counts = { active: this.running + (last - first), completed: this.index - this.running };
    const batch: any[] = [];
    for (let i = first; i < last; i++) {
      const content = chr.next(i, counts);
      if (!content) break;
      batch.push(content);
    }
    this.running += batch.length;
    this.index += batch.length;
    const broker = this.activity.broker;
    broker.publish('execution', 'execute.iteration.batch', {
      ...chr.getContent(), index: this.index, running: this.running, discarded: this.discarded, output: chr.output, preventComplete: true,
    });
    for (const content of batch) {
      broker.publish('execution', 'execute.start', content);
      chr.announce('start', content);
    }
  }

  private onComplete(routingKey: string, message: Message) {
    const chr = this.chr;
    const { content } = message;
    if (content.output !== undefined) chr.output[content.index] = content.output;
    if (routingKey === 'execute.discard') this.discarded++;
    else if (routingKey === 'execute.completed') chr.outputs(message, { active: this.running, completed: this.index - this.running });
    this.running--;
    chr.announce(routingKey === 'execute.completed' ? 'end' : 'cancel', content);
    this.activity.broker.publish('execution', 'execute.iteration.completed', {
      ...content, ...chr.getContent(), index: this.index, running: this.running, discarded: this.discarded,
      output: chr.output, state: 'iteration.completed', preventComplete: true,
    });
    const allDiscarded = this.discarded === this.index;
    if (this.running <= 0 && this.index >= chr.cardinality) return chr.complete(content, allDiscarded);
    if (chr.isCompletionConditionMet(message, { active: this.running, completed: this.index - this.running })) return chr.complete(content, allDiscarded);
    if (this.running <= 0) {
      this.running = 0;
      this.startBatch();
    }
  }
}

class Characteristics {
  readonly id: string;
  readonly broker: any;
  readonly parentExecutionId: string;
  readonly isSequential: boolean;
  readonly output: unknown[];
  readonly parent: any;
  readonly completionCondition: string | undefined;
  readonly collection: unknown[] | undefined;
  readonly elementVariable: string | undefined;
  readonly cardinality: number;
  readonly batchSize: number;
  private readonly io: IoMapping | undefined;

  constructor(private readonly activity: any, loopCharacteristics: any, private readonly message: Message) {
    const behaviour = loopCharacteristics.behaviour ?? {};
    this.id = activity.id;
    this.broker = activity.broker;
    this.parentExecutionId = message.content.executionId;
    this.isSequential = behaviour.isSequential ?? false;
    this.output = message.content.output ?? [];
    this.parent = unshiftParent(message.content.parent, message.content);
    this.completionCondition = behaviour.completionCondition || undefined;
    this.collection = this.readCollection(behaviour.collection);
    // Camunda's default element variable is none; the engine's `item` keeps older diagrams running.
    if (this.collection) this.elementVariable = behaviour.elementVariable || 'item';
    this.cardinality = this.readCardinality(behaviour.loopCardinality);
    this.batchSize = activity.environment.settings.batchSize || 50;
    this.io = ioMappingOf(activity);
  }

  private fail(text: string): never {
    throw new RunError(`<${this.id}> ${text}`, this.message);
  }

  /** A list: from `${expr}`, or the variable of that name when the attribute is a bare name (Camunda accepts both). */
  private readCollection(expression: unknown): unknown[] | undefined {
    if (expression == null || expression === '') return undefined;
    const env = this.activity.environment;
    const text = String(expression).trim();
    const value = env.expressions.hasExpression(text) ? env.resolveExpression(text, this.message) : env.variables?.[text];
    if (Array.isArray(value)) return value;
    return this.fail(`多实例集合 ${text} 不是列表 / multi-instance collection ${text} is not a list (got ${value === undefined ? 'nothing' : typeof value})`);
  }

  private readCardinality(expression: unknown): number {
    if (expression == null || expression === '') {
      if (this.collection) return this.collection.length;
      return this.fail('多实例需要 collection 或 loopCardinality / multi-instance needs a collection or a loopCardinality');
    }
    const value = this.activity.environment.resolveExpression(expression, this.message);
    const n = Number(value);
    if (value === undefined || value === null || value === '' || !Number.isInteger(n) || n < 0) {
      return this.fail(`多实例数量无效 / invalid loopCardinality ${JSON.stringify(value) ?? String(value)}: a whole number of at least 0 is needed`);
    }
    return this.collection ? Math.min(n, this.collection.length) : n;
  }

  getContent() {
    return { ...cloneContent(this.message.content), loopCardinality: this.cardinality, isSequential: this.isSequential, output: undefined };
  }

  /** Camunda's variables of one instance, with the counters as they stand. */
  private loopVariables(index: number, counts: { active: number; completed: number }): Record<string, unknown> {
    return {
      ...(this.collection ? { [this.elementVariable!]: this.collection[index] } : {}),
      loopCounter: index,
      nrOfInstances: this.cardinality,
      nrOfActiveInstances: counts.active,
      nrOfCompletedInstances: counts.completed,
    };
  }

  next(index: number, counts: { active: number; completed: number }): any {
    if (index >= this.cardinality) return undefined;
    const content: any = {
      ...this.getContent(), isRootScope: undefined, executionId: `${this.parentExecutionId}_${index}`, isMultiInstance: true,
      parent: cloneParent(this.parent), index, loopVariables: this.loopVariables(index, counts),
    };
    if (this.collection) content[this.elementVariable!] = this.collection[index];
    return content;
  }

  /** The output parameters of an instance that completed, in its scope with the counters before it counts. */
  outputs(message: Message, counts: { active: number; completed: number }): void {
    if (!this.io) return;
    const index = Number(message.content.index);
    this.io.outputs({ ...message, content: cloneContent(message.content, { loopVariables: this.loopVariables(index, counts) }) });
  }

  isCompletionConditionMet(message: Message, counts: { active: number; completed: number }): boolean {
    if (!this.completionCondition) return false;
    const index = Number(message.content.index);
    const context = { ...message, content: cloneContent(message.content, { loopOutput: this.output, loopVariables: this.loopVariables(index, counts) }) };
    const result = this.activity.environment.resolveExpression(this.completionCondition, context);
    return result === true || (typeof result === 'string' && result.toLowerCase() === 'true');
  }

  /**
   * Tells the run's recorder that one instance began or ended, for its
   * history row: the engine announces neither, and an instance that does not
   * wait (a script task's, a sub-process's) would otherwise leave no row.
   */
  announce(kind: 'start' | 'end' | 'cancel', content: any): void {
    const listener = this.activity.environment.services?.[ITERATION_EVENTS];
    listener?.emit(`iteration.${kind}`, { id: this.id, name: this.activity.name, type: this.activity.type, executionId: content.executionId, content });
  }

  complete(content: any, allDiscarded = false) {
    this.stop();
    return this.broker.publish('execution', `execute.${allDiscarded ? 'discard' : 'completed'}`, { ...content, ...this.getContent(), output: this.output });
  }

  subscribe(onIterationComplete: (routingKey: string, message: Message) => void) {
    this.broker.subscribeTmp('api', `activity.*.${this.parentExecutionId}`, (_: string, message: Message) => {
      if (message.properties?.type === 'stop' || message.properties?.type === 'discard') this.stop();
    }, { noAck: true, consumerTag: '_api-multi-instance-tag' }, { priority: 400 });
    this.broker.subscribeTmp('execution', 'execute.*', (routingKey: string, message: Message) => {
      if (!message.content.isMultiInstance) return;
      if (routingKey === 'execute.discard' || routingKey === 'execute.cancel' || routingKey === 'execute.completed') onIterationComplete(routingKey, message);
    }, { noAck: true, consumerTag: '_execute-q-multi-instance-tag', priority: 300 });
  }

  stop() {
    this.broker.cancel('_execute-q-multi-instance-tag');
    this.broker.cancel('_api-multi-instance-tag');
  }
}

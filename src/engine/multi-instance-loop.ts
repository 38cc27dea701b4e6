import * as elements from 'bpmn-elements';
import { ioMappingOf, type IoMapping } from './io-mapping.ts';

// The engine's own error for a failed run (not in its type declarations): the run fails naming the element.
const RunError: new (message: string, source: unknown) => Error = (elements as any).RunError;

/*
 * What one multi-instance activity knows and decides (multi-instance.ts runs
 * its instances in sequence or in parallel): its list and count, each
 * instance's loop variables, the output parameters and completion condition
 * read in an instance's scope, and the announcements of instances to the
 * run's recorder.
 */

export interface Message { fields?: any; content: any; properties?: any }

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

export class Characteristics {
  readonly id: string;
  readonly broker: any;
  readonly parentExecutionId: string;
  readonly isSequential: boolean;
  readonly output: unknown[];
  readonly parent: any;
  readonly completionCondition: string | undefined;
  readonly collection: unknown[] | undefined;
  readonly elementVariable: string | undefined;
  /** The instances to run: the collection's (or loopCardinality's), then the signers added since (signers.ts). */
  cardinality: number;
  /**
   * 加签: element values of instances added while it ran, after the
   * collection's; the collection variable itself is left as it was, as
   * Flowable's addMultiInstanceExecution and Camunda's startBeforeActivity
   * on the inner activity leave it. Saved in the body's messages.
   */
  readonly added: unknown[];
  /** 减签: instances removed unfinished; they count neither in nrOfInstances nor as completed. */
  removed: number;
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
    this.added = Array.isArray(message.content.addedElements) ? [...message.content.addedElements] : [];
    this.removed = Number(message.content.removedInstances) || 0;
    this.cardinality = this.readCardinality(behaviour.loopCardinality) + this.added.length;
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
    return {
      ...cloneContent(this.message.content), loopCardinality: this.cardinality, isSequential: this.isSequential, output: undefined,
      addedElements: this.added.slice(), removedInstances: this.removed,
    };
  }

  /** The element value of instance `index`: the collection's, then the added signers'. */
  private elementAt(index: number): unknown {
    const base = this.cardinality - this.added.length;
    return index < base ? this.collection?.[index] : this.added[index - base];
  }

  /** Appends one instance for `element` (加签); the caller starts it. */
  addElement(element: unknown): void {
    this.added.push(element);
    this.cardinality++;
  }

  /** Camunda's variables of one instance, with the counters as they stand. */
  private loopVariables(index: number, counts: { active: number; completed: number }): Record<string, unknown> {
    return {
      ...(this.collection ? { [this.elementVariable!]: this.elementAt(index) } : {}),
      loopCounter: index,
      nrOfInstances: this.cardinality - this.removed,
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
    if (this.collection) content[this.elementVariable!] = this.elementAt(index);
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

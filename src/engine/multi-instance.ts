import { Characteristics, type Message } from './multi-instance-loop.ts';

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

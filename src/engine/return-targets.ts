import { deserialize } from 'moddle-context-serializer';
import { typeResolver } from './serialize.ts';

/** Gateways whose outgoing flows run side by side: going back past one leaves the branch. */
const BRANCHING = /^bpmn:(ParallelGateway|InclusiveGateway|ComplexGateway|EventBasedGateway)$/;

/**
 * 退回 (send back): the user tasks of the process scope a task may send its
 * instance back to, by the diagram alone: those reachable walking backwards
 * along sequence flows from `fromActivityId` without passing a parallel,
 * inclusive, complex or event-based gateway (so, inside parallel branches,
 * only within the same branch), and not multi-instance. The service keeps
 * those the instance has completed.
 */
export function returnableActivities(compiled: string, fromActivityId: string): Set<string> {
  const context = deserialize(JSON.parse(compiled), typeResolver);
  const processId = context.getExecutableProcesses()[0]?.id;
  const found = new Set<string>();
  const seen = new Set([fromActivityId]);
  const queue = [fromActivityId];
  while (queue.length) {
    const id = queue.shift()!;
    for (const flow of context.getInboundSequenceFlows(id) as unknown as { sourceId: string }[]) {
      const source = context.getActivityById(flow.sourceId) as any;
      if (!source || seen.has(source.id)) continue;
      seen.add(source.id);
      if (source.parent?.id !== processId || BRANCHING.test(source.type)) continue;
      if (source.type === 'bpmn:UserTask' && !source.behaviour?.loopCharacteristics) found.add(source.id);
      queue.push(source.id);
    }
  }
  return found;
}

/** Whether the element is a multi-instance activity (send back from one of its instances is refused). */
export function isMultiInstance(compiled: string, activityId: string): boolean {
  const context = deserialize(JSON.parse(compiled), typeResolver);
  return Boolean((context.getActivityById(activityId) as any)?.behaviour?.loopCharacteristics);
}

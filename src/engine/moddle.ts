import { createRequire } from 'node:module';
import { BpmnModdle } from 'bpmn-moddle';

const require = createRequire(import.meta.url);
/** Camunda's moddle descriptor: Camunda Modeler writes these extensions. */
export const camundaDescriptor = withDecisionRefVersionTag(require('camunda-bpmn-moddle/resources/camunda.json') as Record<string, unknown>);

/**
 * Camunda 7 reads `camunda:decisionRefVersionTag` on a business rule task
 * (binding versionTag), which the published descriptor leaves out: without it
 * the attribute would be refused as unknown.
 */
function withDecisionRefVersionTag(descriptor: Record<string, unknown>): Record<string, unknown> {
  const types = descriptor.types as { name: string; properties: { name: string }[] }[];
  const dmn = types.find((t) => t.name === 'DmnCapable');
  if (dmn && !dmn.properties.some((p) => p.name === 'decisionRefVersionTag')) {
    dmn.properties.push({ name: 'decisionRefVersionTag', isAttr: true, type: 'String' } as never);
  }
  return descriptor;
}

/** A parser that understands BPMN 2.0 plus the Camunda extension namespace. */
export function makeModdle(): BpmnModdle {
  return new BpmnModdle({ camunda: camundaDescriptor });
}

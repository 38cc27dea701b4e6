import { createRequire } from 'node:module';
import { BpmnModdle } from 'bpmn-moddle';

const require = createRequire(import.meta.url);
/** Camunda's moddle descriptor: Camunda Modeler writes these extensions. */
export const camundaDescriptor = require('camunda-bpmn-moddle/resources/camunda.json') as Record<string, unknown>;

/** A parser that understands BPMN 2.0 plus the Camunda extension namespace. */
export function makeModdle(): BpmnModdle {
  return new BpmnModdle({ camunda: camundaDescriptor });
}

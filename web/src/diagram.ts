import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import camunda from 'camunda-bpmn-moddle/resources/camunda.json';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import { fieldsOf, type Field } from './forms.ts';

interface Element {
  id: string;
  type: string;
  parent?: Element;
  businessObject: { $type: string; eventDefinitions?: unknown[]; [k: string]: unknown };
}

export interface Diagram {
  /** Form fields of a flow node. */
  fields(elementId: string): Field[];
  /** The id of the process-level none start event, if any. */
  noneStartId(): string | undefined;
}

/** Shows the diagram in `container`, the `current` element highlighted; also reads its forms. */
export async function showDiagram(container: HTMLElement, xml: string, current?: string): Promise<Diagram> {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { camunda } });
  await viewer.importXML(xml);
  const registry = viewer.get('elementRegistry') as { get(id: string): Element | undefined; filter(fn: (e: Element) => boolean): Element[] };
  const canvas = viewer.get('canvas') as { zoom(to: string): void; addMarker(id: string, marker: string): void };
  try {
    canvas.zoom('fit-viewport');
  } catch {
    // a container without size (hidden): keep the default zoom
  }
  if (current && registry.get(current)) canvas.addMarker(current, 'current-task');
  return {
    fields: (id) => fieldsOf(registry.get(id)?.businessObject),
    noneStartId: () => registry.filter((e) => e.type === 'bpmn:StartEvent' && !e.businessObject.eventDefinitions?.length && e.parent?.type === 'bpmn:Process')[0]?.id,
  };
}

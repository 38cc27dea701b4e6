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
  /** The element's name, for lists beside the diagram. */
  nameOf(elementId: string): string | undefined;
}

export interface Marks {
  /** The task this page is about. */
  current?: string;
  /** Elements waiting now (an instance's open tasks, timers, receive tasks). */
  active?: string[];
  /** Elements that ran to their end. */
  done?: string[];
  /** Armed timers: a badge with their due time on the element. */
  timers?: { elementId: string; label: string }[];
}

/** Shows the diagram in `container` with marks; also reads its forms. */
export async function showDiagram(container: HTMLElement, xml: string, marks: Marks = {}): Promise<Diagram> {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { camunda } });
  await viewer.importXML(xml);
  const registry = viewer.get('elementRegistry') as { get(id: string): Element | undefined; filter(fn: (e: Element) => boolean): Element[] };
  const canvas = viewer.get('canvas') as { zoom(to: string): void; addMarker(id: string, marker: string): void };
  const overlays = viewer.get('overlays') as { add(id: string, o: { position: Record<string, number>; html: HTMLElement }): void };
  try {
    canvas.zoom('fit-viewport');
  } catch {
    // a container without size (hidden): keep the default zoom
  }
  const mark = (id: string | undefined, marker: string) => {
    if (id && registry.get(id)) canvas.addMarker(id, marker);
  };
  for (const id of marks.done ?? []) mark(id, 'done-element');
  for (const id of marks.active ?? []) mark(id, 'active-element');
  mark(marks.current, 'current-task');
  for (const timer of marks.timers ?? []) {
    if (!registry.get(timer.elementId)) continue;
    const badge = document.createElement('div');
    badge.className = 'timer-badge';
    badge.dataset.elementId = timer.elementId;
    badge.textContent = timer.label;
    overlays.add(timer.elementId, { position: { bottom: -4, left: -10 }, html: badge });
  }
  return {
    fields: (id) => fieldsOf(registry.get(id)?.businessObject),
    noneStartId: () => registry.filter((e) => e.type === 'bpmn:StartEvent' && !e.businessObject.eventDefinitions?.length && e.parent?.type === 'bpmn:Process')[0]?.id,
    nameOf: (id) => (registry.get(id)?.businessObject.name as string | undefined) ?? undefined,
  };
}

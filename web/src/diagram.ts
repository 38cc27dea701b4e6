import NavigatedViewer from 'bpmn-js/lib/NavigatedViewer';
import camunda from 'camunda-bpmn-moddle/resources/camunda.json';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import { fieldsOf, type Field } from './forms.ts';
import { t } from './i18n.ts';

interface Element {
  id: string;
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

interface ModdleNode {
  $type: string;
  id?: string;
  name?: string;
  eventDefinitions?: unknown[];
  rootElements?: ModdleNode[];
  flowElements?: ModdleNode[];
  [k: string]: unknown;
}

/** Every flow element of the processes, subprocesses included, by id: forms come from the model, not the drawing. */
function flowElementsOf(definitions: ModdleNode | undefined): Map<string, ModdleNode> {
  const found = new Map<string, ModdleNode>();
  const walk = (nodes: ModdleNode[] | undefined) => {
    for (const n of nodes ?? []) {
      if (n.id) found.set(n.id, n);
      walk(n.flowElements);
    }
  };
  for (const root of definitions?.rootElements ?? []) if (root.$type === 'bpmn:Process') walk(root.flowElements);
  return found;
}

/**
 * Shows the diagram in `container` with marks; also reads its forms. A
 * diagram without layout (no BPMN DI, as some tools export) still yields its
 * forms, with a notice where the drawing would be.
 */
export async function showDiagram(container: HTMLElement, xml: string, marks: Marks = {}): Promise<Diagram> {
  const viewer = new NavigatedViewer({ container, moddleExtensions: { camunda } });
  let drawn = true;
  try {
    await viewer.importXML(xml);
  } catch (err) {
    drawn = false;
    const notice = document.createElement('p');
    notice.className = 'diagram-missing muted';
    notice.textContent = `${t('noLayout')} (${(err as Error).message})`;
    container.replaceChildren(notice);
  }
  const elements = flowElementsOf((viewer as unknown as { getDefinitions(): ModdleNode | undefined }).getDefinitions());
  const model = {
    fields: (id: string) => fieldsOf(elements.get(id)),
    noneStartId: () => [...elements.values()].find((e) => e.$type === 'bpmn:StartEvent' && !e.eventDefinitions?.length
      && (e.$parent as ModdleNode | undefined)?.$type === 'bpmn:Process')?.id,
    nameOf: (id: string) => elements.get(id)?.name,
  };
  if (drawn) mark(viewer, marks);
  return model;
}

function mark(viewer: NavigatedViewer, marks: Marks): void {
  const registry = viewer.get('elementRegistry') as { get(id: string): Element | undefined };
  const canvas = viewer.get('canvas') as { zoom(to: string): void; addMarker(id: string, marker: string): void };
  const overlays = viewer.get('overlays') as { add(id: string, o: { position: Record<string, number>; html: HTMLElement }): void };
  try {
    canvas.zoom('fit-viewport');
  } catch {
    // a container without size (hidden): keep the default zoom
  }
  const add = (id: string | undefined, marker: string) => {
    if (id && registry.get(id)) canvas.addMarker(id, marker);
  };
  for (const id of marks.done ?? []) add(id, 'done-element');
  for (const id of marks.active ?? []) add(id, 'active-element');
  add(marks.current, 'current-task');
  for (const timer of marks.timers ?? []) {
    if (!registry.get(timer.elementId)) continue;
    const badge = document.createElement('div');
    badge.className = 'timer-badge';
    badge.dataset.elementId = timer.elementId;
    badge.textContent = timer.label;
    overlays.add(timer.elementId, { position: { bottom: -4, left: -10 }, html: badge });
  }
}

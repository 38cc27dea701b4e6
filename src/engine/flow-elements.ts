import type { ModdleElement } from 'bpmn-moddle';

/**
 * Calls `visit` on each process and on every flow element in it, however
 * deep (sub-processes, event sub-processes, transactions), a parent before
 * its children, in document order. The deployment checks that look at one
 * element at a time share this walk; those that carry a scope down (joins,
 * timers, conditional events, event sub-processes, compensation) walk
 * themselves.
 */
export function eachElement(processes: ModdleElement[], visit: (element: ModdleElement) => void): void {
  const walk = (element: ModdleElement) => {
    visit(element);
    for (const child of (element.flowElements ?? []) as ModdleElement[]) walk(child);
  };
  processes.forEach(walk);
}

import type { ModdleElement } from 'bpmn-moddle';
import { eachElement } from './flow-elements.ts';
import { makeModdle } from './moddle.ts';

/** A call activity's reference to another process, as written in the diagram. */
export interface StaticCall {
  activityId: string;
  calledElement: string;
  binding: 'latest' | 'deployment' | 'version' | 'versionTag';
  version: number | null;
  versionTag: string | null;
}

const EXPRESSION = /[$#]\{/;

/**
 * The call activities of process `processKey` whose called element is a
 * constant (Camunda's static-called-process-definitions resolves no
 * expression). Deployment refuses expressions here (check-call-activity.ts),
 * so these are all the process's calls, in subprocesses too.
 */
export async function staticCalls(xml: string, processKey: string): Promise<StaticCall[]> {
  const parsed = await makeModdle().fromXML(xml);
  const process = (parsed.rootElement.rootElements ?? []).filter((e: ModdleElement) => e.$type === 'bpmn:Process' && e.id === processKey);
  const calls: StaticCall[] = [];
  eachElement(process, (e) => {
    if (e.$type !== 'bpmn:CallActivity') return;
    const called = e.calledElement == null ? '' : String(e.calledElement).trim();
    if (!called || EXPRESSION.test(called)) return;
    const version = e.calledElementVersion == null ? null : Number(e.calledElementVersion);
    calls.push({
      activityId: String(e.id), calledElement: called, binding: (e.calledElementBinding ?? 'latest') as StaticCall['binding'],
      version: Number.isInteger(version) ? version : null, versionTag: e.calledElementVersionTag == null ? null : String(e.calledElementVersionTag),
    });
  });
  return calls;
}

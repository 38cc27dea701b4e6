/*
 * Size limits of one BPMN resource, checked on the text before the XML is
 * parsed. Parsing is the first expensive step (a 100 000-element diagram
 * takes seconds and hundreds of megabytes in moddle), and everything after it
 * walks the model recursively (a few thousand nested sub-processes overflow
 * the stack), while an engine run on a huge diagram blocks the event loop.
 * So one pass of a regular expression over the text counts what matters and
 * refuses the resource before any of that starts.
 */

/** The largest resource accepted, in bytes (the HTTP upload limit is the same). */
export const MAX_RESOURCE_BYTES = 10 * 1024 * 1024;
/** Flow elements (activities, events, gateways, sequence flows, data references) in one resource. */
export const MAX_FLOW_ELEMENTS = 10_000;
/** Sub-processes (and transactions, ad-hoc sub-processes) nested in one another. */
export const MAX_SUBPROCESS_DEPTH = 32;
/** XML elements nested in one another, of any kind (extension elements too). */
export const MAX_XML_DEPTH = 128;
/** XML elements of any kind (diagram shapes, extension elements) in one resource. */
export const MAX_XML_ELEMENTS = 250_000;

const FLOW_ELEMENTS = new Set([
  'startEvent', 'endEvent', 'intermediateCatchEvent', 'intermediateThrowEvent', 'boundaryEvent', 'implicitThrowEvent',
  'task', 'userTask', 'serviceTask', 'scriptTask', 'businessRuleTask', 'sendTask', 'receiveTask', 'manualTask', 'callActivity',
  'subProcess', 'transaction', 'adHocSubProcess',
  'exclusiveGateway', 'inclusiveGateway', 'parallelGateway', 'eventBasedGateway', 'complexGateway',
  'sequenceFlow', 'dataObject', 'dataObjectReference', 'dataStoreReference',
]);
const SUBPROCESSES = new Set(['subProcess', 'transaction', 'adHocSubProcess']);

/** Comments, CDATA, declarations and processing instructions are skipped; a tag gives close mark, local name, attributes, self-close mark. */
const TAG = /<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<[?!][^>]*>|<(\/?)(?:[\w.-]+:)?([\w.-]+)([^>]*?)(\/?)>/g;

export interface SizeProblem {
  message: string;
  /** The element at which a limit was passed, when it has an id. */
  elementId: string | null;
}

const idOf = (attributes: string) => /\sid\s*=\s*["']([^"']*)["']/.exec(attributes)?.[1] ?? null;

/** The first limit a resource passes, or null when it is within all of them. */
export function checkSize(xml: string, bytes: number): SizeProblem | null {
  if (bytes > MAX_RESOURCE_BYTES) {
    return { message: `资源过大 / the resource has ${bytes} bytes; at most ${MAX_RESOURCE_BYTES} are accepted`, elementId: null };
  }
  let elements = 0;
  let flowElements = 0;
  // For each open element: whether it is a sub-process.
  const open: boolean[] = [];
  let subDepth = 0;
  TAG.lastIndex = 0;
  for (let m = TAG.exec(xml); m; m = TAG.exec(xml)) {
    const [, close, name, attributes, selfClose] = m;
    if (name === undefined) continue;
    if (close) {
      if (open.pop()) subDepth--;
      continue;
    }
    if (++elements > MAX_XML_ELEMENTS) {
      return { message: `资源元素过多 / the resource has more than ${MAX_XML_ELEMENTS} XML elements`, elementId: null };
    }
    if (FLOW_ELEMENTS.has(name) && ++flowElements > MAX_FLOW_ELEMENTS) {
      return {
        message: `流程元素过多 / the resource has more than ${MAX_FLOW_ELEMENTS} flow elements (activities, events, gateways, sequence flows); split the process`,
        elementId: idOf(attributes!),
      };
    }
    const isSub = SUBPROCESSES.has(name);
    if (isSub && subDepth + 1 > MAX_SUBPROCESS_DEPTH) {
      return { message: `子流程嵌套过深 / sub-processes are nested more than ${MAX_SUBPROCESS_DEPTH} deep`, elementId: idOf(attributes!) };
    }
    if (selfClose) continue;
    open.push(isSub);
    if (isSub) subDepth++;
    if (open.length > MAX_XML_DEPTH) {
      return { message: `XML 嵌套过深 / XML elements are nested more than ${MAX_XML_DEPTH} deep`, elementId: idOf(attributes!) };
    }
  }
  return null;
}

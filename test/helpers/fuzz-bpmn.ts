import fc from 'fast-check';
import { fuzzString } from './fuzz-http.ts';

/*
 * Generators of small BPMN diagrams for the fuzz test: some valid, most a
 * little broken (references to nothing, duplicate ids, odd timers and
 * expressions, scripts, unknown elements, huge names, XML that is not XML).
 */

/** Ids drawn from a small pool, so that references sometimes resolve and ids sometimes collide. */
const ID_POOL = ['start', 'end', 'a', 'b', 'c', 'gw', 'sub'];
const id = fc.oneof({ weight: 6, arbitrary: fc.constantFrom(...ID_POOL) }, { weight: 1, arbitrary: fuzzString });

/** Timer values of every kind, most of them wrong in some way. */
export const TIMER_VALUES = [
  'PT1H', 'P1D', 'PT1S', 'PT0S', 'PT0.001S', 'PT-1S', 'P999999999Y', 'banana', '', ' ', 'R/PT0S', 'R/PT0.001S', 'R3/PT10S', 'R/P1D', 'R-1/PT1S',
  'R/2026-12-01T00:00:00Z/PT1H', 'R/2026-12-01T00:00:00Z/2026-11-01T00:00:00Z', 'R5/PT0S/2026-12-01T00:00:00Z', '2026-12-01T00:00:00Z',
  '+099999-01-01T00:00:00Z', '-000001-01-01T00:00:00Z', '1970-01-01T00:00:00Z', '0 0 9 * * ?', '0/0 * * * * ?', '* * * * * *', '${duration}',
  '${', '#{x}', '${1/0}', '${execution.getVariable("x")}', 'P1Y2M3DT4H5M6.7S', 'PT99999999999999999999H',
];

/** Expressions and scripts: JUEL, broken JUEL, JavaScript that loops or escapes. */
const EXPRESSIONS = [
  '${a == 1}', '${choice == \'yes\'}', '${', '}', '${a.b.c.d}', '${a[0]}', '#{x}', '${true}', '${x > 1 && y}', '${"\\u0000"}',
  'while (true) {}', 'this.constructor.constructor("return process")()', 'execution.setVariable("a", 1)', '1 +', '',
];

const TIMER_KINDS = ['timeDate', 'timeDuration', 'timeCycle', 'timeBogus'] as const;
const timer = fc.record({ kind: fc.constantFrom(...TIMER_KINDS), value: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...TIMER_VALUES) }, { weight: 1, arbitrary: fuzzString }) });

const ELEMENT_TYPES = [
  'startEvent', 'endEvent', 'userTask', 'serviceTask', 'scriptTask', 'manualTask', 'task', 'exclusiveGateway', 'parallelGateway', 'inclusiveGateway',
  'eventBasedGateway', 'intermediateCatchEvent', 'intermediateThrowEvent', 'boundaryEvent', 'subProcess', 'callActivity', 'receiveTask', 'sendTask',
  'businessRuleTask', 'fooTask',
] as const;

const element = fc.record({
  type: fc.constantFrom(...ELEMENT_TYPES),
  id,
  name: fc.option(fc.oneof(fuzzString, fc.constantFrom(10_000, 100_000).map((n) => '名'.repeat(n))), { nil: undefined }),
  timer: fc.option(timer, { nil: undefined }),
  /** message, signal or error event definition referring to something that may not exist */
  eventRef: fc.option(fc.constantFrom('message', 'signal', 'error', 'escalation', 'terminate', 'conditional'), { nil: undefined }),
  attachedTo: fc.option(id, { nil: undefined }),
  expression: fc.option(fc.oneof(fc.constantFrom(...EXPRESSIONS), fuzzString), { nil: undefined }),
  scriptFormat: fc.constantFrom('javascript', 'JavaScript', 'groovy', 'python', 'juel', ''),
  external: fc.boolean(),
});

const flow = fc.record({
  id: fc.oneof(fc.constantFrom('f1', 'f2', 'f3', 'f4'), id),
  source: id,
  target: id,
  condition: fc.option(fc.oneof(fc.constantFrom(...EXPRESSIONS), fuzzString), { nil: undefined }),
  language: fc.option(fc.constantFrom('javascript', 'groovy', 'juel'), { nil: undefined }),
});

/** Text as XML attribute or element content; NUL and lone surrogates stay (they make the XML invalid, as a careless tool would). */
const xml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

type Element = typeof element extends fc.Arbitrary<infer T> ? T : never;
type Flow = typeof flow extends fc.Arbitrary<infer T> ? T : never;

function renderElement(e: Element): string {
  const attrs = [`id="${xml(e.id)}"`, e.name !== undefined && `name="${xml(e.name)}"`];
  let inner = '';
  if (e.timer) inner += `<bpmn:timerEventDefinition><bpmn:${e.timer.kind} xsi:type="bpmn:tFormalExpression">${xml(e.timer.value)}</bpmn:${e.timer.kind}></bpmn:timerEventDefinition>`;
  if (e.eventRef === 'terminate') inner += '<bpmn:terminateEventDefinition />';
  else if (e.eventRef === 'conditional') inner += `<bpmn:conditionalEventDefinition><bpmn:condition xsi:type="bpmn:tFormalExpression">${xml(e.expression ?? '${a}')}</bpmn:condition></bpmn:conditionalEventDefinition>`;
  else if (e.eventRef) inner += `<bpmn:${e.eventRef}EventDefinition ${e.eventRef}Ref="${e.eventRef}-${xml(e.id)}" />`;
  switch (e.type) {
    case 'userTask':
      attrs.push(`camunda:candidateGroups="${xml(e.expression ?? 'office')}"`, 'camunda:dueDate="${deadline}"');
      break;
    case 'serviceTask':
      attrs.push(e.external ? `camunda:type="external" camunda:topic="${xml(e.expression ?? 't')}"` : `camunda:expression="${xml(e.expression ?? '${x}')}"`);
      break;
    case 'scriptTask':
      attrs.push(`scriptFormat="${e.scriptFormat}"`, 'camunda:resultVariable="r"');
      inner += `<bpmn:script>${xml(e.expression ?? 'while (true) {}')}</bpmn:script>`;
      break;
    case 'boundaryEvent':
      attrs.push(`attachedToRef="${xml(e.attachedTo ?? 'a')}"`);
      break;
    case 'callActivity':
      attrs.push(`calledElement="${xml(e.expression ?? 'security-plan-approval')}"`);
      break;
    case 'subProcess':
      inner += '<bpmn:startEvent id="sub-start" /><bpmn:endEvent id="sub-end" />';
      break;
    default:
  }
  return `<bpmn:${e.type} ${attrs.filter(Boolean).join(' ')}>${inner}</bpmn:${e.type}>`;
}

function renderFlow(f: Flow): string {
  const condition = f.condition === undefined ? ''
    : `<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression"${f.language ? ` language="${f.language}"` : ''}>${xml(f.condition)}</bpmn:conditionExpression>`;
  return `<bpmn:sequenceFlow id="${xml(f.id)}" sourceRef="${xml(f.source)}" targetRef="${xml(f.target)}">${condition}</bpmn:sequenceFlow>`;
}

/** How the XML around the process is spoiled, if it is. */
const WRAPPINGS = ['plain', 'plain', 'plain', 'truncated', 'no-process', 'two-processes', 'doctype-entity', 'latin1-declared', 'not-executable', 'wrong-namespace'] as const;

export interface Diagram {
  /** The file as deployed. */
  bytes: Buffer;
  /** The file name it is uploaded as. */
  name: string;
  /** A short account of how it was made, for the report. */
  shown: string;
}

/** A small diagram: a process with a few generated elements and flows, its XML possibly spoiled. */
export const diagram: fc.Arbitrary<Diagram> = fc.record({
  processId: fc.oneof({ weight: 5, arbitrary: fc.constantFrom('fuzz-a', 'fuzz-b', 'start') }, { weight: 1, arbitrary: fuzzString }),
  processName: fc.option(fc.oneof(fuzzString, fc.constant('流程'.repeat(50_000))), { nil: undefined }),
  elements: fc.array(element, { maxLength: 7 }),
  flows: fc.array(flow, { maxLength: 7 }),
  wrapping: fc.constantFrom(...WRAPPINGS),
  fileName: fc.oneof({ weight: 4, arbitrary: fc.constant('fuzz.bpmn') }, { weight: 1, arbitrary: fc.constantFrom('fuzz.bpmn20.xml', 'fuzz.txt', 'fuzz.form', 'fuzz', '.bpmn') }),
}).map(({ processId, processName, elements, flows, wrapping, fileName }): Diagram => {
  const ns = wrapping === 'wrong-namespace' ? 'http://example.org/not-bpmn' : 'http://www.omg.org/spec/BPMN/20100524/MODEL';
  const body = [...elements.map(renderElement), ...flows.map(renderFlow)].join('\n    ');
  const proc = (pid: string) => `<bpmn:process id="${xml(pid)}"${processName !== undefined ? ` name="${xml(processName)}"` : ''} isExecutable="${wrapping === 'not-executable' ? 'false' : 'true'}">\n    ${body}\n  </bpmn:process>`;
  const processes = wrapping === 'no-process' ? '' : wrapping === 'two-processes' ? `${proc(processId)}\n  ${proc(processId)}` : proc(processId);
  const head = wrapping === 'doctype-entity'
    ? '<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE d [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>'
    : `<?xml version="1.0" encoding="${wrapping === 'latin1-declared' ? 'ISO-8859-1' : 'UTF-8'}"?>`;
  const messages = '<bpmn:message id="message-a" name="m" /><bpmn:signal id="signal-a" name="s" /><bpmn:error id="error-a" errorCode="E" />';
  let text = `${head}\n<bpmn:definitions xmlns:bpmn="${ns}" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="defs" targetNamespace="t">\n  ${messages}\n  ${processes}${wrapping === 'doctype-entity' ? '<bpmn:documentation>&xxe;&b;</bpmn:documentation>' : ''}\n</bpmn:definitions>\n`;
  if (wrapping === 'truncated') text = text.slice(0, Math.floor(text.length / 2));
  const summary = `${wrapping} process ${JSON.stringify(processId.slice(0, 40))}${processName !== undefined ? ` name of ${processName.length} chars` : ''}; `
    + `elements ${elements.map((e) => `${e.type}#${JSON.stringify(e.id.slice(0, 20))}${e.timer ? `[${e.timer.kind}=${JSON.stringify(e.timer.value.slice(0, 40))}]` : ''}${e.eventRef ? `[${e.eventRef}]` : ''}${e.type === 'scriptTask' ? `[${e.scriptFormat}]` : ''}`).join(', ') || 'none'}; `
    + `flows ${flows.map((f) => `${JSON.stringify(f.source.slice(0, 20))}->${JSON.stringify(f.target.slice(0, 20))}${f.condition !== undefined ? `[${f.language ?? 'juel'}: ${JSON.stringify(f.condition.slice(0, 40))}]` : ''}`).join(', ') || 'none'}`;
  return { bytes: Buffer.from(text, 'utf8'), name: fileName, shown: summary };
});

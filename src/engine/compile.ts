import type { ModdleElement, ParseResult } from 'bpmn-moddle';
import { ParseError, type ParseProblem } from '../errors.ts';
import type { FormField, Forms } from '../types.ts';
import { checkInclusiveJoins } from './check-joins.ts';
import { checkSize } from './check-size.ts';
import { checkTimers, timerValueProblem } from './check-timers.ts';
import { makeModdle } from './moddle.ts';
import { ScheduleError, type TimerSpec } from './schedule.ts';
import { decodeXml, serializeForEngine } from './serialize.ts';
import { checkExpressions } from './validate.ts';
import { checkScripts } from './check-scripts.ts';
import { checkMultiInstance } from './check-multi-instance.ts';
import { checkTimerCycles } from './check-timer-cycles.ts';
import { isTolerable } from './check-references.ts';
import { checkExtensions } from './check-extensions.ts';
import { checkUnverified } from './check-unverified.ts';
import { checkCompensation } from './check-compensation.ts';
import { checkConditionalEvents } from './check-conditional.ts';
import { checkCallActivities } from './check-call-activity.ts';
import { checkBusinessRuleTasks } from './check-business-rule.ts';
import { checkGroupMembers } from './group-members.ts';
import { checkNotifyProperties } from './notify-properties.ts';

export interface MessageStart {
  /** Older definitions stored no kind: they are message starts. */
  kind?: 'message' | 'signal' | 'timer' | 'conditional';
  /** For a timer start: the timer definition the scheduler follows. */
  timer?: TimerSpec;
  /** For a conditional start: its `${…}` condition, evaluated by POST /condition (services/conditions.ts). */
  condition?: string;
  eventId: string;
  messageId: string;
  messageName: string;
  compiled: string | null;
}

/** One executable process of a resource, ready to store as a definition version. */
export interface CompiledProcess {
  key: string;
  name: string | null;
  versionTag: string | null;
  description: string | null;
  historyTtl: number | null;
  /** Has a none start event, so it can be started by a person or API call. */
  startable: boolean;
  /** The none start event, whose form is the start form. */
  startEventId: string | null;
  /**
   * Marked for the internet zone by the process-level extension property
   * `public=true`: the public may start it with its start form.
   */
  isPublic: boolean;
  /**
   * Message start events. When the process has other start events too, each
   * has a compiled form of its own that starts only there.
   */
  messageStarts: MessageStart[];
  /** The engine's serialized definition with only this process executable. */
  compiled: string;
  forms: Forms;
  /** Who may start it by hand (camunda:candidateStarterGroups / Users), or null when anyone in a role may. */
  starterGroups: string[] | null;
  starterUsers: string[] | null;
}

/**
 * Parses and checks one BPMN resource. Returns one entry per executable
 * process (Camunda 7 ignores `isExecutable="false"` ones). Throws ParseError
 * in Camunda's ENGINE-09005 shape naming elements, line and column, so that
 * nothing is stored for a resource the engine could not run. Problems that
 * do not affect execution are pushed to `warnings` instead (check-references.ts).
 */
export async function compileResource(resourceName: string, source: string | Buffer, warnings: ParseProblem[] = []): Promise<CompiledProcess[]> {
  const xml = typeof source === 'string' ? source : decodeXml(source);
  // Before parsing: a huge or deeply nested diagram costs its parse and every walk after it.
  const tooBig = checkSize(xml, typeof source === 'string' ? Buffer.byteLength(source) : source.length);
  if (tooBig) throw parseError(resourceName, [problem(xml, tooBig.message, tooBig.elementId ? [tooBig.elementId] : [])]);
  let parsed: ParseResult;
  try {
    parsed = await makeModdle().fromXML(xml);
  } catch (err) {
    throw parseError(resourceName, [problem(xml, (err as Error).message, [])]);
  }
  // What Camunda 7 ignores when running (DI, participants' processRef...) is passed back to `warnings`; the rest refuses.
  const toProblem = (w: ParseResult['warnings'][number]) => problem(xml, w.message, w.element?.id ? [w.element.id] : []);
  warnings.push(...parsed.warnings.filter(isTolerable).map(toProblem));
  const problems = parsed.warnings.filter((w) => !isTolerable(w)).map(toProblem);
  if (parsed.rootElement?.$type !== 'bpmn:Definitions') {
    problems.push(problem(xml, 'root element is not bpmn:definitions', []));
  }
  if (problems.length) throw parseError(resourceName, problems);

  const processes = (parsed.rootElement.rootElements ?? []).filter((e: ModdleElement) => e.$type === 'bpmn:Process');
  const executable = processes.filter((p: ModdleElement) => p.isExecutable === true);
  problems.push(...checkExpressions(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkScripts(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkMultiInstance(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkTimerCycles(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkExtensions(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkCallActivities(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkBusinessRuleTasks(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkTimers(executable, new Date(), TIMER_ZONE).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkUnverified(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkConditionalEvents(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkInclusiveJoins(executable).map((p) => problem(xml, p.message, [p.elementId])));
  const compensation = checkCompensation(executable);
  problems.push(...compensation.problems.map((p) => problem(xml, p.message, [p.elementId])));
  warnings.push(...compensation.warnings.map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkGroupMembers(executable).map((p) => problem(xml, p.message, [p.elementId])));
  problems.push(...checkNotifyProperties(executable).map((p) => problem(xml, p.message, [p.elementId])));
  if (problems.length) throw parseError(resourceName, problems);

  for (const proc of executable) problems.push(...checkPublic(proc).map((message) => problem(xml, message, [String(proc.id)])));
  if (problems.length) throw parseError(resourceName, problems);

  const result: CompiledProcess[] = [];
  for (const proc of executable) {
    try {
      result.push({
        key: proc.id,
        name: proc.name ?? null,
        versionTag: proc.versionTag ?? null,
        description: documentation(proc),
        historyTtl: parseTtl(proc.historyTimeToLive),
        startable: (proc.flowElements ?? []).some(isNoneStart),
        startEventId: (proc.flowElements ?? []).find(isNoneStart)?.id ?? null,
        isPublic: publicFlag(proc) === 'true',
        ...compileStarts(parsed, proc),
        forms: collectForms(proc),
        starterGroups: listAttribute(proc.candidateStarterGroups),
        starterUsers: listAttribute(proc.candidateStarterUsers),
      });
    } catch (err) {
      const message = (err as Error).message;
      const type = /Unknown activity type (\S+)/.exec(message)?.[1];
      const ids = type ? findIdsOfType(proc, type) : [];
      const what = type ? `不支持的元素 / unsupported element ${type}` : `引擎无法编译此流程 / the engine cannot compile process ${proc.id}: ${message}`;
      throw parseError(resourceName, [problem(xml, what, ids.length ? ids : [String(proc.id)])]);
    }
  }
  return result;
}

/** The main compiled form and one per message start, when start events must be kept apart. */
function compileStarts(parsed: ParseResult, proc: ModdleElement): { compiled: string; messageStarts: MessageStart[] } {
  const starts = ((proc.flowElements ?? []) as ModdleElement[]).filter((e) => e.$type === 'bpmn:StartEvent');
  const messageStarts = starts.flatMap((e): { event: ModdleElement; message: ModdleElement; kind: NonNullable<MessageStart['kind']>; timer?: TimerSpec; condition?: string }[] => {
    const definitions = (e.eventDefinitions ?? []) as ModdleElement[];
    const message = definitions.find((d) => d.$type === 'bpmn:MessageEventDefinition')?.messageRef;
    const signal = definitions.find((d) => d.$type === 'bpmn:SignalEventDefinition')?.signalRef;
    const timer = definitions.find((d) => d.$type === 'bpmn:TimerEventDefinition');
    const conditional = definitions.find((d) => d.$type === 'bpmn:ConditionalEventDefinition');
    if (message) return [{ event: e, message, kind: 'message' as const }];
    if (signal) return [{ event: e, message: signal, kind: 'signal' as const }];
    if (conditional) return [{ event: e, message: { $type: 'conditional', id: e.id, name: `condition:${e.id}` }, kind: 'conditional' as const, condition: String(conditional.condition?.body ?? '').trim() }];
    return timer ? [{ event: e, message: { $type: 'timer', id: e.id, name: `timer:${e.id}` }, kind: 'timer' as const, timer: timerSpecOf(e, timer) }] : [];
  });
  const entry = (m: (typeof messageStarts)[number], compiled: string | null): MessageStart => ({
    kind: m.kind, eventId: m.event.id!, messageId: String(m.message.id), messageName: String(m.message.name ?? m.message.id), compiled,
    ...(m.timer ? { timer: m.timer } : {}), ...(m.condition ? { condition: m.condition } : {}),
  });
  // Started by the server, not by delivering a message: the form of its own starts there as at a none start.
  const startedAsNone = (m: (typeof messageStarts)[number]) => m.kind === 'timer' || m.kind === 'conditional';
  // A lone message or signal start is started by delivering its message; a timer or conditional start
  // always gets a form of its own in which it is a none start (the scheduler or POST /condition decides).
  if (starts.length < 2 && !messageStarts.some(startedAsNone)) {
    return { compiled: serializeForEngine(parsed, proc), messageStarts: messageStarts.map((m) => entry(m, null)) };
  }
  const eventStartIds = new Set(messageStarts.map((m) => m.event.id));
  return {
    // The main form starts at the none start events only.
    compiled: serializeForEngine(parsed, proc, starts.filter((s) => !eventStartIds.has(s.id)).map((s) => s.id!)),
    messageStarts: messageStarts.map((m) => entry(m, serializeForEngine(parsed, proc, [m.event.id!], startedAsNone(m) ? m.event.id : undefined))),
  };
}

/** Timers are checked in the default zone: the server's TIMEZONE moves a date by hours, not out of the years 1..9999. */
const TIMER_ZONE = 'Asia/Shanghai';

/** A timer start event's definition, checked now so a bad schedule is refused at deployment. */
function timerSpecOf(event: ModdleElement, definition: ModdleElement): TimerSpec {
  const timerType = (['timeCycle', 'timeDate', 'timeDuration'] as const).find((k) => definition[k]);
  const expression = timerType ? String(definition[timerType].body ?? '').trim() : '';
  if (!timerType || !expression) throw new ScheduleError(`定时启动事件 ${event.id} 缺少时间定义 / timer start event ${event.id} has no timeDate, timeDuration or timeCycle`);
  if (expression.includes('${')) throw new ScheduleError(`定时启动事件 ${event.id} 不能使用表达式 / timer start event ${event.id} cannot use an expression: no instance exists yet to resolve it`);
  const wrong = timerValueProblem(timerType, expression, new Date(), TIMER_ZONE, timerType === 'timeCycle');
  if (wrong) throw new ScheduleError(`定时启动事件 ${event.id} / timer start event ${event.id}: ${wrong}`);
  return { timerType, expression };
}

function parseError(resource: string, errors: ParseProblem[]): ParseError {
  const lines = errors.map((e) => {
    const where = [e.mainElementId && `element ${e.mainElementId}`, e.line != null && `line ${e.line}`, e.column != null && `column ${e.column}`];
    return `* ${e.message} | resource ${resource}${where.filter(Boolean).map((w) => ` | ${w}`).join('')}`;
  });
  return new ParseError(`ENGINE-09005 Could not parse BPMN process. Errors: \n${lines.join('\n')}`, {
    [resource]: { errors, warnings: [] },
  });
}

/** Builds a problem, locating it by the position moddle reports or by the first element's id. */
function problem(xml: string, message: string, elementIds: string[]): ParseProblem {
  const line = /line: (\d+)/.exec(message);
  const column = /column: (\d+)/.exec(message);
  let position = line ? { line: Number(line[1]) + 1, column: column ? Number(column[1]) + 1 : null } : null;
  if (!position && elementIds[0]) position = locateId(xml, elementIds[0]);
  return {
    message: message.replace(/\s+/g, ' ').trim(),
    line: position?.line ?? null,
    column: position?.column ?? null,
    mainElementId: elementIds[0] ?? null,
    elementIds,
  };
}

/** Line and column (1-based) of the element whose `id` attribute is `id`. */
export function locateId(xml: string, id: string): { line: number; column: number } | null {
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const match = new RegExp(`\\sid=["']${escaped}["']`).exec(xml);
  if (!match) return null;
  const tagStart = xml.lastIndexOf('<', match.index);
  const before = xml.slice(0, tagStart);
  const line = before.split('\n').length;
  return { line, column: tagStart - before.lastIndexOf('\n') };
}

/** The value of the process-level `camunda:property name="public"`, if there is one. */
function publicFlag(proc: ModdleElement): string | undefined {
  const values = (proc.extensionElements?.values ?? []) as ModdleElement[];
  const properties = values.filter((v) => v.$type === 'camunda:Properties').flatMap((p) => (p.values ?? []) as ModdleElement[]);
  const flag = properties.find((p) => p.name === 'public');
  return flag ? String(flag.value ?? '') : undefined;
}

/** Form field types the public start checks fully; a custom type would pass unchecked. */
const PUBLIC_FIELD_TYPES = new Set(['string', 'long', 'boolean', 'date', 'enum']);

/**
 * A public process faces the internet, so doubt is refused at deployment:
 * the flag must be exactly true or false, the public must have a none start
 * event to start at, and every start form field must be of a type the
 * server validates.
 */
function checkPublic(proc: ModdleElement): string[] {
  const flag = publicFlag(proc);
  if (flag === undefined || flag === 'false') return [];
  if (flag !== 'true') {
    return [`属性 public 只能是 true 或 false / process property public must be true or false, not "${flag}"`];
  }
  const start = ((proc.flowElements ?? []) as ModdleElement[]).find(isNoneStart);
  if (!start) return [`公众流程 ${proc.id} 需要空启动事件 / public process ${proc.id} needs a none start event`];
  const fields = formOf(start) ?? [];
  return fields.filter((f) => !PUBLIC_FIELD_TYPES.has(f.type)).map((f) =>
    `公众流程的启动表单字段 ${f.id} 类型 ${f.type} 不受支持 / start form field ${f.id} of public process ${proc.id} has type ${f.type}; allowed: ${[...PUBLIC_FIELD_TYPES].join(', ')}`);
}

function isNoneStart(e: ModdleElement): boolean {
  return e.$type === 'bpmn:StartEvent' && !(e.eventDefinitions?.length > 0);
}

function documentation(e: ModdleElement): string | null {
  const docs = (e.documentation ?? []) as ModdleElement[];
  const text = docs.map((d) => d.text ?? '').join('\n').trim();
  return text || null;
}

/** `P180D` or `180` → days. */
function listAttribute(value: unknown): string[] | null {
  if (value == null || String(value).trim() === '') return null;
  return String(value).split(',').map((s) => s.trim()).filter(Boolean);
}

function parseTtl(value: unknown): number | null {
  if (value == null || value === '') return null;
  const m = /^P(\d+)D$/.exec(String(value));
  const n = m ? Number(m[1]) : Number(value);
  return Number.isInteger(n) ? n : null;
}

function* walk(container: ModdleElement): Generator<ModdleElement> {
  for (const e of (container.flowElements ?? []) as ModdleElement[]) {
    yield e;
    if (e.flowElements) yield* walk(e);
  }
}

function findIdsOfType(proc: ModdleElement, type: string): string[] {
  return [...walk(proc)].filter((e) => e.$type === type && e.id).map((e) => e.id as string);
}

function collectForms(proc: ModdleElement): Forms {
  const forms: Forms = {};
  for (const e of walk(proc)) {
    const fields = formOf(e);
    if (fields && e.id) forms[e.id] = fields;
  }
  return forms;
}

/** The `camunda:formField`s of a start event or user task; undefined when it has no form. */
function formOf(e: ModdleElement): FormField[] | undefined {
  const values = (e.extensionElements?.values ?? []) as ModdleElement[];
  const formData = values.find((v) => v.$type === 'camunda:FormData');
  return formData ? ((formData.fields ?? []) as ModdleElement[]).map(toFormField) : undefined;
}

function toFormField(f: ModdleElement): FormField {
  const constraints = ((f.validation?.constraints ?? []) as ModdleElement[]).map((c) => ({
    name: String(c.name),
    config: c.config == null ? null : String(c.config),
  }));
  // Camunda Modeler writes a form field's properties with `id`; accept `name` as process properties have it.
  const properties = ((f.properties?.values ?? []) as ModdleElement[])
    .map((p) => [String(p.id ?? p.name ?? ''), String(p.value ?? '')] as const)
    .filter(([id]) => id);
  return {
    id: String(f.id),
    label: f.label ?? null,
    type: f.type ?? 'string',
    defaultValue: f.defaultValue ?? null,
    constraints,
    values: ((f.values ?? []) as ModdleElement[]).map((v) => ({ id: String(v.id), name: v.name ?? null })),
    ...(properties.length ? { properties: Object.fromEntries(properties) } : {}),
    ...(isMarkedSensitive(f) ? { sensitive: true as const } : {}),
  };
}

/** `<camunda:properties><camunda:property id="sensitive" value="true" /></camunda:properties>` on the field (or name="sensitive"). */
function isMarkedSensitive(f: ModdleElement): boolean {
  const properties = (f.properties?.values ?? []) as ModdleElement[];
  return properties.some((p) => (p.id ?? p.name) === 'sensitive' && String(p.value ?? '').trim().toLowerCase() === 'true');
}

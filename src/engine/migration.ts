/**
 * Process instance migration (Camunda 7's "Process Instance Migration"), the
 * engine's side: what a definition's activities look like, the plan Camunda's
 * `/migration/generate` makes (equal ids, same type, same scope), the plan's
 * own validation and each instance's.
 *
 * Migration here never runs the engine: an instance's saved state is kept as
 * it is and recovered onto the target's compiled form, which finds each saved
 * element by its id. That is exact only when every element the instance is in
 * exists in the target with the same id, type, scope, loop and attached
 * events. Whatever else is refused, naming it (never carried approximately).
 */

import type { RunningElement } from './running-elements.ts';

/** One activity of a compiled definition, as migration compares them. */
export interface ActivityShape {
  id: string;
  type: string;
  name: string | null;
  /** The enclosing sub-process's id, or null at the process level. */
  parentId: string | null;
  /** 'parallel' or 'sequential' for a multi-instance activity. */
  loop: 'parallel' | 'sequential' | null;
  /** For a boundary event: the activity it is attached to. */
  attachedTo: string | null;
  /** Its event trigger (timer kind and value, message name...), compared across versions. */
  trigger: string | null;
  /** Whether it is an event sub-process (started by its start event while the scope runs). */
  eventSubProcess: boolean;
}

/** A definition as migration sees it. */
export interface DefinitionShape {
  id: string;
  key: string;
  /** The `<definitions id>` of its file: the engine finds a saved definition by it. */
  definitionsId: string;
  activities: Map<string, ActivityShape>;
}

/** Camunda's migration instruction (one source, one target: all Camunda 7 supports). */
export interface MigrationInstruction {
  sourceActivityIds: string[];
  targetActivityIds: string[];
  updateEventTrigger: boolean;
}

export interface MigrationPlan {
  sourceProcessDefinitionId: string;
  targetProcessDefinitionId: string;
  instructions: MigrationInstruction[];
  variables?: Record<string, unknown> | undefined;
}

/** Camunda's MigrationInstructionValidationReport. */
export interface InstructionReport {
  instruction: MigrationInstruction;
  failures: string[];
}

/** Camunda's MigratingActivityInstanceValidationReport (one open activity of one instance). */
export interface ActivityInstanceReport {
  migrationInstruction: MigrationInstruction | null;
  activityInstanceId: string;
  sourceScopeId: string;
  failures: string[];
}

/** Camunda's MigratingProcessInstanceValidationReport. */
export interface InstanceReport {
  processInstanceId: string;
  failures: string[];
  activityInstanceValidationReports: ActivityInstanceReport[];
  transitionInstanceValidationReports: never[];
}

/** Elements never active (nothing waits in them), which Camunda's generator does not map. */
const NEVER_ACTIVE = new Set(['bpmn:StartEvent', 'bpmn:EndEvent', 'bpmn:IntermediateThrowEvent', 'bpmn:SequenceFlow']);

/** Where flow nodes live; anything else in the serialized list is a root element. */
const FLOW_SCOPES = new Set(['bpmn:Process', 'bpmn:SubProcess', 'bpmn:Transaction', 'bpmn:AdHocSubProcess']);

/** The shape of a compiled definition (services/definitions.ts keeps the compiled JSON). */

export function shapeOf(def: { id: string; key: string; compiled: string }): DefinitionShape {
  const c = JSON.parse(def.compiled) as { id: string; activities: any[] };
  const activities = new Map<string, ActivityShape>();
  for (const a of c.activities ?? []) {
    // The serializer lists root elements (messages, signals, errors) among the activities, with <definitions> as their parent: not flow nodes, never mapped.
    if (!FLOW_SCOPES.has(a.parent?.type)) continue;
    const b = a.behaviour ?? {};
    const loop = b.loopCharacteristics?.behaviour;
    activities.set(a.id, {
      id: a.id, type: a.type, name: a.name ?? null,
      parentId: a.parent?.type === 'bpmn:Process' ? null : a.parent?.id ?? null,
      loop: loop ? (loop.isSequential ? 'sequential' : 'parallel') : null,
      attachedTo: b.attachedTo?.id ?? null,
      trigger: triggerOf(b.eventDefinitions),
      eventSubProcess: b.triggeredByEvent === true,
    });
  }
  return { id: def.id, key: def.key, definitionsId: c.id, activities };
}

function triggerOf(definitions: any[] | undefined): string | null {
  if (!definitions?.length) return null;
  return definitions.map((d) => {
    const b = d.behaviour ?? {};
    if (d.type === 'bpmn:TimerEventDefinition') {
      const kind = ['timeDate', 'timeDuration', 'timeCycle'].find((k) => b[k] !== undefined);
      return `timer:${kind}:${kind ? b[kind] : ''}`;
    }
    if (d.type === 'bpmn:MessageEventDefinition') return `message:${b.messageRef?.name ?? b.messageRef?.id ?? ''}`;
    if (d.type === 'bpmn:SignalEventDefinition') return `signal:${b.signalRef?.name ?? b.signalRef?.id ?? ''}`;
    if (d.type === 'bpmn:ErrorEventDefinition') return `error:${b.errorRef?.errorCode ?? b.errorRef?.id ?? ''}`;
    return d.type;
  }).join('|');
}

const instruction = (source: string, target: string, updateEventTrigger = false): MigrationInstruction => ({
  sourceActivityIds: [source], targetActivityIds: [target], updateEventTrigger,
});

/** Camunda's generator: every activity whose id is in both, of the same type, in the same scope. */
export function generatePlan(source: DefinitionShape, target: DefinitionShape, updateEventTriggers = false): MigrationInstruction[] {
  const out: MigrationInstruction[] = [];
  for (const a of source.activities.values()) {
    const b = target.activities.get(a.id);
    if (!b || NEVER_ACTIVE.has(a.type) || a.type !== b.type || a.parentId !== b.parentId || a.eventSubProcess !== b.eventSubProcess) continue;
    out.push(instruction(a.id, b.id, updateEventTriggers && a.trigger !== null));
  }
  return out;
}

/**
 * The plan's own validation (Camunda's `/migration/validate`): each
 * instruction with what is wrong with it, and failures of the plan as a whole
 * (definitions this server cannot migrate between) under the first.
 */
export function validatePlan(source: DefinitionShape, target: DefinitionShape, instructions: MigrationInstruction[]): { reports: InstructionReport[]; general: string[] } {
  const general: string[] = [];
  if (source.key !== target.key) {
    general.push(`源和目标流程定义的键不同（${source.key} / ${target.key}），本服务器只在同一流程的版本之间迁移 / source and target process definitions have different keys (${source.key}, ${target.key}); this server migrates between versions of one process only`);
  }
  const events = (d: DefinitionShape) => [...d.activities.values()].filter((a) => a.eventSubProcess || (a.parentId && d.activities.get(a.parentId)?.eventSubProcess))
    .map((a) => `${a.id}:${a.type}:${a.trigger ?? ''}`).sort().join(',');
  if (events(source) !== events(target)) {
    general.push('事件子流程在两个版本中不同，无法原样迁移 / the event sub-processes differ between the versions, which this server cannot carry across exactly');
  }
  const sources = new Map<string, number>();
  for (const i of instructions) for (const s of i.sourceActivityIds) sources.set(s, (sources.get(s) ?? 0) + 1);
  const reports = instructions.map((i) => ({ instruction: i, failures: instructionFailures(source, target, i, instructions, sources) }));
  return { reports: reports.filter((r) => r.failures.length), general };
}

function instructionFailures(source: DefinitionShape, target: DefinitionShape, i: MigrationInstruction, all: MigrationInstruction[], sources: Map<string, number>): string[] {
  const failures: string[] = [];
  if (i.sourceActivityIds.length !== 1 || i.targetActivityIds.length !== 1) {
    return ['每条指令只能有一个源活动和一个目标活动 / Migration instructions must have exactly one source and one target activity'];
  }
  const [s, t] = [source.activities.get(i.sourceActivityIds[0]!), target.activities.get(i.targetActivityIds[0]!)];
  if (!s) failures.push(`源活动 '${i.sourceActivityIds[0]}' 不存在 / Source activity '${i.sourceActivityIds[0]}' does not exist`);
  if (!t) failures.push(`目标活动 '${i.targetActivityIds[0]}' 不存在 / Target activity '${i.targetActivityIds[0]}' does not exist`);
  if (!s || !t) return failures;
  if ((sources.get(s.id) ?? 0) > 1) failures.push(`源活动 '${s.id}' 有多条迁移指令 / There are multiple mappings for source activity id '${s.id}'`);
  if (s.type !== t.type) failures.push(`活动类型不兼容 / Activities have incompatible types (${s.type} is not compatible with ${t.type})`);
  // Kept by id on recovery: an activity goes only to the element of its own id, in the same scope.
  if (s.id !== t.id) failures.push(`本服务器只能把活动迁移到同一 id 的活动 / this server maps an activity only to the activity of the same id ('${s.id}' is mapped to '${t.id}')`);
  if (s.parentId !== t.parentId) failures.push(`活动所在的子流程不同（${s.parentId ?? '流程 / process'} → ${t.parentId ?? '流程 / process'}） / the activity's enclosing scope changes (${s.parentId ?? 'process'} to ${t.parentId ?? 'process'})`);
  else if (s.parentId && !all.some((o) => o.sourceActivityIds[0] === s.parentId)) {
    failures.push(`所在子流程 '${s.parentId}' 未映射 / its enclosing sub-process '${s.parentId}' is not mapped`);
  }
  if (s.loop !== t.loop) failures.push(`多实例特性不同（${s.loop ?? '无 / none'} → ${t.loop ?? '无 / none'}） / the multi-instance loop changes (${s.loop ?? 'none'} to ${t.loop ?? 'none'})`);
  if (s.attachedTo !== t.attachedTo) failures.push(`边界事件附着的活动不同 / the boundary event is attached to another activity ('${s.attachedTo}' to '${t.attachedTo}')`);
  if (i.updateEventTrigger) failures.push('本服务器不支持 updateEventTrigger：事件保留其原触发（计时器到期时间、消息名） / updateEventTrigger is not supported here: events keep their trigger (timer due date, message name)');
  else if (s.trigger !== t.trigger && !carriesTrigger(s.trigger, t.trigger)) {
    failures.push(`事件触发不同（${s.trigger} → ${t.trigger}），无法原样保留 / the event trigger changes (${s.trigger} to ${t.trigger}) and cannot be kept exactly`);
  }
  return failures;
}

/** A one-shot timer keeps its due date whatever the target says (Camunda keeps the trigger); a cycle or a message name cannot be kept. */
function carriesTrigger(a: string | null, b: string | null): boolean {
  const oneShot = (x: string | null) => !!x && /^timer:time(Date|Duration):/.test(x);
  return oneShot(a) && oneShot(b);
}

/**
 * One open activity of an instance: its history row (`sign#multiInstanceBody` for a multi-instance body)
 * or a running element (running-elements.ts), or a join holding tokens while it waits for other branches.
 */
export type OpenActivity = RunningElement & { waitingJoin?: boolean | undefined };

/**
 * One instance's validation against a valid plan: every open activity needs
 * an instruction, and what is attached to it must be the same in the target.
 */
export function validateInstance(
  instanceId: string, open: OpenActivity[], source: DefinitionShape, target: DefinitionShape, instructions: MigrationInstruction[],
  general: string[] = [],
): InstanceReport {
  const bySource = new Map(instructions.map((i) => [i.sourceActivityIds[0], i] as const));
  const reports: ActivityInstanceReport[] = [];
  for (const a of open) {
    const id = a.activityId.replace(/#multiInstanceBody$/, '');
    const mapped = bySource.get(id) ?? null;
    const failures: string[] = [];
    if (!mapped && a.waitingJoin) {
      failures.push(`汇聚网关 '${id}' 持有等待其他分支的令牌，但没有迁移指令（目标中没有同一网关或计划未映射它），迁移会丢失该令牌 / the joining gateway '${id}' holds a token waiting for its other branches and has no migration instruction (no such gateway in the target, or the plan does not map it): migrating would lose the token`);
    } else if (!mapped) failures.push(`该活动实例没有迁移指令 / There is no migration instruction for this instance's activity (${id})`);
    else failures.push(...attachedFailures(id, source, target, bySource));
    if (failures.length) reports.push({ migrationInstruction: mapped, activityInstanceId: a.executionId, sourceScopeId: id, failures });
  }
  return { processInstanceId: instanceId, failures: [...general], activityInstanceValidationReports: reports, transitionInstanceValidationReports: [] };
}

/** The boundary events of an open activity must be the same (ids, mapped) on both sides: the engine neither starts one added nor drops one removed. */
function attachedFailures(id: string, source: DefinitionShape, target: DefinitionShape, bySource: Map<string | undefined, MigrationInstruction>): string[] {
  const on = (d: DefinitionShape) => [...d.activities.values()].filter((a) => a.attachedTo === id).map((a) => a.id).sort();
  const [before, after] = [on(source), on(target)];
  const failures: string[] = [];
  for (const b of before) {
    if (!after.includes(b) || !bySource.has(b)) failures.push(`边界事件 '${b}' 在目标中不存在或未映射 / boundary event '${b}' is not in the target or not mapped, and this server does not remove it from a running activity`);
  }
  for (const b of after) {
    if (!before.includes(b)) failures.push(`目标在 '${id}' 上新增了边界事件 '${b}'，本服务器不为运行中的活动创建 / the target adds boundary event '${b}' to '${id}', which this server does not create for a running activity`);
  }
  return failures;
}

/** Whether a report names anything wrong. */
export function hasFailures(r: InstanceReport): boolean {
  return r.failures.length > 0 || r.activityInstanceValidationReports.length > 0;
}

/**
 * The saved state moved onto the target: the engine finds a saved
 * definition by its `<definitions id>`, which a new version's file may name
 * differently. Everything else is found by element id and stays.
 */
export function migrateState<T>(state: T, source: DefinitionShape, target: DefinitionShape): T {
  if (source.definitionsId === target.definitionsId) return state;
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk);
    if (!node || typeof node !== 'object') return;
    const o = node as Record<string, unknown>;
    if (o.type === 'bpmn:Definitions' && o.id === source.definitionsId) o.id = target.definitionsId;
    for (const v of Object.values(o)) walk(v);
  };
  walk(state);
  return state;
}

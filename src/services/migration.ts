import type { Knex } from 'knex';
import {
  generatePlan, hasFailures, migrateState, shapeOf, validateInstance, validatePlan,
  type DefinitionShape, type InstanceReport, type InstructionReport, type MigrationInstruction, type OpenActivity,
} from '../engine/migration.ts';
import { runningElements, waitingJoinsAnywhere } from '../engine/running-elements.ts';
import { ConflictError, ValidationError } from '../errors.ts';
import type { Db } from '../store/db.ts';
import { lockInstance, moveInstance, readInstance, openActivitiesOf, queryRunningInstances, type InstanceFilter, type MigratingInstance } from '../store/instance-migration.ts';
import type { Principal, Variables } from '../types.ts';
import type { DefinitionService, LoadedDefinition } from './definitions.ts';
import { assertAdmin } from './instances.ts';
import type { VariableVault } from './sealed-variables.ts';
import type { Actor, TraceService } from './trace.ts';
import { parseVariables } from './variables.ts';

/** A migration plan as the service holds it: both definitions loaded, the plan checked for shape. */
export interface CheckedPlan {
  source: LoadedDefinition;
  target: LoadedDefinition;
  shapes: { source: DefinitionShape; target: DefinitionShape };
  instructions: MigrationInstruction[];
  variables: Variables;
  /** The plan as the client sent it (Camunda's shape), for the trace and a batch's configuration. */
  raw: Record<string, unknown>;
}

/**
 * Camunda's two validation exceptions: a plan that is wrong in itself
 * (MigrationPlanValidationException) or an instance it cannot migrate
 * (MigratingProcessInstanceValidationException); the route answers 400 with
 * Camunda's `validationReport` next to the message.
 */
export class MigrationValidationError extends ValidationError {
  constructor(message: string, readonly validationReport: unknown, type: 'MigrationPlanValidationException' | 'MigratingProcessInstanceValidationException') {
    super(message, undefined, type);
  }
}

const PLAN_KEYS = new Set(['sourceProcessDefinitionId', 'targetProcessDefinitionId', 'instructions', 'variables']);

/**
 * Process instance migration: plans (generate, validate) and moving
 * instances onto another version, one transaction per instance. Only
 * administrators may migrate (engine/migration.ts says what can be moved).
 */
export function makeMigrationService(db: Knex, definitions: DefinitionService, vault: VariableVault, trace: TraceService) {
  async function loadPair(sourceId: unknown, targetId: unknown) {
    for (const [name, v] of [['sourceProcessDefinitionId', sourceId], ['targetProcessDefinitionId', targetId]] as const) {
      if (typeof v !== 'string' || !v) throw new ValidationError(`缺少 ${name} / ${name} is required`);
    }
    const [source, target] = await Promise.all([definitions.load(sourceId as string), definitions.load(targetId as string)]);
    return { source, target, shapes: { source: shapeOf(source), target: shapeOf(target) } };
  }

  /** Reads Camunda's migration plan JSON, or a 400 naming what is wrong with its form. */
  async function checkPlan(raw: unknown): Promise<CheckedPlan> {
    if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('migrationPlan 必须是对象 / migrationPlan must be an object');
    const plan = raw as Record<string, unknown>;
    const unknown = Object.keys(plan).filter((k) => !PLAN_KEYS.has(k));
    if (unknown.length) throw new ValidationError(`迁移计划不支持字段 ${unknown.join(', ')} / unsupported migration plan fields: ${unknown.join(', ')}`);
    if (!Array.isArray(plan.instructions)) throw new ValidationError('instructions 必须是数组 / instructions must be an array');
    const instructions = plan.instructions.map((i, n) => readInstruction(i, n));
    const pair = await loadPair(plan.sourceProcessDefinitionId, plan.targetProcessDefinitionId);
    return { ...pair, instructions, variables: parseVariables(plan.variables, 'variables'), raw: plan };
  }

  /** The plan's failures (Camunda's instructionReports) and failures of the whole pair of definitions. */
  function planReport(p: CheckedPlan): { reports: InstructionReport[]; general: string[] } {
    const r = validatePlan(p.shapes.source, p.shapes.target, p.instructions);
    const sensitive = (d: LoadedDefinition) => [...d.sensitive].sort().join(',');
    if (sensitive(p.source) !== sensitive(p.target)) {
      r.general.push('两个版本标记为敏感（加密保存）的变量不同 / the versions mark different variables sensitive (stored encrypted)');
    }
    return r;
  }

  function assertValidPlan(p: CheckedPlan): void {
    const { reports, general } = planReport(p);
    if (!reports.length && !general.length) return;
    const report = { instructionReports: reports, variableReports: {}, failures: general };
    const first = general[0] ?? reports[0]!.failures[0];
    throw new MigrationValidationError(`迁移计划无效 / Migration plan is not valid: ${first}`, report, 'MigrationPlanValidationException');
  }

  /** One instance's report, read outside or inside its migration's transaction. */
  async function instanceReport(trx: Db, p: CheckedPlan, instance: MigratingInstance): Promise<InstanceReport> {
    const general: string[] = [];
    if (instance.state !== 'ACTIVE') general.push(`流程实例已结束 / process instance ${instance.id} is not active`);
    if (instance.definition_id !== p.source.id) {
      general.push(`流程实例不属于源流程定义 / ProcessInstance '${instance.id}' is not an instance of source process definition '${p.source.id}'`);
    }
    const sid = instance.start_event_id;
    if (sid && p.source.compiledFor(sid).compiled !== p.source.compiled && p.target.compiledFor(sid).compiled === p.target.compiled) {
      general.push(`目标版本没有该实例的消息开始事件 '${sid}' / the target has no message start event '${sid}' this instance began at`);
    }
    const rows = (await openActivitiesOf(trx, [instance.id])).get(instance.id) ?? [];
    const seen = new Set(rows.map((r) => r.activityId.replace(/#multiInstanceBody$/, '')));
    const open: OpenActivity[] = [
      ...rows, ...runningElements(instance.engine_state).filter((e) => !seen.has(e.activityId)),
      // A join's waiting tokens live in its saved queue only: unmapped, recovery would find no element for them and drop them.
      ...waitingJoinsAnywhere(instance.engine_state).map((j) => ({ ...j, waitingJoin: true })),
    ];
    return validateInstance(instance.id, open, p.shapes.source, p.shapes.target, p.instructions, general);
  }

  /** Migrates one instance in its own transaction; returns its failed report, or null once migrated. */
  async function migrateOne(trx: Db, p: CheckedPlan, id: string, actor: Actor, batchId?: string): Promise<InstanceReport | null> {
    const instance = await lockInstance(trx, id);
    if (!instance) {
      return { processInstanceId: id, failures: [`流程实例不存在 / process instance ${id} does not exist`], activityInstanceValidationReports: [], transitionInstanceValidationReports: [] };
    }
    const report = await instanceReport(trx, p, instance);
    if (hasFailures(report)) return report;
    await moveInstance(trx, instance, p.target, migrateState(instance.engine_state!, p.shapes.source, p.shapes.target));
    if (Object.keys(p.variables).length) await vault.save(trx, id, p.target.sensitive, p.variables);
    await trace.record(trx, actor, {
      operation: 'Migrate', entityType: 'ProcessInstance', entityId: id, processInstanceId: id,
      details: {
        sourceProcessDefinitionId: p.source.id, targetProcessDefinitionId: p.target.id, instructions: p.instructions,
        ...(Object.keys(p.variables).length ? { variables: Object.keys(p.variables) } : {}), ...(batchId ? { batchId } : {}),
      },
    });
    return null;
  }

  /** The instances a request names: `processInstanceIds` and/or `processInstanceQuery`, at least one instance. */
  async function instancesOf(body: Record<string, unknown>): Promise<string[]> {
    const { processInstanceIds: ids, processInstanceQuery: query } = body;
    if (ids !== undefined && ids !== null && (!Array.isArray(ids) || ids.some((i) => typeof i !== 'string'))) {
      throw new ValidationError('processInstanceIds 必须是字符串数组 / processInstanceIds must be an array of strings');
    }
    const found = new Set<string>((ids as string[] | undefined) ?? []);
    if (query != null) for (const id of await queryRunningInstances(db, readQuery(query))) found.add(id);
    if (!found.size) throw new ValidationError('未指定流程实例 / process instance ids is empty');
    return [...found];
  }

  return {
    /** POST /migration/generate: Camunda's plan of equal activity ids. */
    async generate(body: Record<string, unknown>, principal: Principal) {
      assertAdmin(principal);
      const { source, target, shapes } = await loadPair(body.sourceProcessDefinitionId, body.targetProcessDefinitionId);
      if (body.updateEventTriggers !== undefined && typeof body.updateEventTriggers !== 'boolean') {
        throw new ValidationError('updateEventTriggers 必须是布尔值 / updateEventTriggers must be a boolean');
      }
      parseVariables(body.variables, 'variables');
      return {
        sourceProcessDefinitionId: source.id, targetProcessDefinitionId: target.id,
        instructions: generatePlan(shapes.source, shapes.target, body.updateEventTriggers === true),
        variables: body.variables ?? null,
      };
    },

    /**
     * POST /migration/validate: Camunda's report of the plan. With
     * `processInstanceIds` or `processInstanceQuery` (ours; Camunda checks
     * instances only when executing), each named instance's report too.
     */
    async validate(body: Record<string, unknown>, principal: Principal) {
      assertAdmin(principal);
      const p = await checkPlan(body.migrationPlan);
      const { reports, general } = planReport(p);
      const result: Record<string, unknown> = { instructionReports: reports, variableReports: {} };
      if (general.length) result.failures = general;
      if (body.processInstanceIds != null || body.processInstanceQuery != null) {
        const ids = await instancesOf(body);
        const reportsOf = await Promise.all(ids.map(async (id) => {
          const instance = await readInstance(db, id);
          return instance ? instanceReport(db, p, instance) : null;
        }));
        result.processInstanceReports = reportsOf.filter((r) => r && hasFailures(r));
      }
      return result;
    },

    /**
     * POST /migration/execute: every instance checked first (one refused,
     * nothing migrated: Camunda's 400), then each moved in its own transaction.
     */
    async execute(body: Record<string, unknown>, principal: Principal): Promise<void> {
      assertAdmin(principal);
      checkExecuteFlags(body);
      const p = await checkPlan(body.migrationPlan);
      assertValidPlan(p);
      const ids = await instancesOf(body);
      for (const id of ids) {
        const instance = await readInstance(db, id);
        const report = instance ? await instanceReport(db, p, instance) : null;
        if (!instance) throw new ValidationError(`流程实例不存在 / process instance ${id} does not exist`);
        if (report && hasFailures(report)) throw instanceRefused(report);
      }
      const done: string[] = [];
      for (const id of ids) {
        const failed = await db.transaction((trx) => migrateOne(trx, p, id, principal));
        if (failed) {
          throw new ConflictError(`流程实例 ${id} 在迁移时已变化，已迁移 ${done.length} 个 / process instance ${id} changed during the migration; ${done.length} migrated before it: ${done.join(', ')}`, { validationReport: failed });
        }
        done.push(id);
      }
    },

    checkPlan, assertValidPlan, instancesOf, migrateOne, instanceRefused,
  };
}

export type MigrationService = ReturnType<typeof makeMigrationService>;

/** Camunda's MigratingProcessInstanceValidationException, naming the first failure. */
function instanceRefused(report: InstanceReport): MigrationValidationError {
  const first = report.failures[0] ?? report.activityInstanceValidationReports[0]?.failures[0];
  return new MigrationValidationError(
    `无法迁移流程实例 ${report.processInstanceId} / Cannot migrate process instance '${report.processInstanceId}': ${first}`,
    report, 'MigratingProcessInstanceValidationException',
  );
}

/** skipCustomListeners and skipIoMappings: migration here runs no listener or mapping (nothing starts or ends), so either value is honoured. */
export function checkExecuteFlags(body: Record<string, unknown>): void {
  const known = new Set(['migrationPlan', 'processInstanceIds', 'processInstanceQuery', 'skipCustomListeners', 'skipIoMappings']);
  const unknown = Object.keys(body).filter((k) => !known.has(k));
  if (unknown.length) throw new ValidationError(`不支持的字段 ${unknown.join(', ')} / unsupported fields: ${unknown.join(', ')}`);
  for (const flag of ['skipCustomListeners', 'skipIoMappings']) {
    if (body[flag] !== undefined && body[flag] !== null && typeof body[flag] !== 'boolean') throw new ValidationError(`${flag} 必须是布尔值 / ${flag} must be a boolean`);
  }
}

function readInstruction(raw: unknown, n: number): MigrationInstruction {
  const i = (raw ?? {}) as Record<string, unknown>;
  const ids = (name: string) => {
    const v = i[name];
    if (!Array.isArray(v) || !v.length || v.some((x) => typeof x !== 'string')) {
      throw new ValidationError(`instructions[${n}].${name} 必须是非空字符串数组 / instructions[${n}].${name} must be a non-empty array of activity ids`);
    }
    return v as string[];
  };
  if (i.updateEventTrigger !== undefined && typeof i.updateEventTrigger !== 'boolean') {
    throw new ValidationError(`instructions[${n}].updateEventTrigger 必须是布尔值 / instructions[${n}].updateEventTrigger must be a boolean`);
  }
  return { sourceActivityIds: ids('sourceActivityIds'), targetActivityIds: ids('targetActivityIds'), updateEventTrigger: i.updateEventTrigger === true };
}

/** The part of Camunda's process instance query migration takes; any other filter is refused rather than ignored. */
function readQuery(raw: unknown): InstanceFilter {
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) throw new ValidationError('processInstanceQuery 必须是对象 / processInstanceQuery must be an object');
  const q = raw as Record<string, unknown>;
  const allowed = ['processDefinitionId', 'processDefinitionKey', 'businessKey', 'processInstanceIds'];
  const unknown = Object.keys(q).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw new ValidationError(`processInstanceQuery 不支持 ${unknown.join(', ')}（支持 ${allowed.join(', ')}） / processInstanceQuery filters not supported here: ${unknown.join(', ')} (supported: ${allowed.join(', ')})`);
  }
  for (const k of ['processDefinitionId', 'processDefinitionKey', 'businessKey']) {
    if (q[k] !== undefined && typeof q[k] !== 'string') throw new ValidationError(`processInstanceQuery.${k} 必须是字符串 / must be a string`);
  }
  if (q.processInstanceIds !== undefined && (!Array.isArray(q.processInstanceIds) || q.processInstanceIds.some((x) => typeof x !== 'string'))) {
    throw new ValidationError('processInstanceQuery.processInstanceIds 必须是字符串数组 / must be an array of strings');
  }
  return {
    definitionId: q.processDefinitionId as string | undefined, definitionKey: q.processDefinitionKey as string | undefined,
    businessKey: q.businessKey as string | undefined, ids: q.processInstanceIds as string[] | undefined,
  };
}

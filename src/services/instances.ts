import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { startProcess } from '../engine/runner.ts';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { cancelOpenActivities, listActivities, type ActivityRow } from '../store/activities.ts';
import { waitingJoins } from '../engine/running-elements.ts';
import {
  countInstances, endCalledInstances, findInstance, insertInstance, listInstances, terminateInstance, touchInstance, type InstanceQuery, type InstanceRow,
} from '../store/instances.ts';
import { endOpenExternalTasksOfInstance } from '../store/external-tasks.ts';
import { deleteSubscriptionsOfInstance } from '../store/messages.ts';
import { deleteTimersOfInstance } from '../store/timers.ts';
import { endOpenTasksOfInstance, hasOpenTaskFor } from '../store/tasks.ts';
import { makeVariableChanges } from './conditions.ts';
import type { MessageStart } from '../engine/compile.ts';
import type { Db } from '../store/db.ts';
import type { DefinitionRow } from '../store/definitions.ts';
import { PUBLIC_USER, roleGroups, type FormField, type Principal, type Variables } from '../types.ts';
import { toLoaded, type DefinitionService } from './definitions.ts';
import type { Execution } from './execution.ts';
import { closeEverythingOf } from './persist-runs.ts';
import { runUserOf, type TraceService } from './trace.ts';
import { validateSubmission } from './forms.ts';
import { toEngineError } from './engine-errors.ts';
import { makeTaskListeners } from './task-listeners.ts';
import { dateNames, engineValues } from './variables.ts';
import { groupMembersFor } from './group-members.ts';
import { withDecisions } from './business-rule-tasks.ts';
import { assertDefinitionActive } from './suspension.ts';

export interface StartInput {
  businessKey?: string | null | undefined;
  variables: Variables;
  /** Read the variables back after the start (withVariablesInReturn). */
  returnVariables?: boolean | undefined;
}

export interface StartedInstance {
  instance: Omit<InstanceRow, 'engine_state'>;
  variables: Variables;
}

/** Process instances: start, look up, query. */
export function makeInstanceService(db: Knex, definitions: DefinitionService, execution: Execution, trace: TraceService) {
  const listeners = makeTaskListeners(db, definitions, execution);
  const variableChanges = makeVariableChanges(db, definitions, execution, trace);
  /**
   * Runs a new instance of `row` until it waits (and the children its call
   * activities start), for saveStart to save. Starts at the none start event,
   * or at `viaMessage`.
   */
  async function prepareStart(row: DefinitionRow, input: StartInput, principal: Principal, viaMessage?: MessageStart) {
    const def = toLoaded(row);
    // Messages, signals and timers are delivered by workers or the server; a person starting by hand needs the right.
    if (!viaMessage) assertMayStart(row, principal);
    // Message, signal and conditional starts never find a suspended definition (store/definitions.ts); a timer start waits.
    assertDefinitionActive(row);
    if (!row.startable && !viaMessage) {
      throw new ValidationError(`流程 ${row.key} 没有空启动事件，不能直接启动 / process ${row.key} has no none start event and cannot be started directly`);
    }
    if (input.businessKey != null && (typeof input.businessKey !== 'string' || input.businessKey.length > 255)) {
      throw new ValidationError('businessKey 必须是不超过 255 字符的文本 / businessKey must be a string of at most 255 characters');
    }
    const startForm = !viaMessage && row.start_event_id ? def.forms[row.start_event_id] : undefined;
    const variables = startForm ? validateSubmission(startForm, input.variables) : input.variables;
    const id = randomUUID();
    const variant = viaMessage?.compiled ? viaMessage.eventId : null;
    // A timer or conditional start's form starts like a none start; messages and signals are delivered.
    const deliver = viaMessage && viaMessage.kind !== 'timer' && viaMessage.kind !== 'conditional' ? viaMessage.messageId : undefined;
    const info = { processInstanceId: id, businessKey: input.businessKey ?? null, processDefinitionId: def.id, user: runUserOf(principal), dates: dateNames(variables) };
    const members = await groupMembersFor(db, def);
    const run = await withDecisions(db, def, variables, (decisions) => startProcess(def.compiledFor(variant), {
      variables: engineValues(variables), messageId: deliver, now: execution.engineNow(), zone: execution.zone, execution: info, members, decisions,
    })).catch((err) => {
      throw toEngineError(err);
    });
    const ctx = {
      instanceId: id, definitionId: def.id, definitionKey: def.key, businessKey: input.businessKey ?? null, sensitive: def.sensitive,
      variables, setByCaller: variables,
    };
    const created = {
      id, definition_id: def.id, definition_key: def.key, business_key: input.businessKey ?? null, tenant_id: row.tenant_id,
      start_user_id: principal.userId, end_reason: null, start_event_id: variant,
    };
    // The children its call activities start run now, and are saved with it (call-activities.ts).
    const steps = await execution.calls.plan({ ctx, run, open: [], created }, principal).catch((err) => {
      throw toEngineError(err);
    });
    return { id, def, variables, input, viaMessage, steps };
  }
  type PreparedStart = Awaited<ReturnType<typeof prepareStart>>;

  /** Saves a prepared start and all it did, with its trace row, in `trx`. */
  async function saveStart(trx: Db, p: PreparedStart, principal: Principal): Promise<StartedInstance['instance']> {
    const inserted = (await execution.calls.save(trx, p.steps, principal))!.get(p.id)!;
    await trace.record(trx, principal, {
      operation: 'Create', entityType: 'ProcessInstance', entityId: p.id, processInstanceId: p.id,
      details: {
        processDefinitionId: p.def.id, processDefinitionKey: p.def.key, businessKey: p.input.businessKey ?? null,
        variables: Object.keys(p.variables), ...(p.viaMessage ? { startedBy: `${p.viaMessage.kind ?? 'message'}:${p.viaMessage.messageName}` } : {}),
      },
    });
    return inserted;
  }

  /** Runs a new instance of `row` until it waits, then saves it and all it did in one transaction. */
  async function startDefinition(
    row: DefinitionRow, input: StartInput, principal: Principal, viaMessage?: MessageStart,
    afterSave?: (trx: Db, instanceId: string) => Promise<void>,
  ): Promise<StartedInstance> {
    const prepared = await prepareStart(row, input, principal, viaMessage);
    const instance = await db.transaction(async (trx) => {
      const inserted = await saveStart(trx, prepared, principal);
      await afterSave?.(trx, prepared.id);
      return inserted;
    });
    return { instance, variables: input.returnVariables ? await execution.vault.load(db, prepared.id, prepared.def.sensitive) : {} };
  }

  /** Starts several instances in one command: all are run first, then saved in one transaction, or none is. */
  async function startAll(starts: { row: DefinitionRow; input: StartInput; via?: MessageStart }[], principal: Principal): Promise<StartedInstance['instance'][]> {
    const prepared: PreparedStart[] = [];
    for (const s of starts) prepared.push(await prepareStart(s.row, s.input, principal, s.via));
    return db.transaction(async (trx) => {
      const saved: StartedInstance['instance'][] = [];
      for (const p of prepared) saved.push(await saveStart(trx, p, principal));
      return saved;
    });
  }

  /**
   * Deleting a called instance alone is refused: Camunda 7 would then cancel
   * the call activity in the caller and end the caller when nothing else of
   * it runs, which this server does not do; delete the calling instance.
   */
  async function refuseCalledInstance(row: InstanceRow): Promise<void> {
    if (!row.super_process_instance_id) return;
    const caller = await findInstance(db, row.super_process_instance_id);
    if (caller?.state !== 'ACTIVE') return;
    throw new ValidationError(`流程实例 ${row.id} 由流程实例 ${caller.id} 的调用活动启动，不能单独删除；请删除调用它的实例 / process instance ${row.id} was called by a call activity of process instance ${caller.id} and cannot be deleted alone; delete the calling instance`);
  }

  async function visibleInstance(id: string, principal: Principal): Promise<Omit<InstanceRow, 'engine_state'>> {
    const [row] = await listInstances(db, { ids: [id], visibleTo: visibility(principal) });
    if (!row) throw new NotFoundError(`流程实例不存在 / no process instance with id ${id}`);
    return row;
  }

  /**
   * Ends a running instance from outside (a delete, 终止): its tasks,
   * external tasks, timers, subscriptions and called children end with it
   * in one transaction, traced as `operation` with the reason.
   */
  async function endInstance(id: string, reason: string | null, principal: Principal, skipCustomListeners: boolean, operation: 'Delete' | 'Terminate', afterSave?: (trx: Db) => Promise<void>): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      const row = await findInstance(db, id);
      if (!row || row.state !== 'ACTIVE') throw new NotFoundError(`流程实例不存在或已结束 / no running process instance with id ${id}`);
      await refuseCalledInstance(row);
      // Camunda runs the tasks' delete and the process's end listeners unless told to skip them.
      const effects = skipCustomListeners ? null : await listeners.deletion(row, principal);
      const done = await db.transaction(async (trx) => {
        if (!(await terminateInstance(trx, id, row.rev, reason))) return false;
        await afterSave?.(trx);
        await effects?.(trx);
        await endOpenTasksOfInstance(trx, id);
        await endOpenExternalTasksOfInstance(trx, id);
        await deleteSubscriptionsOfInstance(trx, id);
        await deleteTimersOfInstance(trx, id);
        await cancelOpenActivities(trx, id);
        // The instances its call activities called are deleted with it, theirs too (as Camunda's cascade).
        for (const child of await endCalledInstances(trx, [{ instanceId: id, executionIds: null }], 'EXTERNALLY_TERMINATED', reason)) {
          await closeEverythingOf(trx, child);
        }
        if (operation === 'Terminate') {
          await execution.events.terminated(trx, { id, definitionId: row.definition_id, businessKey: row.business_key, initiator: row.start_user_id }, { userId: principal.userId, reason: reason ?? '' });
        }
        await trace.record(trx, principal, { operation, entityType: 'ProcessInstance', entityId: id, processInstanceId: id, details: { reason } });
        return true;
      });
      if (done) return;
      if (attempt >= 5) throw new ConflictError(`流程实例并发修改过多，请重试 / process instance ${id} keeps changing; retry`);
    }
  }

  return {
    startDefinition,
    startAll,
    async start(definitionId: string, input: StartInput, principal: Principal): Promise<StartedInstance> {
      return startDefinition(await definitions.get(definitionId), input, principal);
    },
    /**
     * The start form's fields of a definition, for a caller who may start it
     * (ForbiddenError otherwise, as the start itself would answer).
     */
    async startForm(definitionId: string, principal: Principal): Promise<FormField[]> {
      const row = await definitions.get(definitionId);
      assertMayStart(row, principal);
      return (row.start_event_id && toLoaded(row).forms[row.start_event_id]) || [];
    },
    /** Starts the latest version of `key`. */
    async startByKey(key: string, input: StartInput, principal: Principal): Promise<StartedInstance> {
      return startDefinition(await definitions.getLatest(key), input, principal);
    },

    get: visibleInstance,

    async list(query: Omit<InstanceQuery, 'visibleTo'>, principal: Principal) {
      return listInstances(db, { ...query, visibleTo: visibility(principal) });
    },

    async count(query: Omit<InstanceQuery, 'visibleTo'>, principal: Principal): Promise<number> {
      return countInstances(db, { ...query, visibleTo: visibility(principal) });
    },

    async variables(id: string, principal: Principal): Promise<Variables> {
      const row = await visibleInstance(id, principal);
      return execution.vault.load(db, id, (await definitions.load(row.definition_id)).sensitive);
    },

    /**
     * Sets and deletes variables of a running instance. Administrators may,
     * and so may anyone with an open task in it: they are working on it.
     */
    async modifyVariables(id: string, change: { modifications: Variables; deletions: string[] }, principal: Principal, afterSave?: (trx: Db) => Promise<void>): Promise<void> {
      const row = await visibleInstance(id, principal);
      if (row.state !== 'ACTIVE') throw new NotFoundError(`流程实例已结束 / process instance ${id} has ended`);
      if (!principal.isAdmin && !(await hasOpenTaskFor(db, id, principal))) {
        throw new ForbiddenError('只有管理员或有待办任务的人可以修改变量 / only administrators or people with an open task may change variables');
      }
      const { sensitive } = await definitions.load(row.definition_id);
      const deleted = change.deletions.filter((n) => !(n in change.modifications));
      await variableChanges.changeVariables({
        instanceId: id, definitionId: row.definition_id, sensitive, modifications: change.modifications, deletions: deleted, actor: principal,
        fact: { operation: 'ModifyVariables', entityType: 'ProcessInstance', entityId: id, details: { set: Object.keys(change.modifications), deleted } }, afterSave,
      });
    },

    /** Deletes (cancels) a running instance: its open tasks end as deleted, history stays. Administrators only. */
    async remove(id: string, reason: string | null, principal: Principal, skipCustomListeners = false, afterSave?: (trx: Db) => Promise<void>): Promise<void> {
      assertAdmin(principal);
      await endInstance(id, reason, principal, skipCustomListeners, 'Delete', afterSave);
    },

    /**
     * 终止 (terminate, docs/instance-operations.md): the initiator, the office
     * or administrators end a running instance with a reason. Everything open
     * ends as a delete does; the instance stays in history as
     * EXTERNALLY_TERMINATED with the reason as its deleteReason.
     */
    async terminate(id: string, reason: unknown, principal: Principal): Promise<void> {
      if (typeof reason !== 'string' || !reason.trim() || reason.length > 4000) {
        throw new ValidationError('终止需要原因 reason（1 到 4000 字符）/ terminate needs a reason of 1 to 4000 characters');
      }
      const row = await visibleInstance(id, principal);
      if (row.state !== 'ACTIVE') throw new NotFoundError(`流程实例已结束 / process instance ${id} has ended`);
      if (!principal.isAdmin && !principal.groups.includes('office') && row.start_user_id !== principal.userId) {
        throw new ForbiddenError('只有发起人、办公室或管理员可以终止流程 / only the initiator, the office or administrators may terminate an instance');
      }
      await endInstance(id, reason.trim(), principal, false, 'Terminate');
    },

    /** The elements active right now, as Camunda's activity-instance tree (flat below the process). */
    async activityTree(id: string, principal: Principal) {
      const row = await visibleInstance(id, principal);
      const open: Pick<ActivityRow, 'activity_id' | 'execution_id' | 'activity_type' | 'activity_name'>[] = (await listActivities(db, id)).filter((a) => !a.end_time);
      // A join holding tokens has no open history row; Camunda shows it as an activity instance of the gateway.
      const joins = waitingJoins((await findInstance(db, id))?.engine_state);
      return { instance: row, open: [...open, ...joins.map((j) => ({ activity_id: j.activityId, execution_id: j.executionId, activity_type: j.activityType, activity_name: null }))] };
    },
  };
}

/** Administrators see everything; others see what they started or took part in. */
export function visibility(principal: Principal): InstanceQuery['visibleTo'] {
  return principal.isAdmin ? undefined : { userId: principal.userId, groups: principal.groups };
}

/**
 * Deny by default: administrators may start anything; workers (machines)
 * start nothing by hand; a person may start a process whose diagram names
 * one of their groups (or them) as candidate starters, or, when it names
 * none, any process if they belong to one of the organisation's roles.
 */
export function assertMayStart(row: Pick<DefinitionRow, 'key' | 'starter_groups' | 'starter_users' | 'is_public'>, principal: Principal): void {
  if (principal.isAdmin) return;
  // The internet zone's one principal starts what the diagram opened to the public, and nothing else.
  if (principal.userId === PUBLIC_USER) {
    if (row.is_public) return;
    throw new ForbiddenError(`流程 ${row.key} 不对公众开放 / process ${row.key} is not public`);
  }
  const allowed = row.starter_groups || row.starter_users
    ? (row.starter_groups ?? []).some((g) => principal.groups.includes(g)) || (row.starter_users ?? []).includes(principal.userId)
    : roleGroups.some((g) => principal.groups.includes(g.id));
  if (!allowed) throw new ForbiddenError(`无权发起流程 ${row.key} / you may not start process ${row.key}`);
}

/** assertMayStart as a definition filter (`startablePermissionCheck`); undefined for administrators, who may start anything. */
export function startableBy(principal: Principal): { userId: string; groups: string[]; anyRole: boolean } | undefined {
  if (principal.isAdmin) return undefined;
  return { userId: principal.userId, groups: principal.groups, anyRole: roleGroups.some((g) => principal.groups.includes(g.id)) };
}

export function assertAdmin(principal: Principal): void {
  if (!principal.isAdmin) throw new ForbiddenError('需要管理员权限 / administrator rights required');
}

export type InstanceService = ReturnType<typeof makeInstanceService>;

import { findPostponed, walkPostponed } from './recorder.ts';
import { EngineRunError } from './run-error.ts';
import { setUpRun, settleConditions, type RunParts } from './run-parts.ts';
import { finish, guard, settle, type EngineRun, type SignalInput } from './runner.ts';
import { sandboxReady } from './sandbox.ts';
import { hydrateState } from './state.ts';

/*
 * Process instance modification (Camunda 7's `POST /process-instance/{id}/modification`)
 * inside one engine run: the saved instance is recovered and resumed, then each
 * instruction is applied in order on the process scope. bpmn-elements has no
 * modification of its own; what it offers is used as its own runs use it:
 * - cancel: the element's api `discard`, with its leave told to take no
 *   outbound flow (`ignoreOutbound`, what the event-based gateway uses), so the
 *   token is removed, not passed on as a discard down the path (which would
 *   let a parallel join fire where Camunda's keeps waiting);
 *   A parallel join's waiting tokens are acknowledged away (cancelWaitingJoin);
 * - startBefore: the process scope's child element `run()`, as an event
 *   sub-process start is run (event-subprocesses.ts);
 * - startTransition (and startAfter, its one outgoing flow): the flow's
 *   `take()`, which reaches its target as any token does (a join counts it).
 * While the instructions run, a placeholder keeps the process scope from
 * completing when its last token is cancelled: Camunda decides at the end,
 * ending the instance (as deleted) only if nothing was started again.
 * Only the process scope is modified: what lies inside an embedded
 * sub-process or a multi-instance body is refused (ModificationRefused), as
 * the engine would not instantiate the enclosing scopes as Camunda does.
 */

export type EngineInstruction =
  | { type: 'cancel'; activityId?: string | undefined; executionId?: string | undefined; onlyBefore: boolean }
  | { type: 'startBeforeActivity'; activityId: string; variables: Record<string, unknown> }
  | { type: 'startAfterActivity'; activityId: string; variables: Record<string, unknown> }
  | { type: 'startTransition'; transitionId: string; variables: Record<string, unknown> };

/** An instruction the engine cannot apply exactly as Camunda would: answered 400, naming it. */
export class ModificationRefused extends EngineRunError {
  override name = 'ModificationRefused';
  constructor(readonly index: number, message: string, activityId = '') {
    super(message, activityId);
  }
}

export interface ModifyInput extends Omit<SignalInput, 'activityId' | 'executionId' | 'action' | 'changes'> {
  instructions: EngineInstruction[];
}

/** What a modification did: the run to persist, and whether the instance ended because everything was cancelled. */
export interface ModificationRun extends EngineRun {
  /** Everything was cancelled and nothing started: the instance ends as deleted (Camunda's rule). */
  cancelledAll: boolean;
}

const kElements = Symbol.for('elements');
const kFlows = Symbol.for('flows');
const HOLD_ID = '__modification__';

/** Recovers a saved instance, applies the instructions in order, and runs on until it waits again. */
export async function modifyInstance(def: { id: string; compiled: string }, input: ModifyInput): Promise<ModificationRun> {
  await sandboxReady();
  const run = await setUpRun(def, {
    saved: { state: input.state, open: input.openExecutions },
    now: input.now, zone: input.zone, execution: input.execution, members: input.members, decisions: input.decisions,
  });
  const { engine, recorder, scripts } = run;
  engine.recover(hydrateState(input.state, input.variables));
  let cancelledAll = false;
  await guard(run, async () => {
    await engine.resume({ listener: recorder.listener });
    await scripts.quiescent();
    const proc = runningProcess(engine);
    const scope = proc?.execution;
    if (!scope?.[kElements]) throw new ModificationRefused(0, '流程实例未在运行 / the process instance is not running');
    const postponed: Set<any> = scope[kElements].postponed;
    const hold = { content: { id: HOLD_ID, executionId: HOLD_ID, isSequenceFlow: true, sequenceId: HOLD_ID }, fields: { routingKey: 'modification.hold' }, properties: {}, ack() {} };
    postponed.add(hold);
    const state = { lastWasCancel: false, started: new Set<string>() };
    recorder.listener.on('activity.end', (api) => {
      if (api.owner?.parent?.id === proc.id || api.content?.parent?.id === proc.id) state.lastWasCancel = false;
    });
    for (const [index, instruction] of input.instructions.entries()) {
      applyInstruction(run, proc, index, instruction, input.openExecutions, state);
      await scripts.quiescent();
      if (run.budget.failure) return;
    }
    postponed.delete(hold);
    if (postponed.size === 0) {
      if (state.lastWasCancel) cancelledAll = true;
      else scope._complete('completed');
    }
    await settleConditions(run);
  });
  if (cancelledAll) {
    engine.stop();
    return { ...(await finish(run, true)), cancelledAll: true };
  }
  settle(engine, recorder);
  return { ...(await finish(run)), cancelledAll: false };
}

function runningProcess(engine: any): any {
  for (const definition of engine.execution?.definitions ?? []) {
    const [proc] = definition.getRunningProcesses?.() ?? [];
    if (proc) return proc;
  }
  return undefined;
}

type Progress = { lastWasCancel: boolean; started: Set<string> };

function applyInstruction(run: RunParts, proc: any, index: number, instruction: EngineInstruction, before: ReadonlySet<string>, state: Progress): void {
  const scope = proc.execution;
  if (instruction.type === 'cancel') {
    if (cancelWaitingJoin(scope, instruction)) {
      state.lastWasCancel = true;
      return;
    }
    const targets = cancelTargets(scope, index, instruction, before);
    for (const api of targets) {
      leaveWithoutOutbound(scope.getActivityById(api.id), api.executionId, () => {
        state.lastWasCancel = true;
      });
      api.discard();
    }
    return;
  }
  const known = (id: string) => Boolean(scope.getActivityById(id) ?? proc.context?.getActivityById?.(id));
  if (instruction.type !== 'startTransition' && !known(instruction.activityId)) {
    throw new ModificationRefused(index, `流程中没有活动 ${instruction.activityId} / the process has no activity ${instruction.activityId}`, instruction.activityId);
  }
  Object.assign(proc.environment.variables, instruction.variables);
  if (instruction.type === 'startBeforeActivity') {
    const activity = scope.getActivityById(instruction.activityId);
    if (!activity) throw new ModificationRefused(index, `活动 ${instruction.activityId} 不在流程的顶层（子流程内的活动不支持）/ activity ${instruction.activityId} is not an element of the process scope (starting inside an embedded sub-process or a multi-instance body is not supported)`, instruction.activityId);
    refuseStart(index, activity);
    activity.run();
    return;
  }
  const flow = instruction.type === 'startTransition' ? scope.getSequenceFlows().find((f: any) => f.id === instruction.transitionId) : onlyOutbound(scope, index, instruction.activityId);
  const flowId = instruction.type === 'startTransition' ? instruction.transitionId : '';
  if (!flow) throw new ModificationRefused(index, `顺序流 ${flowId} 不在流程的顶层 / sequence flow ${flowId} is not a flow of the process scope`);
  const target = scope.getActivityById(flow.targetId);
  if (target?.isRunning && !isJoin(target)) {
    throw new ModificationRefused(index, `活动 ${flow.targetId} 已有运行中的实例；本引擎一个元素同一时刻只运行一个实例 / activity ${flow.targetId} already has an active instance; this engine runs one instance of an element at a time`, flow.targetId);
  }
  flow.take({ sequenceId: `${flow.id}_modification_${index}` });
}

/** startAfterActivity: Camunda takes the element's one outgoing sequence flow, and refuses an element with none or several. */
function onlyOutbound(scope: any, index: number, activityId: string): any {
  if (!scope.getActivityById(activityId)) {
    throw new ModificationRefused(index, `活动 ${activityId} 不在流程的顶层 / activity ${activityId} is not an element of the process scope`, activityId);
  }
  const flows = scope.getSequenceFlows().filter((f: any) => f.sourceId === activityId);
  if (flows.length !== 1) {
    throw new ModificationRefused(index, `活动 ${activityId} 有 ${flows.length} 条出口顺序流，startAfterActivity 需要恰好一条 / activity ${activityId} has ${flows.length} outgoing sequence flows; startAfterActivity needs exactly one`, activityId);
  }
  return flows[0];
}

/**
 * What a cancel instruction names among the elements running now in the
 * process scope (a multi-instance activity as its whole body), refusing
 * what lies below it: an element of a sub-process, one iteration.
 */
function cancelTargets(scope: any, index: number, instruction: Extract<EngineInstruction, { type: 'cancel' }>, before: ReadonlySet<string>): any[] {
  const top = scope.getPostponed().filter((api: any) => !api.content?.isSequenceFlow && scope.getActivityById(api.id));
  if (instruction.executionId) {
    const api = top.find((a: any) => a.executionId === instruction.executionId);
    if (api) return [api];
    const nested = findPostponed(scope.getPostponed(), instruction.executionId);
    if (!nested) throw new ModificationRefused(index, `活动实例 ${instruction.executionId} 不在运行 / activity instance ${instruction.executionId} is not active`);
    throw new ModificationRefused(index, `活动实例 ${instruction.executionId} 在子流程或多实例内，不能单独取消 / activity instance ${instruction.executionId} lies inside a sub-process or multi-instance body and cannot be cancelled alone here`, nested.id);
  }
  const activityId = instruction.activityId!;
  if (!scope.getActivityById(activityId) && walkPostponed(scope.getPostponed()).some((api) => api.id === activityId)) {
    throw new ModificationRefused(index, `活动 ${activityId} 在子流程内，不能单独取消 / activity ${activityId} lies inside a sub-process and cannot be cancelled alone here`, activityId);
  }
  const targets = top.filter((api: any) => api.id === activityId && (!instruction.onlyBefore || before.has(api.executionId)));
  if (!targets.length) throw new ModificationRefused(index, `活动 ${activityId} 没有运行中的实例 / activity ${activityId} has no active instance to cancel`, activityId);
  return targets;
}

/**
 * A cancel naming a parallel join that holds tokens while it waits for its
 * other branches (Camunda's waiting join executions): the tokens are
 * removed, so the join waits for every branch again. bpmn-elements keeps
 * them unacknowledged in the join's `inboundJoinFlows`; acknowledging takes
 * them off its inbound queue, and so out of the saved state.
 */
function cancelWaitingJoin(scope: any, instruction: Extract<EngineInstruction, { type: 'cancel' }>): boolean {
  // By activity instance, a waiting join's id is `join:join` (running-elements.ts: its execution id is its own id).
  const id = instruction.activityId ?? instruction.executionId;
  const activity = id ? scope.getActivityById(id) : undefined;
  const held: Set<any> | undefined = activity?.[kFlows]?.inboundJoinFlows;
  if (!held?.size || activity.isRunning) return false;
  for (const message of held) message.ack();
  held.clear();
  // The process scope also keeps the taken inbound flows as postponed until
  // the join consumes them; left there, a join cancelled as the last thing
  // running left an instance with nothing to run that never ended.
  const postponed: Set<any> = scope[kElements].postponed;
  for (const message of [...postponed]) {
    if (message.content?.isSequenceFlow && message.content?.targetId === activity.id) postponed.delete(message);
  }
  return true;
}

/** Elements a startBeforeActivity cannot start here exactly as Camunda does. */
function refuseStart(index: number, activity: any): void {
  const why = activity.isRunning ? '已有运行中的实例；本引擎一个元素同一时刻只运行一个实例 / already has an active instance; this engine runs one instance of an element at a time'
    : activity.type === 'bpmn:BoundaryEvent' ? '是边界事件 / is a boundary event'
      : activity.triggeredByEvent ? '是事件子流程 / is an event sub-process'
        : activity.isForCompensation ? '是补偿处理 / is a compensation handler'
          : isJoin(activity) ? '是汇聚网关，请用 startTransition / is a joining gateway; use startTransition to add a token to it'
            : null;
  if (why) throw new ModificationRefused(index, `活动 ${activity.id} ${why}`, activity.id);
}

function isJoin(activity: any): boolean {
  const inbound = activity.context?.getInboundSequenceFlows?.(activity.id) ?? [];
  return /Gateway$/.test(activity.type) && activity.type !== 'bpmn:ExclusiveGateway' && inbound.length > 1;
}

/**
 * Makes the element's next discarded leave (of `executionId`) take no
 * outbound flow; bpmn-elements reads `ignoreOutbound` from the leaving
 * message (Activity._doRunLeave). The patch removes itself once used.
 */
function leaveWithoutOutbound(activity: any, executionId: string, onLeave: () => void): void {
  const original = activity._doRunLeave;
  activity._doRunLeave = function patched(this: any, message: any, isDiscarded: boolean, onOutbound: () => void) {
    if (isDiscarded && message.content?.executionId === executionId) {
      delete activity._doRunLeave;
      message.content.ignoreOutbound = true;
      onLeave();
    }
    return original.call(this, message, isDiscarded, onOutbound);
  };
}

import type { ModdleElement } from 'bpmn-moddle';
import { eachElement } from './flow-elements.ts';
import { JAVASCRIPT } from './scripts.ts';
import { findSyntaxError } from './expressions.ts';
import type { TimerSpec } from './schedule.ts';
import { timerSpecOf } from './task-timeouts.ts';

/**
 * Only inline JavaScript runs, and only in the QuickJS sandbox. Any other
 * script format (groovy, python, juel scripts...) or a script kept in an
 * external resource is refused at deployment, naming the element, instead of
 * failing (or being skipped) when an instance reaches it. Of the scripts in
 * extensions, only start/end execution listeners on flow nodes and the
 * process and create/assignment/complete/delete/timeout task listeners on user tasks
 * run (camunda-extension.ts, process-listeners.ts, task-listeners.ts, task-timeouts.ts);
 * take listeners on flows (save into joins and out of event-based gateways);
 * the others (input/output parameter scripts) are refused in any language until they run.
 */
export function checkScripts(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const refuse = (element: ModdleElement, what: { zh: string; en: string }, format: unknown, resource: unknown, body: unknown) => {
    const id = String(element.id);
    if (resource) {
      problems.push({ elementId: id, message: `${id} 的${what.zh}引用外部资源 ${String(resource)}，不受支持 / the ${what.en} of ${id} names an external resource (${String(resource)}); only inline scripts are run` });
    } else if (typeof format !== 'string' || !JAVASCRIPT.test(format)) {
      problems.push({ elementId: id, message: `${id} 的${what.zh}语言 ${String(format ?? '(无 / none)')} 不受支持，只能用 javascript / the ${what.en} of ${id} is in ${String(format ?? 'no language')}; only javascript is run` });
    } else if (typeof body !== 'string' || !body.trim()) {
      problems.push({ elementId: id, message: `${id} 的${what.zh}为空 / the ${what.en} of ${id} is empty` });
    }
  };
  const visit = (element: ModdleElement) => {
    if (element.$type === 'bpmn:ScriptTask') {
      refuse(element, { zh: '脚本', en: 'script' }, element.scriptFormat, element.resource, element.script);
    }
    const condition = element.conditionExpression ?? element.condition;
    // A condition with a language is a script; without one it is a JUEL expression.
    if (condition?.language) refuse(element, { zh: '条件脚本', en: 'condition script' }, condition.language, condition.resource, condition.body);
    for (const d of (element.eventDefinitions ?? []) as ModdleElement[]) {
      if (d.condition?.language) refuse(element, { zh: '条件脚本', en: 'condition script' }, d.condition.language, d.condition.resource, d.condition.body);
    }
    // A script in an extension the adapter does not run would be accepted and then silently
    // skipped: refused until it runs (in the sandbox).
    for (const script of camundaScripts(element.extensionElements)) {
      const id = String(element.id);
      if (runsAsListener(element, script)) {
        refuse(element, { zh: '监听器脚本', en: 'listener script' }, script.scriptFormat, script.resource, script.value);
        continue;
      }
      const why = whyNotRun(element, script);
      problems.push({ elementId: id, message: `${id} 的监听器或输入输出参数脚本（${String(script.scriptFormat ?? '无语言')}）尚不支持运行${why ? `：${why.zh}` : ''} / the listener or input/output parameter script of ${id} (${String(script.scriptFormat ?? 'no language')}) is not run by this server yet${why ? ` (${why.en})` : ''}, so it is refused rather than skipped` });
    }
  };
  eachElement(processes, visit);
  return problems;
}

/**
 * A script the adapter runs (camunda-extension.ts): a `start` or `end`
 * execution listener directly on a flow node or on the process
 * (process-listeners.ts), a `create` or `complete` task listener on a user
 * task (`timeout` with one literal timer; `update`, fired by the REST changes
 * of the task: services/task-listeners.ts), execution listeners on a sequence
 * flow (`take`, see takeListenerRefusal), start/end listeners on a boundary
 * event (run when it fires, not when the engine starts listening). Not run
 * yet, so refused: listeners where the engine's lifecycle differs from
 * Camunda's: event sub-process start events (the engine enters them when it
 * starts listening) and multi-instance activities (Camunda runs them per
 * instance); and on a compensation boundary event, which Camunda never executes.
 */
export function runsAsListener(element: ModdleElement, script: ModdleElement): boolean {
  const listener = script.$parent as ModdleElement | undefined;
  if (listener?.$parent?.$parent !== element) return false;
  if (listener.$type === 'camunda:TaskListener') {
    if (element.$type !== 'bpmn:UserTask' || element.loopCharacteristics) return false;
    if (listener.event === 'timeout') return timeoutTimerOf(listener) != null;
    return RUN_TASK_EVENTS.has(listener.event) && !listener.eventDefinitions?.length;
  }
  if (listener.$type !== 'camunda:ExecutionListener') return false;
  // Camunda parses every execution listener on a flow as a take listener, whatever its event says.
  if (element.$type === 'bpmn:SequenceFlow') return !takeListenerRefusal(element);
  if (listener.event !== 'start' && listener.event !== 'end') return false;
  // The process's own run around the engine's (process-listeners.ts).
  if (element.$type === 'bpmn:Process') return true;
  // Run when it fires (camunda-extension.ts); a compensation boundary event is never executed in Camunda, its handler is.
  if (element.$type === 'bpmn:BoundaryEvent') return !isCompensationBoundary(element);
  if (element.$type === 'bpmn:StartEvent' && element.$parent?.triggeredByEvent) return false;
  return !element.loopCharacteristics;
}

/**
 * Why the take listeners of `flow` cannot run as Camunda runs them, or
 * undefined. They run when the element the flow leads to is entered
 * (camunda-extension.ts takeListeners), which is the moment of the take for
 * any element entered once per arriving token; a join is entered once for
 * all its tokens (Camunda runs each flow's listeners as its token arrives),
 * and an event-based gateway's flows are all taken by the engine when it
 * arms the events (Camunda takes none of them: the event that fires is
 * executed directly).
 */
export function takeListenerRefusal(flow: ModdleElement): { zh: string; en: string } | undefined {
  const source = flow.sourceRef as ModdleElement | undefined;
  const target = flow.targetRef as ModdleElement | undefined;
  if (source?.$type === 'bpmn:EventBasedGateway') {
    return { zh: '事件网关之后的连线在 Camunda 中不被“经过”，此处却会在等待时全部经过', en: 'a flow out of an event-based gateway is not taken in Camunda (the event that fires is run directly), while the engine here takes all of them when it waits' };
  }
  const siblings = ((flow.$parent?.flowElements ?? []) as ModdleElement[]);
  const incoming = siblings.filter((e) => e.$type === 'bpmn:SequenceFlow' && e.targetRef === target).length;
  if (target && JOINS.has(target.$type) && incoming > 1) {
    return { zh: '汇聚网关在所有令牌到齐时才进入，Camunda 则在每个令牌到达时运行其连线的 take 监听器', en: 'a joining gateway is entered once all its tokens are in, while Camunda runs each flow\'s take listeners as its token arrives' };
  }
  return undefined;
}

function isCompensationBoundary(element: ModdleElement): boolean {
  return element.$type === 'bpmn:BoundaryEvent' && ((element.eventDefinitions ?? []) as ModdleElement[]).some((d) => d.$type === 'bpmn:CompensateEventDefinition');
}

const JOINS = new Set(['bpmn:ParallelGateway', 'bpmn:InclusiveGateway', 'bpmn:ComplexGateway']);

/** Why a listener script is not run, for the refusal: the construct that would need what is missing. */
function whyNotRun(element: ModdleElement, script: ModdleElement): { zh: string; en: string } | undefined {
  const listener = script.$parent as ModdleElement | undefined;
  if (listener?.$type === 'camunda:TaskListener') {
    if (element.loopCharacteristics) return { zh: '多实例任务的监听器须按每个实例运行', en: 'on a multi-instance task Camunda runs it per instance' };
    if (listener.event === 'timeout') return { zh: 'timeout 监听器须有一个定时定义（timeDate、timeDuration 或 timeCycle），其值为有效的字面量或表达式', en: 'a timeout listener needs one timer definition (timeDate, timeDuration or timeCycle) with a valid literal value or expression' };
  }
  if (listener?.$type === 'camunda:ExecutionListener') {
    if (element.$type === 'bpmn:SequenceFlow') return takeListenerRefusal(element);
    if (isCompensationBoundary(element)) return { zh: 'Camunda 不执行补偿边界事件本身（只执行其补偿处理器），其监听器从不运行', en: 'Camunda never executes a compensation boundary event itself (only its handler), so its listeners would never run; put them on the handler' };
    if (element.loopCharacteristics) return { zh: 'Camunda 按每个实例运行多实例活动的监听器', en: 'Camunda runs the listeners of a multi-instance activity per instance' };
  }
  return undefined;
}

/** A timeout listener's one timer with a literal value (task-timeouts.ts arms it; check-timers.ts checks the value), or null. */
export function timeoutTimerOf(listener: ModdleElement): TimerSpec | null {
  const definitions = (listener.eventDefinitions ?? []) as ModdleElement[];
  if (definitions.length !== 1 || definitions[0]!.$type !== 'bpmn:TimerEventDefinition') return null;
  const spec = timerSpecOf(definitions[0]);
  // An expression is resolved when the task is created (task-timeouts.ts resolveTimeouts); it must parse now.
  return spec && !(/[$#]\{/.test(spec.expression) && findSyntaxError(spec.expression)) ? spec : null;
}

/** Task listener events run in the sandbox: in the engine run (camunda-extension.ts), or with a REST change of the task (services/task-listeners.ts). */
const RUN_TASK_EVENTS = new Set(['create', 'assignment', 'complete', 'delete', 'update']);

/** Every camunda:script in an element's extensions (listeners, input/output parameters), however deep. */
function camundaScripts(node: unknown, found: ModdleElement[] = [], depth = 0): ModdleElement[] {
  if (!node || typeof node !== 'object' || depth > 20) return found;
  if (Array.isArray(node)) {
    for (const item of node) camundaScripts(item, found, depth + 1);
    return found;
  }
  const element = node as ModdleElement;
  if (element.$type === 'camunda:Script') found.push(element);
  // `$`-keys are moddle's own (the parent link would walk back up the tree).
  for (const [key, value] of Object.entries(element)) {
    if (!key.startsWith('$')) camundaScripts(value, found, depth + 1);
  }
  return found;
}

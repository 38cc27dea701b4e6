import type { ModdleElement } from 'bpmn-moddle';
import { findSyntaxError } from './expressions.ts';

type Problem = { elementId: string; message: string };

/** Activities a conditional boundary event runs on as Camunda's (test/conformance/conditional.test.ts). */
const BOUNDARY_HOSTS = new Set(['bpmn:SubProcess', 'bpmn:UserTask', 'bpmn:ReceiveTask', 'bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask']);
const VARIABLE_EVENTS = new Set(['create', 'update', 'delete']);

/**
 * Conditional events run here as Camunda 7 runs them (conditional.ts) where
 * that was tried: intermediate catch events (also after an event-based
 * gateway) and boundary events on a task or an embedded sub-process, at
 * process level and inside embedded sub-processes, and process-level start
 * events (POST /condition). Refused at deployment, naming the element:
 * conditional events inside a multi-instance, event, ad-hoc sub-process or a
 * transaction, boundary events on a multi-instance or other activity (not verified), a
 * missing or unreadable condition (Camunda refuses it too) and
 * `camunda:variableEvents` other than create, update, delete.
 * An event sub-process's conditional start is check-event-subprocesses.ts's.
 */
export function checkConditionalEvents(processes: ModdleElement[]): Problem[] {
  const problems: Problem[] = [];
  const refuse = (e: ModdleElement, zh: string, en: string) => problems.push({ elementId: String(e.id), message: `${e.id}：${zh} / ${e.id}: ${en}` });
  const visit = (container: ModdleElement, nested: boolean, unverified: Scope | null) => {
    const elements = (container.flowElements ?? []) as ModdleElement[];
    for (const e of elements) {
      const definition = ((e.eventDefinitions ?? []) as ModdleElement[]).find((d) => d.$type === 'bpmn:ConditionalEventDefinition');
      // An event sub-process's conditional start is refused by check-event-subprocesses.ts; what is inside it is nested.
      const espStart = e.$type === 'bpmn:StartEvent' && container.triggeredByEvent;
      if (definition && !espStart) {
        if (unverified) refuse(e, `${unverified.zh}内的条件事件尚不支持`, `conditional events inside ${unverified.en} are not run yet`);
        checkOne(e, definition, nested, refuse);
      }
      if (e.flowElements) visit(e, true, unverified ?? scopeNotVerified(e));
    }
  };
  for (const proc of processes) visit(proc, false, null);
  return problems;
}

/**
 * Sub-processes whose conditional events are not verified: a multi-instance
 * one (Camunda evaluates them in each instance's scope, over its own
 * variables) and an event sub-process, a transaction or an ad-hoc one.
 */
type Scope = { zh: string; en: string };

function scopeNotVerified(e: ModdleElement): Scope | null {
  if (e.loopCharacteristics) return { zh: '多实例子流程', en: 'a multi-instance sub-process' };
  if (e.triggeredByEvent) return { zh: '事件子流程', en: 'an event sub-process' };
  if (e.$type !== 'bpmn:SubProcess') return { zh: String(e.$type), en: `a ${e.$type}` };
  return null;
}

type Refuse = (e: ModdleElement, zh: string, en: string) => void;

function checkOne(e: ModdleElement, definition: ModdleElement, nested: boolean, refuse: Refuse): void {
  if (e.$type === 'bpmn:StartEvent') {
    checkStart(e, definition, nested, refuse);
    return;
  }
  if (e.$type === 'bpmn:BoundaryEvent') {
    const host = e.attachedToRef as ModdleElement | undefined;
    if (!host || !BOUNDARY_HOSTS.has(host.$type) || host.loopCharacteristics) {
      refuse(e, '条件边界事件只能附在（非多实例的）任务或子流程上', 'conditional boundary events are run on (non multi-instance) user, receive and external tasks and embedded sub-processes only');
    }
  }
  const condition = definition.condition as ModdleElement | undefined;
  const body = typeof condition?.body === 'string' ? condition.body.trim() : '';
  if (!body && !condition?.resource) {
    refuse(e, '条件事件缺少条件', 'a conditional event needs a condition (Camunda refuses it too)');
  } else if (!condition?.language) {
    const error = findSyntaxError(body);
    if (error) refuse(e, `条件表达式错误：${error.message}`, `invalid condition expression: ${error.message}`);
    else if (!body.includes('${') && !body.includes('#{')) {
      refuse(e, '条件必须是 ${…} 表达式或脚本', 'the condition must be a ${…} expression or a script');
    }
  }
  const events = typeof definition.variableEvents === 'string' ? definition.variableEvents.split(',').map((s: string) => s.trim()).filter(Boolean) : [];
  const wrong = events.filter((v: string) => !VARIABLE_EVENTS.has(v));
  if (wrong.length) {
    refuse(e, `camunda:variableEvents 只能是 create、update、delete：${wrong.join(', ')}`, `camunda:variableEvents may name only create, update and delete, not ${wrong.join(', ')}`);
  }
}

/**
 * A process-level conditional start event is started by POST /condition
 * (services/condition-starts.ts), which evaluates a `${…}` condition over the
 * variables given. Refused: a script condition, and variableName or
 * variableEvents, which Camunda reads on variable changes, not there.
 */
function checkStart(e: ModdleElement, definition: ModdleElement, nested: boolean, refuse: Refuse): void {
  if (nested) {
    refuse(e, '只有流程级的条件启动事件可以运行', 'only a conditional start event of the process itself is run (POST /condition)');
    return;
  }
  const condition = definition.condition as ModdleElement | undefined;
  const body = typeof condition?.body === 'string' ? condition.body.trim() : '';
  if (condition?.language || condition?.resource) {
    refuse(e, '条件启动事件的条件只能是 ${…} 表达式', 'the condition of a conditional start event must be a ${…} expression; scripts are not evaluated by POST /condition here');
  } else if (!body) {
    refuse(e, '条件事件缺少条件', 'a conditional event needs a condition (Camunda refuses it too)');
  } else {
    const error = findSyntaxError(body);
    if (error) refuse(e, `条件表达式错误：${error.message}`, `invalid condition expression: ${error.message}`);
    else if (!body.startsWith('${') || !body.endsWith('}')) refuse(e, '条件必须是 ${…} 表达式', 'the condition must be one ${…} expression');
  }
  if (definition.variableName || definition.variableEvents) {
    refuse(e, '条件启动事件不支持 camunda:variableName / variableEvents', 'camunda:variableName and camunda:variableEvents are not supported on a conditional start event');
  }
}

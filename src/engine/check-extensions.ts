import type { ModdleElement } from 'bpmn-moddle';
import { eachElement } from './flow-elements.ts';
import { runsAsListener, takeListenerRefusal } from './check-scripts.ts';
import { findSyntaxError } from './expressions.ts';
import { ExpressionError, type Node } from './juel-parser.ts';
import { methodsOffered } from './juel-task.ts';

type Problem = { elementId: string; message: string };

/** Task types Camunda 7 runs through a delegate (class, delegateExpression, expression, connector) or an external worker. */
const SERVICE_LIKE = new Set(['bpmn:ServiceTask', 'bpmn:SendTask', 'bpmn:BusinessRuleTask']);

/**
 * Camunda extensions and BPMN constructs that this server cannot run as
 * Camunda 7 does are refused at deployment, naming the element, instead of
 * being accepted and then misbehaving when an instance reaches them (a Java
 * delegate that never runs, a listener skipped). Call activities are checked
 * by check-call-activity.ts. Scripts in listeners are reported by check-scripts.ts.
 */
export function checkExtensions(processes: ModdleElement[]): Problem[] {
  const problems: Problem[] = [];
  const refuse = (element: ModdleElement, zh: string, en: string) => {
    const id = String(element.id ?? element.$type);
    problems.push({ elementId: id, message: `${id}：${zh} / ${id}: ${en}` });
  };
  eachElement(processes, (element) => {
    checkDelegates(element, refuse);
    checkListeners(element, refuse);
    checkInputOutput(element, refuse);
  });
  return problems;
}

/** Task listener events whose expression form runs (camunda-extension.ts, task-creation.ts). */
const EXPRESSION_TASK_EVENTS = new Set(['create', 'assignment', 'complete', 'update', 'timeout', 'delete']);

type Refuse = (element: ModdleElement, zh: string, en: string) => void;

/** Java delegates, unexecuted expressions and connectors: nothing here would run them. */
function checkDelegates(element: ModdleElement, refuse: Refuse): void {
  const carriers = [element, ...((element.eventDefinitions ?? []) as ModdleElement[])];
  for (const c of carriers) {
    if (c.class) refuse(element, `Java 类 camunda:class="${c.class}" 无法在此运行`, `camunda:class="${c.class}" names a Java class; this server runs no Java`);
    if (c.delegateExpression) refuse(element, `camunda:delegateExpression="${c.delegateExpression}" 需要 Java 委托，无法在此运行`, `camunda:delegateExpression="${c.delegateExpression}" resolves to a Java delegate; this server runs no Java`);
    if (c.expression) refuse(element, `camunda:expression 不会被执行`, `camunda:expression="${c.expression}" would not be evaluated here; use camunda:type="external" and a worker`);
    if (c.type && c.type !== 'external') refuse(element, `camunda:type="${c.type}" 不受支持，只支持 external`, `camunda:type="${c.type}" is not supported; only external is`);
    if (c !== element && c.$type === 'bpmn:MessageEventDefinition' && c.type === 'external') {
      refuse(element, '消息抛出事件不能由外部任务实现', 'a message throw event implemented by an external worker (camunda:type="external") is not run here');
    }
  }
  const values = (element.extensionElements?.values ?? []) as ModdleElement[];
  if (values.some((v) => v.$type === 'camunda:Connector')) {
    refuse(element, 'camunda:connector（HTTP/SOAP 连接器）不受支持', 'camunda:connector (HTTP/SOAP connectors) is not run here; use camunda:type="external" and a worker');
  }
  // Camunda 7 refuses a service-like task with no implementation ("One of the attributes 'class', ... is mandatory").
  if (SERVICE_LIKE.has(element.$type) && !element.class && !element.delegateExpression && !element.expression && !element.type && !element.decisionRef
    && !values.some((v) => v.$type === 'camunda:Connector')) {
    refuse(element, '服务类任务缺少实现，请使用 camunda:type="external"', `${element.$type.slice(5)} has no implementation; give it camunda:type="external" and a camunda:topic for a worker`);
  }
}

/**
 * Script listeners run here (check-scripts.ts decides which), and listeners in expression form
 * wherever their script form runs (camunda-extension.ts), where a script listener would run; any
 * other form would be skipped, so it is refused.
 */
function checkListeners(element: ModdleElement, refuse: Refuse): void {
  const values = (element.extensionElements?.values ?? []) as ModdleElement[];
  for (const l of values.filter((v) => v.$type === 'camunda:ExecutionListener' || v.$type === 'camunda:TaskListener')) {
    if (l.script) continue; // check-scripts.ts names it
    if (typeof l.expression === 'string' && l.$type === 'camunda:ExecutionListener'
      && runsAsListener(element, { $parent: l } as unknown as ModdleElement)) {
      const error = findSyntaxError(l.expression);
      if (error) refuse(element, `执行监听器（${l.event}）的表达式错误：${error.message}`, `invalid expression in the ${l.event} execution listener: ${error.message}`);
      continue;
    }
    // Task listeners in expression form run where their script form runs (camunda-extension.ts), with `task` (juel-task.ts).
    if (typeof l.expression === 'string' && l.$type === 'camunda:TaskListener' && EXPRESSION_TASK_EVENTS.has(l.event)
      && runsAsListener(element, { $parent: l } as unknown as ModdleElement)) {
      const error = findSyntaxError(l.expression, (node, src) => checkTaskCalls(node, src, l.event));
      if (error) refuse(element, `任务监听器（${l.event}）的表达式错误：${error.message}`, `invalid expression in the ${l.event} task listener: ${error.message}`);
      continue;
    }
    const take = element.$type === 'bpmn:SequenceFlow' && l.$type === 'camunda:ExecutionListener' && !l.class && !l.delegateExpression ? takeListenerRefusal(element) : undefined;
    if (take) {
      refuse(element, `连线上的 take 监听器尚不支持：${take.zh}`, `the take listener on this sequence flow is not run by this server: ${take.en}`);
      continue;
    }
    const kind = l.$type === 'camunda:TaskListener' ? { zh: '任务监听器', en: 'task listener' } : { zh: '执行监听器', en: 'execution listener' };
    const form = l.class ? `class ${l.class}` : l.delegateExpression ? `delegateExpression ${l.delegateExpression}` : l.expression ? `expression ${l.expression}` : 'no implementation';
    // Expressions can call methods now (docs/expressions.md), but nothing runs a listener in that form yet.
    const why = l.expression ? { zh: '：表达式形式只在其脚本形式运行之处运行（流程与流程节点上的 start/end 执行监听器、连线上的 take 监听器、非多实例用户任务的任务监听器）', en: ': in expression form a listener runs only where its script form runs (start/end execution listeners on the process and its flow nodes, take listeners on sequence flows, task listeners on non-multi-instance user tasks)' }
      : l.class || l.delegateExpression ? { zh: '：此处不运行 Java', en: ': no Java runs here; write it as a javascript camunda:script' } : { zh: '', en: '' };
    refuse(element, `${kind.zh}（${l.event ?? '?'}，${form}）尚不支持运行${why.zh}`, `the ${kind.en} on ${l.event ?? '(no event)'} (${form}) is not run by this server yet, so it is refused rather than skipped${why.en}`);
  }
}

/** Sub-processes whose children would need the parent's locals; io-mapping.ts runs the rest. */
const SUB_PROCESSES = new Set(['bpmn:SubProcess', 'bpmn:Transaction', 'bpmn:AdHocSubProcess']);

/**
 * camunda:inputOutput runs on tasks and intermediate/end events (io-mapping.ts).
 * Refused where it would be accepted and then differ from Camunda 7: where
 * Camunda 7 itself refuses it (start and boundary events), input parameters of
 * a sub-process (its children would not see them), and input parameters of a
 * multi-instance activity (Camunda resolves them per instance, with the element
 * variable; here they would be resolved once, without it).
 */
function checkInputOutput(element: ModdleElement, refuse: Refuse): void {
  const values = (element.extensionElements?.values ?? []) as ModdleElement[];
  const io = values.find((v) => v.$type === 'camunda:InputOutput');
  if (!io) return;
  if (element.$type === 'bpmn:StartEvent' || element.$type === 'bpmn:BoundaryEvent') {
    refuse(element, `${element.$type.slice(5)} 上不能有 camunda:inputOutput（Camunda 7 同样不接受）`, `camunda:inputOutput is not supported on a ${element.$type.slice(5)} (Camunda 7 refuses it too)`);
    return;
  }
  if (!(io.inputParameters ?? []).length) return;
  if (SUB_PROCESSES.has(element.$type)) {
    refuse(element, '子流程的输入参数尚不支持（子流程内的元素看不到它们）', 'input parameters on a sub-process are not run yet: the elements inside it would not see them');
  } else if (element.loopCharacteristics) {
    refuse(element, '多实例活动的输入参数尚不支持（不会按每个实例求值）', 'input parameters on a multi-instance activity are not run yet: they would not be resolved per instance with its element variable');
  }
}

/**
 * Refuses, at deployment, a call on `task` this server does not offer
 * (`task.setAssignee(…)`, `task.getId()`): the allow-list knows such names
 * from other types, so without this they would fail only when run.
 */
function checkTaskCalls(node: Node, src: string, event: string): void {
  const offered = methodsOffered(event);
  const onTask = (n: Node) => n.k === 'id' && n.name === 'task';
  if (node.k === 'call' && onTask(node.obj) && !offered.has(node.name)) {
    throw new ExpressionError(`task.${node.name}() is not offered to a ${event} task listener here (offered: ${[...offered].join(', ')})`, src, node.pos);
  }
  if (node.k === 'mem' && onTask(node.obj) && node.prop.k === 'lit' && typeof node.prop.v === 'string') {
    const p = node.prop.v;
    if (!offered.has(`get${p.charAt(0).toUpperCase()}${p.slice(1)}`)) throw new ExpressionError(`task.${p} is not offered to a ${event} task listener here`, src, 0);
  }
  for (const value of Object.values(node)) {
    if (Array.isArray(value)) value.forEach((v) => v && typeof v === 'object' && 'k' in v && checkTaskCalls(v as Node, src, event));
    else if (value && typeof value === 'object' && 'k' in value) checkTaskCalls(value as Node, src, event);
  }
}

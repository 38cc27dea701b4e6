import { BINDINGS } from './check-call-activity.ts';
import { eachElement } from './flow-elements.ts';
import type { ModdleElement } from 'bpmn-moddle';
import { MAPPERS } from './business-rule-task.ts';
import { findSyntaxError } from './expressions.ts';

type Problem = { elementId: string; message: string };

const EXPRESSION = /[$#]\{/;
const WRAPPED = /^\s*[$#]\{[\s\S]*\}\s*$/;

/**
 * Business rule tasks with `camunda:decisionRef` run as Camunda 7 runs them
 * (business-rule-task.ts): the key, version, version tag and tenant constant
 * or one `${…}` expression, every binding, the four result mappers, a result
 * variable. What Camunda would refuse at deployment or fail on at run time
 * for certain is refused here, naming the element: no key, an unknown
 * binding or mapper, a version binding without its version or tag, the
 * result variable named `decisionResult` (Camunda's own transient variable,
 * which cannot be overwritten) and output parameters reading that transient
 * variable, which this server does not keep.
 */
export function checkBusinessRuleTasks(processes: ModdleElement[]): Problem[] {
  const problems: Problem[] = [];
  eachElement(processes, (element) => {
    if (element.$type === 'bpmn:BusinessRuleTask' && element.decisionRef != null) checkOne(element, problems);
  });
  return problems;
}

function checkOne(e: ModdleElement, problems: Problem[]): void {
  const id = String(e.id);
  const refuse = (zh: string, en: string) => problems.push({ elementId: id, message: `${id}：${zh} / ${id}: ${en}` });
  const text = (x: unknown) => (x == null ? '' : String(x).trim());
  const checkExpression = (name: string, value: string) => {
    if (!EXPRESSION.test(value)) return;
    const wrong = WRAPPED.test(value) ? findSyntaxError(value) : null;
    if (!WRAPPED.test(value)) refuse(`${name} 必须是常量或一个 \${…} 表达式`, `${name}="${value}" must be a constant or one \${…} expression`);
    else if (wrong) refuse(`${name} 表达式有误`, `${name}="${value}" does not parse: ${wrong.message}`);
  };
  const key = text(e.decisionRef);
  if (!key) refuse('camunda:decisionRef 为空', 'camunda:decisionRef is empty; name the key of the decision to evaluate');
  checkExpression('camunda:decisionRef', key);
  const binding = e.decisionRefBinding == null ? 'latest' : String(e.decisionRefBinding);
  if (!BINDINGS.has(binding)) refuse(`camunda:decisionRefBinding="${binding}" 无效`, `camunda:decisionRefBinding="${binding}" is not one of latest, deployment, version, versionTag`);
  const version = text(e.decisionRefVersion);
  if (binding === 'version') {
    if (!version) refuse('版本绑定需要 camunda:decisionRefVersion', 'binding "version" needs camunda:decisionRefVersion');
    else if (!EXPRESSION.test(version) && !/^[1-9]\d{0,8}$/.test(version)) refuse(`camunda:decisionRefVersion="${version}" 不是正整数`, `camunda:decisionRefVersion="${version}" is not a positive integer`);
    checkExpression('camunda:decisionRefVersion', version);
  }
  const tag = text(e.decisionRefVersionTag);
  if (binding === 'versionTag') {
    if (!tag) refuse('版本标签绑定需要 camunda:decisionRefVersionTag', 'binding "versionTag" needs camunda:decisionRefVersionTag');
    checkExpression('camunda:decisionRefVersionTag', tag);
  }
  checkExpression('camunda:decisionRefTenantId', text(e.decisionRefTenantId));
  const mapper = e.mapDecisionResult == null ? 'resultList' : String(e.mapDecisionResult);
  if (!(MAPPERS as readonly string[]).includes(mapper)) {
    refuse(`camunda:mapDecisionResult="${mapper}" 无效`, `camunda:mapDecisionResult="${mapper}" is not a decision result mapper; supported: ${MAPPERS.join(', ')}`);
  }
  const resultVariable = text(e.resultVariable);
  if (resultVariable === 'decisionResult') {
    refuse('结果变量不能叫 decisionResult（Camunda 的保留名）', 'camunda:resultVariable cannot be "decisionResult": Camunda keeps the decision result under that name and fails to overwrite it');
  }
  if (e.class || e.delegateExpression || e.expression || e.type) {
    refuse('camunda:decisionRef 不能与其他实现同用', 'camunda:decisionRef cannot be combined with camunda:class, delegateExpression, expression or type');
  }
  const io = ((e.extensionElements?.values ?? []) as ModdleElement[]).find((v) => v.$type === 'camunda:InputOutput');
  // Camunda's setVariable would change the task's own local of that name (then gone unless an output parameter reads it); here it sets the process variable.
  if (resultVariable && ((io?.inputParameters ?? []) as ModdleElement[]).some((p) => p.name === resultVariable)) {
    refuse(`结果变量 ${resultVariable} 与本任务的输入参数同名，尚不支持`, `camunda:resultVariable "${resultVariable}" is also one of the task's input parameters (a local variable Camunda would set instead of the process variable); this is not run here, rename one of them`);
  }
  if (((io?.outputParameters ?? []) as ModdleElement[]).some((p) => /\bdecisionResult\b/.test(textOf(p)))) {
    refuse('输出参数中的 decisionResult 尚不支持，请使用 camunda:resultVariable', 'output parameters reading the transient variable decisionResult are not run here; use camunda:resultVariable and camunda:mapDecisionResult');
  }
}

/** The text of a parameter and of the lists and maps inside it. */
function textOf(x: unknown, depth = 0): string {
  if (typeof x === 'string') return x;
  if (!x || typeof x !== 'object' || depth > 20) return '';
  return Object.entries(x).filter(([k]) => !k.startsWith('$')).map(([, v]) => textOf(v, depth + 1)).join(' ');
}

import type { ModdleElement } from 'bpmn-moddle';
import { eachElement } from './flow-elements.ts';
import { BUSINESS_KEY_EXPRESSION } from './call-activity.ts';
import { findSyntaxError } from './expressions.ts';

type Problem = { elementId: string; message: string };

const EXPRESSION = /[$#]\{/;

/** Camunda's bindings of a reference to a deployed definition (calledElementBinding, decisionRefBinding). */
export const BINDINGS: ReadonlySet<string> = new Set(['latest', 'deployment', 'version', 'versionTag']);

/**
 * Call activities run as Camunda 7 runs them (call-activity.ts and
 * services/call-activities.ts) in these forms: a constant `calledElement`
 * with any `camunda:calledElementBinding`, constant version and version tag,
 * `camunda:in`/`camunda:out` with `source`, `sourceExpression`, `target` and
 * `variables="all"`, and `camunda:in businessKey` passing the caller's
 * business key. Everything else is refused, naming the element, rather than
 * run otherwise than Camunda: an expression for the called element or its
 * version (resolved per instance in Camunda), a tenant, CMMN cases, Java
 * variable mappings, `local="true"` mappings and input parameters on the call
 * activity (whose locals Camunda's mappings would read or write).
 */
export function checkCallActivities(processes: ModdleElement[]): Problem[] {
  const problems: Problem[] = [];
  eachElement(processes, (element) => {
    if (element.$type === 'bpmn:CallActivity') checkOne(element, problems);
  });
  return problems;
}

function checkOne(e: ModdleElement, problems: Problem[]): void {
  const id = String(e.id);
  const refuse = (zh: string, en: string) => problems.push({ elementId: id, message: `${id}：${zh} / ${id}: ${en}` });
  const called = e.calledElement == null ? '' : String(e.calledElement).trim();
  if (e.caseRef) refuse('不支持调用 CMMN 案例（camunda:caseRef）', 'calling a CMMN case (camunda:caseRef) is not supported; there is no CMMN engine');
  if (!called && !e.caseRef) refuse('调用活动缺少 calledElement', 'a call activity needs a calledElement (the key of the process to call)');
  if (EXPRESSION.test(called)) refuse(`calledElement 表达式 ${called} 尚不支持，请写流程键`, `the calledElement expression ${called} is not run yet; name the process key`);
  const binding = e.calledElementBinding == null ? 'latest' : String(e.calledElementBinding);
  if (!BINDINGS.has(binding)) refuse(`camunda:calledElementBinding="${binding}" 无效`, `camunda:calledElementBinding="${binding}" is not one of latest, deployment, version, versionTag`);
  const version = e.calledElementVersion == null ? '' : String(e.calledElementVersion).trim();
  if (binding === 'version' && !/^[1-9]\d{0,8}$/.test(version)) {
    refuse('版本绑定需要正整数 camunda:calledElementVersion（不支持表达式）', `binding "version" needs camunda:calledElementVersion as a positive integer (not an expression); got "${version}"`);
  }
  const tag = e.calledElementVersionTag == null ? '' : String(e.calledElementVersionTag).trim();
  if (binding === 'versionTag' && (!tag || EXPRESSION.test(tag))) {
    refuse('版本标签绑定需要常量 camunda:calledElementVersionTag', `binding "versionTag" needs a constant camunda:calledElementVersionTag; got "${tag}"`);
  }
  if (e.calledElementTenantId) refuse('不支持 camunda:calledElementTenantId', 'camunda:calledElementTenantId is not supported; the called process is looked up in the caller\'s tenant');
  if (e.variableMappingClass || e.variableMappingDelegateExpression) {
    refuse('Java 变量映射无法在此运行', 'camunda:variableMappingClass / variableMappingDelegateExpression name Java code; this server runs no Java');
  }
  const values = (e.extensionElements?.values ?? []) as ModdleElement[];
  for (const m of values.filter((v) => v.$type === 'camunda:In' || v.$type === 'camunda:Out')) checkMapping(m, refuse);
  const io = values.find((v) => v.$type === 'camunda:InputOutput');
  if ((io?.inputParameters ?? []).length) {
    refuse('调用活动的输入参数尚不支持（camunda:in 会读到它们）', 'input parameters on a call activity are not run yet: Camunda\'s camunda:in would read them as the call activity\'s local variables');
  }
}

function checkMapping(m: ModdleElement, refuse: (zh: string, en: string) => void): void {
  const kind = m.$type === 'camunda:In' ? 'camunda:in' : 'camunda:out';
  if (m.local === true || m.local === 'true') refuse(`${kind} local="true" 尚不支持`, `${kind} local="true" is not run yet (it reads or writes the call activity's local variables)`);
  if (m.businessKey != null) {
    if (kind === 'camunda:out' || !BUSINESS_KEY_EXPRESSION.test(String(m.businessKey))) {
      refuse(`只支持 businessKey="\${execution.processBusinessKey}"`, `${kind} businessKey="${m.businessKey}" is not run; only camunda:in businessKey="\${execution.processBusinessKey}" is`);
    }
    return;
  }
  if (m.variables != null) {
    if (m.variables !== 'all') refuse(`${kind} variables="${m.variables}" 无效，只能是 all`, `${kind} variables="${m.variables}" is not valid; only "all" is`);
    return;
  }
  if (!m.target) refuse(`${kind} 缺少 target`, `${kind} needs a target (or variables="all")`);
  if (m.source == null && m.sourceExpression == null) refuse(`${kind} 缺少 source 或 sourceExpression`, `${kind} needs a source or a sourceExpression`);
  if (m.sourceExpression != null) {
    const text = String(m.sourceExpression);
    const wrapped = /^\s*[$#]\{([\s\S]*)\}\s*$/.exec(text);
    const wrong = wrapped ? findSyntaxError(text) : null;
    // `${a}-${b}` is wrapped too, but composite: the engine evaluates one expression (call-activity.ts, bare).
    if (!wrapped || /\}[\s\S]*[$#]\{/.test(wrapped[1]!)) refuse(`${kind} sourceExpression 必须是一个 \${…} 表达式`, `${kind} sourceExpression "${text}" must be one \${…} expression`);
    else if (wrong) refuse(`${kind} sourceExpression 表达式有误`, `${kind} sourceExpression "${text}" does not parse: ${wrong.message}`);
  }
}

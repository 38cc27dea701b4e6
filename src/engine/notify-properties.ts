import type { ModdleElement } from 'bpmn-moddle';

/*
 * Who is told of what, set per process and per user task with
 * camunda:properties (Camunda 7 keeps them and ignores them; see
 * docs/notifications.md):
 *
 *   on the process:   notify = false             nothing of this process notifies
 *                     notifyInstanceEnd = false  its initiator is not told it ended
 *   on a user task:   notify = false             nobody is told it was offered or assigned
 *
 *   on a user task:   ccUsers = "a,b"            抄送: when it completes, the instance is copied to these users
 *                     ccGroups = "office,x"      … and to the members these groups have then
 *
 * Values of notify* are exactly `true` or `false`. ccUsers / ccGroups are
 * comma-separated literal ids: an expression (`${…}`, `#{…}`) is refused at
 * deployment, as the copies it would name cannot be told before the step
 * runs and this server does not evaluate expressions here.
 */

export const NOTIFY = 'notify';
export const NOTIFY_INSTANCE_END = 'notifyInstanceEnd';
export const CC_USERS = 'ccUsers';
export const CC_GROUPS = 'ccGroups';
const CC_ID = /^[A-Za-z0-9_.@-]{1,64}$/;

/** Who a user task copies its instance to when it completes. */
export interface CarbonCopyTargets {
  users: string[];
  groups: string[];
}

export interface NotifySettings {
  /** The process notifies at all. */
  process: boolean;
  instanceEnd: boolean;
  /** User task ids whose offer or assignment is not notified. */
  silentTasks: ReadonlySet<string>;
  /** User task id → whom it copies the instance to on completion (抄送). */
  carbonCopies: ReadonlyMap<string, CarbonCopyTargets>;
}

function propertiesOf(extensionElements: any): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const holder of (extensionElements?.values ?? []) as any[]) {
    if (holder?.$type !== 'camunda:Properties') continue;
    for (const p of (holder.values ?? []) as any[]) {
      if (typeof p?.name === 'string') found.set(p.name, [...(found.get(p.name) ?? []), String(p.value ?? '')]);
    }
  }
  return found;
}

const isFalse = (values: string[] | undefined) => values?.[0] === 'false';

/** A checked ccUsers / ccGroups value as its ids. */
const idsOf = (values: string[] | undefined): string[] => [...new Set((values?.[0] ?? '').split(',').map((v) => v.trim()).filter(Boolean))];

/** Why a ccUsers / ccGroups value is refused, or null. */
function ccProblem(name: string, values: string[]): [string, string] | null {
  if (values.length > 1) return [`属性 ${name} 只能出现一次`, `property ${name} may appear once only`];
  const value = values[0];
  if (/[$#]\{/.test(value)) return [`属性 ${name} 不支持表达式，请列出 id（逗号分隔）`, `property ${name} takes literal ids separated by commas; expressions are not supported`];
  const ids = value.split(',').map((v) => v.trim());
  const bad = ids.filter((id) => !CC_ID.test(id));
  if (!ids.some(Boolean) || bad.length) return [`属性 ${name} 须为逗号分隔的 id，无效：${bad.join('、') || '（空）'}`, `property ${name} must be ids separated by commas; invalid: ${bad.map((b) => `"${b}"`).join(', ') || '(empty)'}`];
  return null;
}

/** Refused at deployment, naming the element: a value other than true/false, a name on an element it does not apply to, a cc value that is not literal ids. */
export function checkNotifyProperties(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const visit = (element: ModdleElement) => {
    const props = propertiesOf(element.extensionElements);
    const id = String(element.id);
    const refuse = (zh: string, en: string) => problems.push({ elementId: id, message: `${id}：${zh} / ${id}: ${en}` });
    const allowed = element.$type === 'bpmn:Process' ? [NOTIFY, NOTIFY_INSTANCE_END] : element.$type === 'bpmn:UserTask' ? [NOTIFY] : [];
    for (const name of [NOTIFY, NOTIFY_INSTANCE_END]) {
      const values = props.get(name);
      if (!values) continue;
      if (!allowed.includes(name)) refuse(`属性 ${name} 只能用于${name === NOTIFY ? '流程或用户任务' : '流程'}`, `property ${name} applies to ${name === NOTIFY ? 'a process or a user task' : 'a process'} only`);
      else if (values.length > 1 || !['true', 'false'].includes(values[0])) refuse(`属性 ${name} 只能是 true 或 false（一个）`, `property ${name} must be one value, true or false`);
    }
    for (const name of [CC_USERS, CC_GROUPS]) {
      const values = props.get(name);
      if (!values) continue;
      if (element.$type !== 'bpmn:UserTask') {
        refuse(`抄送属性 ${name} 只能用于用户任务`, `carbon-copy property ${name} applies to a user task only`);
        continue;
      }
      const problem = ccProblem(name, values);
      if (problem) refuse(...problem);
    }
    for (const child of (element.flowElements ?? []) as ModdleElement[]) visit(child);
  };
  for (const proc of processes) visit(proc);
  return problems;
}

/** The settings of a compiled definition (the engine's serialized form keeps the extension elements). */
export function notifySettingsOf(compiled: string): NotifySettings {
  const parsed = JSON.parse(compiled) as { processes?: any[]; activities?: any[] };
  const proc = propertiesOf(parsed.processes?.[0]?.behaviour?.extensionElements);
  const silentTasks = new Set<string>();
  const carbonCopies = new Map<string, CarbonCopyTargets>();
  for (const a of parsed.activities ?? []) {
    if (a?.type !== 'bpmn:UserTask') continue;
    const props = propertiesOf(a.behaviour?.extensionElements);
    if (isFalse(props.get(NOTIFY))) silentTasks.add(String(a.id));
    const cc = { users: idsOf(props.get(CC_USERS)), groups: idsOf(props.get(CC_GROUPS)) };
    if (cc.users.length || cc.groups.length) carbonCopies.set(String(a.id), cc);
  }
  return { process: !isFalse(proc.get(NOTIFY)), instanceEnd: !isFalse(proc.get(NOTIFY_INSTANCE_END)), silentTasks, carbonCopies };
}

import type { ModdleElement } from 'bpmn-moddle';
import { Duration } from 'luxon';

/*
 * Who is told of what, set per process and per user task with
 * camunda:properties (Camunda 7 keeps them and ignores them; see
 * docs/notifications.md):
 *
 *   on the process:   notify = false             nothing of this process notifies
 *                     notifyInstanceEnd = false  its initiator is not told it ended
 *   on a user task:   notify = false             nobody is told it was offered or assigned
 *   on either:        notifyDueSoon = PT4H|false the lead time of the due-soon reminder
 *                                                (default PT24H), or none; a task's value
 *                                                overrides its process's
 *                     notifyOverdue = false      no overdue reminder
 *   on an end event:  notifyRejected = true     reaching it tells the initiator
 *                                                "rejected" (驳回), not "ended"
 *
 *   on a user task:   ccUsers = "a,b"            抄送: when it completes, the instance is copied to these users
 *                     ccGroups = "office,x"      … and to the members these groups have then
 *
 * Values of the other names are exactly `true` or `false` (notifyDueSoon: a
 * positive ISO-8601 duration or `false`). ccUsers / ccGroups are
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
export const NOTIFY_DUE_SOON = 'notifyDueSoon';
export const NOTIFY_OVERDUE = 'notifyOverdue';
export const NOTIFY_REJECTED = 'notifyRejected';
/** The due-soon reminder's lead time when nothing says otherwise. */
export const DEFAULT_DUE_SOON = 'PT24H';
const BOOLEANS = [NOTIFY, NOTIFY_INSTANCE_END, NOTIFY_OVERDUE, NOTIFY_REJECTED];

export interface NotifySettings {
  /** The process notifies at all. */
  process: boolean;
  instanceEnd: boolean;
  /** User task ids whose offer or assignment is not notified. */
  silentTasks: ReadonlySet<string>;
  /** User task id → whom it copies the instance to on completion (抄送). */
  carbonCopies: ReadonlyMap<string, CarbonCopyTargets>;
  /** A user task's due-soon lead time (ISO-8601 duration), or null for none. */
  dueSoonOf(taskKey: string): string | null;
  /** Whether a user task is reminded when it is overdue. */
  overdueOf(taskKey: string): boolean;
  /** End events whose reaching is a rejection (驳回), told as such. */
  rejectedEnds: ReadonlySet<string>;
}

/** A positive ISO-8601 duration luxon reads (PT4H, P1D, P1DT2H30M). */
function isLeadTime(value: string): boolean {
  const d = Duration.fromISO(value);
  return d.isValid && d.toMillis() > 0;
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
    const either = [NOTIFY, NOTIFY_DUE_SOON, NOTIFY_OVERDUE];
    const allowed = element.$type === 'bpmn:Process' ? [...either, NOTIFY_INSTANCE_END] : element.$type === 'bpmn:UserTask' ? either
      : element.$type === 'bpmn:EndEvent' ? [NOTIFY_REJECTED] : [];
    for (const name of [...BOOLEANS, NOTIFY_DUE_SOON]) {
      const values = props.get(name);
      if (!values) continue;
      const where = either.includes(name) ? ['流程或用户任务', 'a process or a user task'] : name === NOTIFY_REJECTED ? ['结束事件', 'an end event'] : ['流程', 'a process'];
      if (!allowed.includes(name)) refuse(`属性 ${name} 只能用于${where[0]}`, `property ${name} applies to ${where[1]} only`);
      else if (name === NOTIFY_DUE_SOON) {
        if (values.length > 1 || (values[0] !== 'false' && !isLeadTime(values[0]))) {
          refuse(`属性 ${name} 只能是 ISO-8601 时长（如 PT4H、P1D）或 false（一个）`, `property ${name} must be one value, a positive ISO-8601 duration (PT4H, P1D) or false`);
        }
      } else if (values.length > 1 || !['true', 'false'].includes(values[0])) refuse(`属性 ${name} 只能是 true 或 false（一个）`, `property ${name} must be one value, true or false`);
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
  const dueSoon = new Map<string, string | null>();
  const overdue = new Map<string, boolean>();
  const leadOf = (values: string[] | undefined) => values === undefined ? undefined : values[0] === 'false' ? null : values[0];
  const processLead = leadOf(proc.get(NOTIFY_DUE_SOON)) ?? (proc.has(NOTIFY_DUE_SOON) ? null : DEFAULT_DUE_SOON);
  const rejectedEnds = new Set<string>();
  for (const a of parsed.activities ?? []) {
    if (a?.type === 'bpmn:EndEvent' && propertiesOf(a.behaviour?.extensionElements).get(NOTIFY_REJECTED)?.[0] === 'true') rejectedEnds.add(String(a.id));
    if (a?.type !== 'bpmn:UserTask') continue;
    const props = propertiesOf(a.behaviour?.extensionElements);
    if (isFalse(props.get(NOTIFY))) silentTasks.add(String(a.id));
    const cc = { users: idsOf(props.get(CC_USERS)), groups: idsOf(props.get(CC_GROUPS)) };
    if (cc.users.length || cc.groups.length) carbonCopies.set(String(a.id), cc);
    if (props.has(NOTIFY_DUE_SOON)) dueSoon.set(String(a.id), leadOf(props.get(NOTIFY_DUE_SOON))!);
    if (props.has(NOTIFY_OVERDUE)) overdue.set(String(a.id), !isFalse(props.get(NOTIFY_OVERDUE)));
  }
  const processOverdue = !isFalse(proc.get(NOTIFY_OVERDUE));
  return {
    process: !isFalse(proc.get(NOTIFY)), instanceEnd: !isFalse(proc.get(NOTIFY_INSTANCE_END)), silentTasks,
    dueSoonOf: (key) => dueSoon.has(key) ? dueSoon.get(key)! : processLead,
    overdueOf: (key) => overdue.get(key) ?? processOverdue,
    rejectedEnds,
    carbonCopies,
  };
}

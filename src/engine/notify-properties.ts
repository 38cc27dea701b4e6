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
 * Values are exactly `true` or `false` (notifyDueSoon: a positive ISO-8601
 * duration or `false`). `ccUsers` and `ccGroups` (抄送) are
 * names this server keeps for carbon copies it does not send yet: a diagram
 * using them is refused rather than run without the copies it asks for.
 */

export const NOTIFY = 'notify';
export const NOTIFY_INSTANCE_END = 'notifyInstanceEnd';
export const NOTIFY_DUE_SOON = 'notifyDueSoon';
export const NOTIFY_OVERDUE = 'notifyOverdue';
export const NOTIFY_REJECTED = 'notifyRejected';
/** The due-soon reminder's lead time when nothing says otherwise. */
export const DEFAULT_DUE_SOON = 'PT24H';
const BOOLEANS = [NOTIFY, NOTIFY_INSTANCE_END, NOTIFY_OVERDUE, NOTIFY_REJECTED];
const NOT_YET = ['ccUsers', 'ccGroups'];

export interface NotifySettings {
  /** The process notifies at all. */
  process: boolean;
  instanceEnd: boolean;
  /** User task ids whose offer or assignment is not notified. */
  silentTasks: ReadonlySet<string>;
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

/** Refused at deployment, naming the element: a value other than true/false, a name on an element it does not apply to, cc. */
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
    for (const name of NOT_YET) {
      if (props.has(name)) refuse(`抄送属性 ${name} 暂不支持`, `carbon-copy property ${name} is not supported yet`);
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
    if (props.has(NOTIFY_DUE_SOON)) dueSoon.set(String(a.id), leadOf(props.get(NOTIFY_DUE_SOON))!);
    if (props.has(NOTIFY_OVERDUE)) overdue.set(String(a.id), !isFalse(props.get(NOTIFY_OVERDUE)));
  }
  const processOverdue = !isFalse(proc.get(NOTIFY_OVERDUE));
  return {
    process: !isFalse(proc.get(NOTIFY)), instanceEnd: !isFalse(proc.get(NOTIFY_INSTANCE_END)), silentTasks,
    dueSoonOf: (key) => dueSoon.has(key) ? dueSoon.get(key)! : processLead,
    overdueOf: (key) => overdue.get(key) ?? processOverdue,
    rejectedEnds,
  };
}

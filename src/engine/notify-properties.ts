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
 * Values are exactly `true` or `false`. `ccUsers` and `ccGroups` (抄送) are
 * names this server keeps for carbon copies it does not send yet: a diagram
 * using them is refused rather than run without the copies it asks for.
 */

export const NOTIFY = 'notify';
export const NOTIFY_INSTANCE_END = 'notifyInstanceEnd';
const NOT_YET = ['ccUsers', 'ccGroups'];

export interface NotifySettings {
  /** The process notifies at all. */
  process: boolean;
  instanceEnd: boolean;
  /** User task ids whose offer or assignment is not notified. */
  silentTasks: ReadonlySet<string>;
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
    const allowed = element.$type === 'bpmn:Process' ? [NOTIFY, NOTIFY_INSTANCE_END] : element.$type === 'bpmn:UserTask' ? [NOTIFY] : [];
    for (const name of [NOTIFY, NOTIFY_INSTANCE_END]) {
      const values = props.get(name);
      if (!values) continue;
      if (!allowed.includes(name)) refuse(`属性 ${name} 只能用于${name === NOTIFY ? '流程或用户任务' : '流程'}`, `property ${name} applies to ${name === NOTIFY ? 'a process or a user task' : 'a process'} only`);
      else if (values.length > 1 || !['true', 'false'].includes(values[0])) refuse(`属性 ${name} 只能是 true 或 false（一个）`, `property ${name} must be one value, true or false`);
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
  for (const a of parsed.activities ?? []) {
    if (a?.type === 'bpmn:UserTask' && isFalse(propertiesOf(a.behaviour?.extensionElements).get(NOTIFY))) silentTasks.add(String(a.id));
  }
  return { process: !isFalse(proc.get(NOTIFY)), instanceEnd: !isFalse(proc.get(NOTIFY_INSTANCE_END)), silentTasks };
}

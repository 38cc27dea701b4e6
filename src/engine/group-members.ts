import type { ModdleElement } from 'bpmn-moddle';

/*
 * A group's members as a process variable, filled by the server when an
 * instance reaches the element that asks for them: the leading group
 * deciding as a body (a parallel multi-instance task over its members) is
 * put to the members it has at that moment, not to a list written into the
 * diagram or fixed when the instance started. The element asks with two
 * camunda:properties, which Camunda 7 keeps and ignores:
 *
 *   <camunda:property name="membersOfGroup" value="leading-group" />
 *   <camunda:property name="membersVariable" value="leadingGroupMembers" />
 *
 * When the element (a script task, task or manual task) is entered, before
 * it acts, the process variable `leadingGroupMembers`
 * becomes the ids of the group's members, sorted: a Json list that a later
 * multi-instance reads as its `camunda:collection`. The service reads the
 * memberships before the run (services/group-members.ts); the variable is
 * saved with the rest of the run, in its transaction. On Camunda 7 the same
 * diagram runs the same given the same variable (set by the caller or by a
 * Java listener there): nothing else depends on the properties.
 */

export const MEMBERS_OF_GROUP = 'membersOfGroup';
export const MEMBERS_VARIABLE = 'membersVariable';

/** Members by group id, read before a run for the groups its definition names. */
export type GroupMembers = Readonly<Record<string, readonly string[]>>;

interface Request {
  group: string;
  variable: string;
}

/**
 * Elements that act and leave in the run that enters them: entering is one
 * moment, never repeated when a saved instance resumes (a waiting task's
 * would be a question), and no multi-instance body.
 */
const STEPS = new Set(['bpmn:Task', 'bpmn:ScriptTask', 'bpmn:ManualTask']);

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The camunda:property values of an element (or of its engine behaviour), by name. */
function propertiesOf(extensionElements: any): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const holder of (extensionElements?.values ?? []) as any[]) {
    if (holder?.$type !== 'camunda:Properties') continue;
    for (const p of (holder.values ?? []) as any[]) {
      if (typeof p?.name !== 'string') continue;
      found.set(p.name, [...(found.get(p.name) ?? []), String(p.value ?? '')]);
    }
  }
  return found;
}

function requestOf(extensionElements: any): Request | undefined {
  const props = propertiesOf(extensionElements);
  const group = props.get(MEMBERS_OF_GROUP)?.[0];
  const variable = props.get(MEMBERS_VARIABLE)?.[0];
  return group && variable ? { group, variable } : undefined;
}

/**
 * Refused at deployment, naming the element: a request the server could not
 * honour as documented (no variable to fill, a name that is not a variable
 * name, an expression for the group, two of either, or an element whose
 * entering is not one moment before it acts).
 */
export function checkGroupMembers(processes: ModdleElement[]): { elementId: string; message: string }[] {
  const problems: { elementId: string; message: string }[] = [];
  const visit = (element: ModdleElement) => {
    const props = propertiesOf(element.extensionElements);
    const groups = props.get(MEMBERS_OF_GROUP);
    const variables = props.get(MEMBERS_VARIABLE);
    if ((groups || variables) && element.$type !== 'bpmn:Process') {
      const id = String(element.id);
      const refuse = (zh: string, en: string) => problems.push({ elementId: id, message: `${id}：${zh} / ${id}: ${en}` });
      if (!groups || !variables) refuse(`${MEMBERS_OF_GROUP} 与 ${MEMBERS_VARIABLE} 须同时给出`, `${MEMBERS_OF_GROUP} and ${MEMBERS_VARIABLE} go together: the group whose members to read and the variable to put them in`);
      if ((groups?.length ?? 0) > 1 || (variables?.length ?? 0) > 1) refuse('成员属性只能各有一个', `only one ${MEMBERS_OF_GROUP} and one ${MEMBERS_VARIABLE} per element`);
      const group = groups?.[0] ?? '';
      if (groups && (!group.trim() || group.includes('${') || group.includes('#{'))) refuse(`${MEMBERS_OF_GROUP} 须为组的标识（不能是表达式）`, `${MEMBERS_OF_GROUP} must name a group id, not an expression`);
      const variable = variables?.[0] ?? '';
      if (variables && !IDENTIFIER.test(variable)) refuse(`${MEMBERS_VARIABLE} 不是有效的变量名`, `${MEMBERS_VARIABLE} "${variable}" is not a variable name`);
      if (!STEPS.has(element.$type) || element.loopCharacteristics) {
        refuse('只有不等待的单实例任务（脚本任务、任务、手工任务）可以读取组成员', `only a step that does not wait (a script task, task or manual task, not multi-instance) can read a group's members: put them in a variable on the step before the multi-instance`);
      }
    }
    for (const child of (element.flowElements ?? []) as ModdleElement[]) visit(child);
  };
  for (const proc of processes) visit(proc);
  return problems;
}

const namedCache = new Map<string, readonly string[]>();

/** The groups a compiled definition asks members of (cached by definition id: versions never change). */
export function groupsNamed(def: { id: string; compiled: string }): readonly string[] {
  const hit = namedCache.get(def.id);
  if (hit) return hit;
  // Most definitions name none: no need to walk them.
  const groups = new Set<string>();
  if (def.compiled.includes(MEMBERS_OF_GROUP)) collectGroups(JSON.parse(def.compiled), groups, 0);
  const found = [...groups].sort();
  namedCache.set(def.id, found);
  if (namedCache.size > 500) namedCache.delete(namedCache.keys().next().value!);
  return found;
}

function collectGroups(node: unknown, into: Set<string>, depth: number): void {
  if (!node || typeof node !== 'object' || depth > 64) return;
  if (Array.isArray(node)) {
    for (const item of node) collectGroups(item, into, depth + 1);
    return;
  }
  const request = requestOf((node as any).extensionElements);
  if (request) into.add(request.group);
  for (const value of Object.values(node)) collectGroups(value, into, depth + 1);
}

/**
 * The engine extension (bpmn-elements' hook, as camunda-extension.ts) that
 * fills the variable as the element is entered, from the members read
 * before the run. A group without members (or unknown) gives an empty list:
 * what to do then is the diagram's to say (the shipped procedures fail the
 * step, so the office is told rather than a decision taken by nobody).
 */
export function groupMembersExtension(members: GroupMembers): (activity: any) => { activate(): void; deactivate(): void } | undefined {
  return (activity) => {
    const request = requestOf(activity.behaviour?.extensionElements);
    if (!request) return undefined;
    const { broker, environment } = activity;
    return {
      activate() {
        broker.subscribeTmp('event', 'activity.enter', () => {
          environment.variables[request.variable] = [...(members[request.group] ?? [])];
        }, { noAck: true, consumerTag: '_group-members' });
      },
      deactivate() {
        broker.cancel('_group-members');
      },
    };
  };
}

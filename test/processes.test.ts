import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ModdleElement } from 'bpmn-moddle';
import { compileResource } from '../src/engine/compile.ts';
import { makeModdle } from '../src/engine/moddle.ts';
import { roleGroups } from '../src/types.ts';

/*
 * The shipped procedures as documents: each must open cleanly in Camunda
 * Modeler and bpmn-js (complete, non-overlapping diagram interchange), name
 * its elements in Chinese with English ids, cite the charter duty each task
 * carries, and offer every user task to a role with a form.
 */
const dir = path.resolve(import.meta.dirname, '../processes');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bpmn'));

const NINE = [
  'security-plan-approval', 'security-incident', 'application-rollout', 'backup-verification', 'patch-cycle',
  'security-inspection', 'daily-patrol', 'training-plan', 'catalogue-registration',
];
const CJK = /[\u4e00-\u9fff]/;
const DUTY = /\b[LODNA][1-7]\b/;
const ID = /^[A-Za-z][A-Za-z0-9_-]*$/;

test('processes/ holds the nine procedures of the charter', (t) => {
  t.deepEqual(NINE.filter((k) => !files.includes(`${k}.bpmn`)), []);
});

interface Box { x: number; y: number; width: number; height: number }

const docOf = (e: ModdleElement): string => ((e.documentation ?? []) as ModdleElement[]).map((d) => String(d.text ?? '')).join('\n');

function* walk(container: ModdleElement): Generator<ModdleElement> {
  for (const e of (container.flowElements ?? []) as ModdleElement[]) {
    yield e;
    if (e.flowElements) yield* walk(e);
  }
}

function overlaps(a: Box, b: Box): boolean {
  return a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
}

/** Whether a point lies on (or within a few pixels of) a box. */
function touches(p: { x: number; y: number }, b: Box, slack = 6): boolean {
  return p.x >= b.x - slack && p.x <= b.x + b.width + slack && p.y >= b.y - slack && p.y <= b.y + b.height + slack;
}

for (const file of files) {
  const xml = fs.readFileSync(path.join(dir, file), 'utf8');
  const parsed = makeModdle().fromXML(xml);

  test(`${file}: compiles, process id is the file name, every task offered to a known role with a form`, async (t) => {
    const [proc, ...others] = await compileResource(file, xml);
    t.is(others.length, 0);
    t.is(proc.key, file.replace(/\.bpmn$/, ''));
    t.regex(proc.name ?? '', CJK, 'the process has a Chinese name');
    const { rootElement } = await parsed;
    const process = rootElement.rootElements.find((e: ModdleElement) => e.$type === 'bpmn:Process');
    t.regex(docOf(process), DUTY, 'the process documentation cites the duties it carries');
    const roles = new Set<string>(roleGroups.map((g) => g.id));
    // A vote of a role's members (docs/leading-group-vote.md): a step reads the role's members into a
    // variable, and a multi-instance over it assigns one task to each of them.
    const membersOf = new Map<string, string>();
    for (const e of walk(process)) {
      const props = ((e.extensionElements?.values ?? []) as ModdleElement[]).filter((v) => v.$type === 'camunda:Properties').flatMap((p) => (p.values ?? []) as ModdleElement[]);
      const group = props.find((p) => p.name === 'membersOfGroup')?.value;
      const variable = props.find((p) => p.name === 'membersVariable')?.value;
      if (group && variable) membersOf.set(`\${${variable}}`, group);
    }
    for (const task of [...walk(process)].filter((e) => e.$type === 'bpmn:UserTask')) {
      const voters = membersOf.get(String(task.loopCharacteristics?.collection ?? ''));
      const elementVariable = task.loopCharacteristics?.elementVariable;
      const groups = voters && task.assignee === `\${${elementVariable}}` ? [voters] : String(task.candidateGroups ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      t.true(groups.length > 0 && groups.every((g) => roles.has(g)), `${task.id} offered to ${groups}`);
      const fields = ((task.extensionElements?.values ?? []) as ModdleElement[]).find((v) => v.$type === 'camunda:FormData')?.fields ?? [];
      t.true(fields.length > 0, `${task.id} has a form`);
      for (const f of fields as ModdleElement[]) t.regex(String(f.label ?? ''), CJK, `${task.id}.${f.id} has a Chinese label`);
    }
    for (const e of walk(process)) {
      t.regex(String(e.id), ID, `${e.id} is an English id`);
      if (/Task$|^bpmn:StartEvent$|^bpmn:EndEvent$|^bpmn:BoundaryEvent$|^bpmn:Intermediate/.test(e.$type)) {
        t.regex(String(e.name ?? ''), CJK, `${e.id} has a Chinese name`);
      }
      if (/Task$/.test(e.$type)) t.regex(docOf(e), DUTY, `${e.id} cites the duty it carries`);
    }
  });

  test(`${file}: complete, readable diagram interchange: every element drawn once, no overlaps, edges join their ends`, async (t) => {
    const { rootElement } = await parsed;
    const process = rootElement.rootElements.find((e: ModdleElement) => e.$type === 'bpmn:Process');
    const shapes = new Map<string, Box>();
    const edges = new Map<string, { x: number; y: number }[]>();
    for (const diagram of rootElement.diagrams ?? []) {
      for (const el of diagram.plane.planeElement ?? []) {
        const id = el.bpmnElement?.id;
        t.truthy(id, `${el.id} points at an element`);
        t.false(shapes.has(id) || edges.has(id), `${id} is drawn once`);
        if (el.$type === 'bpmndi:BPMNShape') shapes.set(id, el.bounds);
        else edges.set(id, el.waypoint ?? []);
      }
    }
    const elements = [...walk(process)];
    const nodes = elements.filter((e) => e.$type !== 'bpmn:SequenceFlow');
    const flows = elements.filter((e) => e.$type === 'bpmn:SequenceFlow');
    t.deepEqual(nodes.filter((e) => !shapes.has(e.id!)).map((e) => e.id), [], 'every flow node has a shape');
    t.deepEqual(flows.filter((e) => !edges.has(e.id!)).map((e) => e.id), [], 'every flow has an edge');
    for (const f of flows) {
      const points = edges.get(f.id!) ?? [];
      t.true(points.length >= 2, `${f.id} has waypoints`);
      const from = shapes.get(f.sourceRef.id);
      const to = shapes.get(f.targetRef.id);
      if (from && points[0]) t.true(touches(points[0], from), `${f.id} starts at ${f.sourceRef.id}`);
      if (to && points.at(-1)) t.true(touches(points.at(-1)!, to), `${f.id} ends at ${f.targetRef.id}`);
    }
    // Boundary events sit on their host's border, and a sub-process (drawn expanded) holds its
    // elements inside its box; nothing else may overlap.
    const attached = new Map(nodes.filter((e) => e.$type === 'bpmn:BoundaryEvent').map((e) => [e.id!, e.attachedToRef?.id as string]));
    const parent = new Map<string, string>();
    for (const sub of nodes.filter((e) => e.flowElements)) {
      for (const child of walk(sub)) parent.set(child.id!, sub.id!);
    }
    const within = (id: string, ancestor: string): boolean => {
      for (let p = parent.get(id); p; p = parent.get(p)) if (p === ancestor) return true;
      return false;
    };
    const ids = [...shapes.keys()].filter((id) => nodes.some((n) => n.id === id));
    for (let i = 0; i < ids.length; i++) {
      for (let j = i + 1; j < ids.length; j++) {
        const [a, b] = [ids[i], ids[j]];
        if (attached.get(a) === b || attached.get(b) === a || within(a, b) || within(b, a)) continue;
        t.false(overlaps(shapes.get(a)!, shapes.get(b)!), `${a} and ${b} overlap`);
      }
    }
    for (const [child, sub] of parent) {
      const [c, p] = [shapes.get(child), shapes.get(sub)];
      if (c && p) t.true(c.x >= p.x && c.y >= p.y && c.x + c.width <= p.x + p.width && c.y + c.height <= p.y + p.height, `${child} is drawn inside ${sub}`);
    }
    for (const [boundary, host] of attached) {
      t.true(overlaps(shapes.get(boundary)!, shapes.get(host)!), `${boundary} sits on ${host}`);
    }
  });
}

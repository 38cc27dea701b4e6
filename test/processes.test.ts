import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ModdleElement } from 'bpmn-moddle';
import { compileResource } from '../src/engine/compile.ts';
import { makeModdle } from '../src/engine/moddle.ts';
import { roleGroups } from '../src/types.ts';

const dir = path.resolve(import.meta.dirname, '../processes');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bpmn'));

test('processes/ holds the plan approval', (t) => {
  t.true(files.includes('security-plan-approval.bpmn'));
});

for (const file of files) {
  const xml = fs.readFileSync(path.join(dir, file), 'utf8');

  test(`${file}: compiles, process id is the file name, every task offered to a known role`, async (t) => {
    const [proc, ...others] = await compileResource(file, xml);
    t.is(others.length, 0);
    t.is(proc.key, file.replace(/\.bpmn$/, ''));
    t.truthy(proc.name);
    const { rootElement } = await makeModdle().fromXML(xml);
    const flowNodes = (rootElement.rootElements.find((e: ModdleElement) => e.$type === 'bpmn:Process').flowElements as ModdleElement[]);
    const roles = new Set<string>(roleGroups.map((g) => g.id));
    for (const task of flowNodes.filter((e) => e.$type === 'bpmn:UserTask')) {
      const groups = String(task.candidateGroups ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      t.true(groups.length > 0 && groups.every((g) => roles.has(g)), `${task.id} offered to ${groups}`);
      t.truthy(task.name, `${task.id} has a name`);
      t.true((task.documentation ?? []).length > 0, `${task.id} is documented`);
    }
  });

  test(`${file}: complete diagram interchange, every flow node a shape and every flow an edge`, async (t) => {
    const { rootElement } = await makeModdle().fromXML(xml);
    const proc = rootElement.rootElements.find((e: ModdleElement) => e.$type === 'bpmn:Process');
    const drawn = new Set<string>();
    for (const diagram of rootElement.diagrams ?? []) {
      for (const el of diagram.plane.planeElement ?? []) drawn.add(el.bpmnElement?.id);
    }
    const missing = (proc.flowElements as ModdleElement[]).filter((e) => !drawn.has(e.id!)).map((e) => e.id);
    t.deepEqual(missing, []);
  });
}

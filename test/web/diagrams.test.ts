import fs from 'node:fs';
import path from 'node:path';
import test from 'ava';
import type { ModdleElement } from 'bpmn-moddle';
import type { Browser } from 'playwright-core';
import { makeModdle } from '../../src/engine/moddle.ts';
import { launchChromium } from '../helpers/browser.ts';
import { repoRoot } from '../helpers/server.ts';

/*
 * Every shipped diagram, rendered by bpmn-js itself in Chromium, as the
 * Modeler and the web app show it: no import warnings, and every flow
 * node and sequence flow of the process drawn.
 */
const dir = path.join(repoRoot, 'processes');
const files = fs.readdirSync(dir).filter((f) => f.endsWith('.bpmn'));
const viewer = path.join(repoRoot, 'node_modules', 'bpmn-js', 'dist', 'bpmn-viewer.production.min.js');

let browser!: Browser;
test.before(async () => {
  browser = await launchChromium();
});
test.after.always(async () => browser?.close());

function* walk(container: ModdleElement): Generator<ModdleElement> {
  for (const e of (container.flowElements ?? []) as ModdleElement[]) {
    yield e;
    if (e.flowElements) yield* walk(e);
  }
}

for (const file of files) {
  test(`${file}: bpmn-js renders it without warnings, every element drawn`, async (t) => {
    const xml = fs.readFileSync(path.join(dir, file), 'utf8');
    const { rootElement } = await makeModdle().fromXML(xml);
    const process = rootElement.rootElements.find((e: ModdleElement) => e.$type === 'bpmn:Process');
    const expected = [...walk(process)].map((e) => e.id as string).sort();
    const page = await browser.newPage();
    try {
      await page.setContent('<!doctype html><div id="canvas" style="width:1600px;height:900px"></div>');
      await page.addScriptTag({ path: viewer });
      // Runs in the page, where the viewer bundle defined BpmnJS (the root tsconfig has no DOM types).
      const result = await page.evaluate(async (source) => {
        const page = globalThis as any;
        const BpmnJS = page.BpmnJS as new (o: object) => any;
        const bpmn = new BpmnJS({ container: '#canvas' });
        try {
          const { warnings } = await bpmn.importXML(source);
          const drawn = bpmn.get('elementRegistry').getAll()
            .filter((e: any) => e.type !== 'label' && e.type !== 'bpmn:Process')
            .map((e: any) => e.id as string);
          return { warnings: warnings.map((w: { message: string }) => w.message), drawn, svg: page.document.querySelectorAll('#canvas svg g.djs-element').length };
        } catch (err) {
          return { error: String((err as Error).message ?? err), warnings: [], drawn: [], svg: 0 };
        }
      }, xml);
      t.is((result as { error?: string }).error, undefined);
      t.deepEqual(result.warnings, []);
      t.deepEqual([...new Set(result.drawn)].sort(), expected, 'every flow node and flow is on the canvas');
      t.true(result.svg >= expected.length);
    } finally {
      await page.close();
    }
  });
}

import Modeler from 'bpmn-js/lib/Modeler';
import {
  BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule,
} from 'bpmn-js-properties-panel';
import CamundaBehaviorsModule from 'camunda-bpmn-js-behaviors/lib/camunda-platform';
import camunda from 'camunda-bpmn-moddle/resources/camunda.json';
import 'bpmn-js/dist/assets/diagram-js.css';
import 'bpmn-js/dist/assets/bpmn-js.css';
import 'bpmn-js/dist/assets/bpmn-font/css/bpmn-embedded.css';
import '@bpmn-io/properties-panel/dist/assets/properties-panel.css';
import { api, type Definition } from '../api.ts';
import { forgetDefinitions, latestDefinitions } from '../definitions.ts';
import { zhTranslateModule } from '../modeler-zh.ts';
import { downloadText, problemList, showDeployFailure, type Problem } from '../deploy-widgets.ts';
import { h } from '../dom.ts';
import { t } from '../i18n.ts';
import { errorText, go, link, loading, page, param } from '../shell.ts';

/** A problem the server found in the diagram (Camunda's parse error details). */
interface Registry { get(id: string): unknown }
interface Canvas {
  addMarker(id: string, m: string): void;
  removeMarker(id: string, m: string): void;
  scrollToElement(e: unknown): void;
  /** Returns the new scale. */
  zoom(to: string | number, center?: { x: number; y: number }): number;
}

function blankDiagram(): string {
  const id = `process-${Math.random().toString(36).slice(2, 8)}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" xmlns:camunda="http://camunda.org/schema/1.0/bpmn" id="Definitions_${id}" targetNamespace="http://bpmn.io/schema/bpmn">
  <bpmn:process id="${id}" name="新流程" isExecutable="true" camunda:historyTimeToLive="P180D">
    <bpmn:startEvent id="start" name="开始" />
  </bpmn:process>
  <bpmndi:BPMNDiagram id="diagram">
    <bpmndi:BPMNPlane id="plane" bpmnElement="${id}">
      <bpmndi:BPMNShape id="start_di" bpmnElement="start"><dc:Bounds x="180" y="160" width="36" height="36" /></bpmndi:BPMNShape>
    </bpmndi:BPMNPlane>
  </bpmndi:BPMNDiagram>
</bpmn:definitions>`;
}

/**
 * bpmn-js with Camunda's properties panel: open a deployed definition or a
 * new one, edit, deploy as a new deployment (refusals shown on the
 * elements), start it, download the XML. For administrators, who deploy.
 */
export async function modelerPage(): Promise<void> {
  loading('modeler');
  const chosen = param('definition');
  const defs = await latestDefinitions();
  let xml = blankDiagram();
  let current: Definition | undefined;
  if (chosen) {
    current = (await api<Definition>('GET', `/process-definition/${encodeURIComponent(chosen)}`));
    xml = (await api<{ bpmn20Xml: string }>('GET', `/process-definition/${encodeURIComponent(chosen)}/xml`)).bpmn20Xml;
  }
  const canvasBox = h('div', { class: 'modeler-canvas', id: 'modeler-canvas' });
  const panelBox = h('div', { class: 'modeler-panel', id: 'properties-panel' });
  const status = h('div', { id: 'modeler-status', role: 'status' });
  const problems = h('div', { id: 'modeler-problems' });
  const open = h('select', { id: 'modeler-open', onchange: () => go(open.value ? `/modeler?definition=${encodeURIComponent(open.value)}` : '/modeler') },
    h('option', { value: '' }, `— ${t('openDiagram')} —`), defs.map((d) => h('option', { value: d.id }, `${d.name ?? d.key} (v${d.version})`)));
  open.value = current ? defs.find((d) => d.key === current!.key)?.id ?? '' : '';
  page('modeler',
    h('div', { class: 'title-row' }, h('h1', {}, t('modeler')), h('span', { class: 'muted' }, t('modelerHint'))),
    h('div', { class: 'modeler-toolbar' },
      open,
      link('/modeler', { class: 'button secondary', id: 'modeler-new' }, t('newDiagram')),
      h('button', { type: 'button', class: 'primary', id: 'modeler-deploy', onclick: () => void deploy() }, t('deploy')),
      h('button', { type: 'button', class: 'secondary', id: 'modeler-download', onclick: () => void download() }, t('download'))),
    status, problems,
    h('div', { class: 'modeler' }, canvasBox, panelBox));

  const modeler = new Modeler({
    container: canvasBox,
    propertiesPanel: { parent: panelBox },
    additionalModules: [BpmnPropertiesPanelModule, BpmnPropertiesProviderModule, CamundaPlatformPropertiesProviderModule, CamundaBehaviorsModule, zhTranslateModule],
    moddleExtensions: { camunda },
  });
  const registry = modeler.get<Registry>('elementRegistry');
  const canvas = modeler.get<Canvas>('canvas');
  const selection = modeler.get<{ select(e: unknown): void }>('selection');
  let marked: string[] = [];
  try {
    await modeler.importXML(xml);
    const fitted = canvas.zoom('fit-viewport');
    // The palette floats over the left of the canvas: shrink a little around the right edge to clear it.
    const { width, height } = canvasBox.getBoundingClientRect();
    if (width > 0) canvas.zoom(fitted * (1 - Math.min(0.3, 120 / width)), { x: width, y: height / 2 });
  } catch (err) {
    status.className = 'flash flash-error';
    status.textContent = t('invalidXml') + errorText(err);
  }

  function processId(): string {
    const defsEl = (modeler as unknown as { getDefinitions(): { rootElements: { $type: string; id: string }[] } }).getDefinitions();
    return defsEl.rootElements.find((e) => e.$type === 'bpmn:Process')?.id ?? 'process';
  }

  function showProblems(list: Problem[]): void {
    for (const id of marked) canvas.removeMarker(id, 'error-element');
    marked = [];
    problems.replaceChildren();
    if (!list.length) return;
    for (const p of list) for (const id of p.elementIds) if (registry.get(id)) { canvas.addMarker(id, 'error-element'); marked.push(id); }
    problems.append(problemList(list, (p) => {
      const id = p.elementIds[0];
      const el = id ? registry.get(id) : undefined;
      return el ? h('button', { type: 'button', class: 'link', onclick: () => { selection.select(el); canvas.scrollToElement(el); } }, id!) : null;
    }));
  }

  async function deploy(): Promise<void> {
    status.className = '';
    status.textContent = '';
    const { xml: text } = await modeler.saveXML({ format: true });
    const id = processId();
    const form = new FormData();
    form.append('deployment-name', id);
    form.append('deployment-source', 'web-modeler');
    form.append('deploy-changed-only', 'true');
    form.append(`${id}.bpmn`, new Blob([text ?? ''], { type: 'text/xml' }), `${id}.bpmn`);
    try {
      const result = await api<{ deployedProcessDefinitions: Record<string, Definition> | null }>('POST', '/deployment/create', form);
      showProblems([]);
      forgetDefinitions();
      const def = Object.values(result.deployedProcessDefinitions ?? {}).find((d) => d.key === id);
      status.className = 'flash flash-ok';
      status.replaceChildren(def && def.id === current?.id ? t('unchanged', { version: def.version }) : t('deployed', { name: def?.name ?? id, version: def?.version ?? '' }));
      if (def) {
        current = def;
        history.replaceState(null, '', `/modeler?definition=${encodeURIComponent(def.id)}`);
        status.append(' ', link(`/start/${def.id}`, { class: 'button primary', id: 'modeler-start' }, t('startIt')));
      }
    } catch (err) {
      showDeployFailure(err, status, showProblems);
    }
  }

  async function download(): Promise<void> {
    const { xml: text } = await modeler.saveXML({ format: true });
    downloadText(text ?? '', `${processId()}.bpmn`);
  }
}

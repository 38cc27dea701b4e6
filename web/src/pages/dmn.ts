import DmnModeler, { type View } from 'dmn-js/lib/Modeler';
import 'dmn-js/dist/assets/diagram-js.css';
import 'dmn-js/dist/assets/dmn-js-shared.css';
import 'dmn-js/dist/assets/dmn-js-drd.css';
import 'dmn-js/dist/assets/dmn-js-decision-table.css';
import 'dmn-js/dist/assets/dmn-js-decision-table-controls.css';
import 'dmn-js/dist/assets/dmn-js-literal-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression.css';
import 'dmn-js/dist/assets/dmn-js-boxed-expression-controls.css';
import 'dmn-js/dist/assets/dmn-font/css/dmn-embedded.css';
import { api, apiText, qs } from '../api.ts';
import { evaluatePanel, type DecisionElement } from '../dmn-evaluate.ts';
import { dmnZhModule } from '../dmn-zh.ts';
import { downloadText, problemList, showDeployFailure, type Problem } from '../deploy-widgets.ts';
import { h } from '../dom.ts';
import { pick, t } from '../i18n.ts';
import { errorText, go, link, loading, page, param } from '../shell.ts';

/** A problem the server found in the table (Camunda's parse error details). */

interface Deployment { id: string; name: string | null; deploymentTime: string }
interface Resource { id: string; name: string; deploymentId: string }
interface DeployedDecision { id: string; key: string; name: string | null; version: number }
interface DeployResult extends Deployment { deployedDecisionDefinitions?: Record<string, DeployedDecision> | null }

/** How many recent deployments the "open" list looks through for .dmn resources. */
const RECENT_DEPLOYMENTS = 50;

/** A new table: one input, one output, one rule, labelled in Chinese, with a DRD so both views work. */
function blankTable(): string {
  const id = `decision-${Math.random().toString(36).slice(2, 8)}`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:dmndi="https://www.omg.org/spec/DMN/20191111/DMNDI/" xmlns:dc="http://www.omg.org/spec/DMN/20180521/DC/" xmlns:camunda="http://camunda.org/schema/1.0/dmn" id="definitions-${id}" name="新决策" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="${id}" name="新决策" camunda:historyTimeToLive="180">
    <decisionTable id="table-${id}" hitPolicy="UNIQUE">
      <input id="input-1" label="类别">
        <inputExpression id="input-expression-1" typeRef="string"><text>category</text></inputExpression>
      </input>
      <output id="output-1" label="结果" name="result" typeRef="string" />
      <rule id="rule-1">
        <description>示例规则</description>
        <inputEntry id="input-entry-1"><text>"示例"</text></inputEntry>
        <outputEntry id="output-entry-1"><text>"示例结果"</text></outputEntry>
      </rule>
    </decisionTable>
  </decision>
  <dmndi:DMNDI>
    <dmndi:DMNDiagram id="drd-${id}">
      <dmndi:DMNShape id="shape-${id}" dmnElementRef="${id}"><dc:Bounds height="80" width="180" x="160" y="100" /></dmndi:DMNShape>
    </dmndi:DMNDiagram>
  </dmndi:DMNDI>
</definitions>`;
}

/** The .dmn resources of recent deployments, newest first, one per resource name. */
async function deployedTables(): Promise<Resource[]> {
  const deployments = await api<Deployment[]>('GET', `/deployment${qs({ sortBy: 'deploymentTime', sortOrder: 'desc', maxResults: RECENT_DEPLOYMENTS })}`);
  const lists = await Promise.all(deployments.map((d) => api<Resource[]>('GET', `/deployment/${encodeURIComponent(d.id)}/resources`)));
  const seen = new Set<string>();
  return lists.flat().filter((r) => /\.dmn$/i.test(r.name) && !seen.has(r.name) && !!seen.add(r.name));
}

/** Whether a dmn-moddle element is, or holds (rules, entries, clauses), the element with this id. */
function holds(element: unknown, id: string, depth = 0): boolean {
  if (!element || typeof element !== 'object' || depth > 6) return false;
  if ((element as { id?: unknown }).id === id) return true;
  // `$`-properties are moddle's own (parent, attributes): walking them would go in circles.
  return Object.entries(element).some(([k, v]) => !k.startsWith('$')
    && (Array.isArray(v) ? v.some((x) => holds(x, id, depth + 1)) : holds(v, id, depth + 1)));
}

const tablePath = (r: Pick<Resource, 'deploymentId' | 'id'>) => `/dmn${qs({ deployment: r.deploymentId, resource: r.id })}`;

/**
 * dmn-js for decision tables (and their DRD): open a .dmn resource of a
 * deployment or a new table, edit, deploy as a new deployment (refusals
 * listed), download the XML. For administrators, who deploy.
 */
export async function dmnPage(): Promise<void> {
  loading('dmn');
  const deploymentId = param('deployment');
  const resourceId = param('resource');
  const tables = await deployedTables();
  let xml = blankTable();
  let current: Resource | undefined;
  if (deploymentId && resourceId) {
    current = await api<Resource>('GET', `/deployment/${encodeURIComponent(deploymentId)}/resources/${encodeURIComponent(resourceId)}`);
    xml = await apiText(`/deployment/${encodeURIComponent(deploymentId)}/resources/${encodeURIComponent(resourceId)}/data`);
  }
  const editorBox = h('div', { class: 'dmn-editor', id: 'dmn-editor' });
  const tabs = h('div', { class: 'dmn-views', id: 'dmn-views', role: 'tablist' });
  const status = h('div', { id: 'dmn-status', role: 'status' });
  const problems = h('div', { id: 'dmn-problems' });
  const evaluation = evaluatePanel();
  const key = (r: Pick<Resource, 'deploymentId' | 'id'>) => `${r.deploymentId}/${r.id}`;
  const open = h('select', { id: 'dmn-open', onchange: () => {
    const r = tables.find((x) => key(x) === open.value);
    go(r ? tablePath(r) : '/dmn');
  } }, h('option', { value: '' }, `— ${t('openTable')} —`), tables.map((r) => h('option', { value: key(r) }, r.name)));
  const shown = current && tables.find((r) => r.name === current!.name);
  open.value = shown ? key(shown) : '';
  page('dmn',
    h('div', { class: 'title-row' }, h('h1', {}, t('dmn')), h('span', { class: 'muted' }, t('dmnHint'))),
    h('div', { class: 'modeler-toolbar' },
      open,
      link('/dmn', { class: 'button secondary', id: 'dmn-new' }, t('newTable')),
      h('button', { type: 'button', class: 'primary', id: 'dmn-deploy', onclick: () => void deploy() }, t('deploy')),
      h('button', { type: 'button', class: 'secondary', id: 'dmn-download', onclick: () => void download() }, t('download'))),
    status, problems, tabs, editorBox, evaluation.box);

  const modeler = new DmnModeler({
    container: editorBox,
    drd: { additionalModules: [dmnZhModule] },
    decisionTable: { additionalModules: [dmnZhModule] },
    literalExpression: { additionalModules: [dmnZhModule] },
    boxedExpression: { additionalModules: [dmnZhModule] },
  });

  modeler.on('views.changed', ({ views, activeView }: { views: View[]; activeView: View | null }) => {
    tabs.replaceChildren(...views.map((v) => h('button', {
      type: 'button', role: 'tab', class: `tab${activeView && v.id === activeView.id && v.type === activeView.type ? ' active' : ''}`,
      'data-view-type': v.type, 'data-view-id': v.id, onclick: () => void modeler.open(v),
    }, v.type === 'drd' ? t('drdView') : pick(v.name) || v.id)));
    evaluation.show(activeView?.type === 'decisionTable' ? activeView.element as DecisionElement : null);
  });

  try {
    await modeler.importXML(xml);
    // People come here for the rules: open the first decision table rather than the diagram.
    const table = modeler.getViews().find((v) => v.type === 'decisionTable');
    if (table) await modeler.open(table);
  } catch (err) {
    status.className = 'flash flash-error';
    status.textContent = t('invalidXml') + errorText(err);
  }

  /** The resource name to deploy under: the opened one (so its history continues), else the first decision's id. */
  function resourceName(): string {
    if (current) return current.name;
    const first = modeler.getDefinitions()?.drgElement?.find((e) => e.$type === 'dmn:Decision');
    return `${first?.id ?? 'decision'}.dmn`;
  }

  /** Opens the decision holding a refused element and marks its cell (until the table re-renders it). */
  async function reveal(view: View, id: string): Promise<void> {
    await modeler.open(view);
    const cell = editorBox.querySelector(`[data-element-id="${CSS.escape(id)}"]`);
    cell?.classList.add('dmn-error-cell');
    cell?.scrollIntoView({ block: 'center' });
  }

  function showProblems(list: Problem[]): void {
    problems.replaceChildren();
    if (!list.length) return;
    const views = modeler.getViews().filter((v) => v.type !== 'drd');
    problems.append(problemList(list, (p) => {
      const id = p.elementIds[0];
      const view = id ? views.find((v) => holds(v.element, id)) : undefined;
      return view ? h('button', { type: 'button', class: 'link', onclick: () => void reveal(view, id!) }, `${pick(view.name) || view.id} · ${id}`) : id ?? null;
    }));
  }

  async function deploy(): Promise<void> {
    status.className = '';
    status.textContent = '';
    const { xml: text } = await modeler.saveXML({ format: true });
    const name = resourceName();
    const form = new FormData();
    form.append('deployment-name', name.replace(/\.dmn$/i, ''));
    form.append('deployment-source', 'web-modeler');
    form.append('deploy-changed-only', 'true');
    form.append(name, new Blob([text ?? ''], { type: 'text/xml' }), name);
    try {
      const result = await api<DeployResult>('POST', '/deployment/create', form);
      showProblems([]);
      const unchanged = result.id === current?.deploymentId;
      const decisions = Object.values(result.deployedDecisionDefinitions ?? {});
      const what = decisions.length ? decisions.map((d) => t('deployedDecision', { name: pick(d.name) || d.key, version: d.version })).join('；') : name;
      status.className = 'flash flash-ok';
      status.textContent = unchanged ? t('tableUnchanged') : t('tableDeployed', { what });
      const resources = await api<Resource[]>('GET', `/deployment/${encodeURIComponent(result.id)}/resources`);
      const mine = resources.find((r) => r.name === name);
      if (mine) {
        current = { ...mine, deploymentId: result.id };
        history.replaceState(null, '', tablePath(current));
      }
      // Inputs may have changed with the table: the form follows the version just deployed.
      const active = modeler.getActiveView();
      evaluation.show(active?.type === 'decisionTable' ? active.element as DecisionElement : null);
    } catch (err) {
      showDeployFailure(err, status, showProblems);
    }
  }

  async function download(): Promise<void> {
    const { xml: text } = await modeler.saveXML({ format: true });
    downloadText(text ?? '', resourceName());
  }
}

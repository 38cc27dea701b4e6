import { api, ApiError } from './api.ts';
import { h } from './dom.ts';
import { pick, t } from './i18n.ts';
import { errorText } from './shell.ts';
import { table } from './widgets.ts';

/** The part of a dmn:Decision with a decision table that the form is built from. */
export interface DecisionElement {
  id: string;
  name?: string;
  decisionLogic?: {
    $type: string;
    input?: { label?: string; inputExpression?: { text?: string; typeRef?: string } }[];
    output?: { name?: string; label?: string }[];
  };
}

type Typed = { value: unknown; type: string; valueInfo?: unknown };

/** Camunda's variable type for a DMN typeRef; a field's text read as that type (empty: no variable). */
function typed(typeRef: string | undefined, text: string): Typed | undefined {
  if (text.trim() === '') return undefined;
  switch (typeRef) {
    case 'integer': return { value: Number(text), type: 'Integer' };
    case 'long': return { value: Number(text), type: 'Long' };
    case 'double': return { value: Number(text), type: 'Double' };
    case 'boolean': return { value: text === 'true', type: 'Boolean' };
    default: return { value: text, type: 'String' };
  }
}

const VARIABLE = /^[A-Za-z_][\w]*$/;

function shown(v: Typed | undefined): string {
  if (!v || v.value === null || v.value === undefined) return '—';
  return typeof v.value === 'object' ? JSON.stringify(v.value) : String(v.value);
}

/**
 * A panel that evaluates the deployed latest version of the open decision
 * (POST /decision-definition/key/{key}/evaluate) with values for its inputs:
 * the office checks a new table version's outcome right after deploying it.
 * One field per input whose expression is a variable name.
 */
export function evaluatePanel(): { box: HTMLElement; show(decision: DecisionElement | null): void } {
  const box = h('section', { class: 'card dmn-evaluate', id: 'dmn-evaluate', hidden: true });
  let decision: DecisionElement | null = null;

  function show(d: DecisionElement | null): void {
    decision = d && d.decisionLogic?.$type === 'dmn:DecisionTable' ? d : null;
    box.hidden = !decision;
    if (!decision) return box.replaceChildren();
    const inputs = (decision.decisionLogic!.input ?? []).filter((i) => VARIABLE.test(i.inputExpression?.text?.trim() ?? ''));
    const result = h('div', { id: 'dmn-evaluate-result' });
    const fields = inputs.map((i) => {
      const name = i.inputExpression!.text!.trim();
      return h('label', {}, `${pick(i.label) || name} `, h('code', {}, name),
        h('input', { type: 'text', name, 'data-type-ref': i.inputExpression?.typeRef ?? 'string', id: `dmn-evaluate-${name}` }));
    });
    const form = h('form', { id: 'dmn-evaluate-form', onsubmit: (e: Event) => { e.preventDefault(); void run(form, result); } },
      fields, h('button', { type: 'submit', class: 'primary', id: 'dmn-evaluate-run' }, t('evaluate')));
    box.replaceChildren(h('h2', {}, t('evaluateTitle')), h('p', { class: 'muted' }, t('evaluateHint')), form, result);
  }

  async function run(form: HTMLFormElement, result: HTMLElement): Promise<void> {
    if (!decision) return;
    const variables: Record<string, Typed> = {};
    for (const input of Array.from(form.querySelectorAll('input'))) {
      const v = typed(input.dataset.typeRef, input.value);
      if (v) variables[input.name] = v;
    }
    result.replaceChildren();
    try {
      const rows = await api<Record<string, Typed>[]>('POST', `/decision-definition/key/${encodeURIComponent(decision.id)}/evaluate`, { variables });
      const names = (decision.decisionLogic!.output ?? []).map((o) => o.name).filter((n): n is string => !!n);
      const columns = [...new Set([...names, ...rows.flatMap((r) => Object.keys(r))])];
      result.append(rows.length
        ? table('dmn-evaluate-table', columns, rows.map((r) => columns.map((c) => shown(r[c]))), (i) => ({ 'data-row': i }))
        : h('p', { class: 'muted', id: 'dmn-evaluate-none' }, t('noRuleMatched')));
    } catch (err) {
      const text = err instanceof ApiError && err.status === 404 ? t('notDeployedYet') : t('serverError') + errorText(err);
      result.append(h('p', { class: 'flash flash-error' }, text));
    }
  }

  return { box, show };
}

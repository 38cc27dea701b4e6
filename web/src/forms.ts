import { h } from './dom.ts';
import { pick, t } from './i18n.ts';
import { errorText } from './shell.ts';

/** A `camunda:formField` as read from the diagram. */
export interface Field {
  id: string;
  label: string;
  type: string;
  defaultValue: string | null;
  constraints: Record<string, string | null>;
  options: { id: string; name: string }[];
}

interface Moddle {
  $type: string;
  [k: string]: unknown;
}

/** The form fields of a flow node's business object (bpmn-js with the camunda moddle extension). */
export function fieldsOf(bo: Moddle | undefined): Field[] {
  const ext = (bo?.extensionElements as Moddle | undefined)?.values as Moddle[] | undefined;
  const formData = ext?.find((e) => e.$type === 'camunda:FormData');
  const fields = (formData?.fields as Moddle[] | undefined) ?? [];
  return fields.map((f) => {
    const constraints: Record<string, string | null> = {};
    for (const c of ((f.validation as Moddle | undefined)?.constraints as Moddle[] | undefined) ?? []) {
      constraints[String(c.name)] = c.config == null ? null : String(c.config);
    }
    return {
      id: String(f.id), label: String(f.label ?? f.id), type: String(f.type ?? 'string'),
      defaultValue: f.defaultValue == null ? null : String(f.defaultValue), constraints,
      options: ((f.values as Moddle[] | undefined) ?? []).map((v) => ({ id: String(v.id), name: String(v.name ?? v.id) })),
    };
  });
}

export interface RenderedForm {
  element: HTMLElement;
  /** Validates; on success the Camunda variables to submit, else null (messages shown). */
  collect(): Record<string, { value: unknown; type: string }> | null;
}

/** A form for the fields, prefilled with `values`, with validation messages in the current language. */
export function renderForm(fields: Field[], values: Record<string, { value: unknown } | undefined>): RenderedForm {
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement>();
  const errors = new Map<string, HTMLElement>();
  const rows = fields.map((f) => {
    const required = 'required' in f.constraints;
    const readonly = 'readonly' in f.constraints;
    const current = values[f.id]?.value ?? f.defaultValue;
    let input: HTMLInputElement | HTMLSelectElement;
    const common = { id: `field-${f.id}`, name: f.id, disabled: readonly, 'aria-describedby': `error-${f.id}` };
    if (f.type === 'enum') {
      input = h('select', common, h('option', { value: '' }, t('choose')), f.options.map((o) => h('option', { value: o.id }, o.name)));
      input.value = current == null ? '' : String(current);
    } else if (f.type === 'boolean') {
      input = h('input', { ...common, type: 'checkbox', checked: current === true || current === 'true' });
    } else if (f.type === 'date') {
      input = h('input', { ...common, type: 'date', value: typeof current === 'string' ? current.slice(0, 10) : '' });
    } else if (f.type === 'long') {
      input = h('input', { ...common, type: 'number', step: '1', inputmode: 'numeric', value: current == null ? '' : String(current) });
    } else {
      input = h('input', { ...common, type: 'text', value: current == null ? '' : String(current) });
    }
    inputs.set(f.id, input);
    const error = h('div', { class: 'field-error', id: `error-${f.id}`, role: 'alert' });
    errors.set(f.id, error);
    return h('div', { class: `field field-${f.type}` },
      h('label', { for: `field-${f.id}` }, pick(f.label), required ? h('span', { class: 'req', title: t('required', { label: '' }) }, ' *') : null),
      input, error);
  });

  function check(f: Field, raw: string, checked: boolean): string | { value: unknown; type: string } | undefined {
    const label = pick(f.label);
    const c = f.constraints;
    if (f.type === 'boolean') return { value: checked, type: 'Boolean' };
    if (raw.trim() === '') return 'required' in c ? t('required', { label }) : undefined;
    if (f.type === 'long') {
      if (!/^-?\d+$/.test(raw.trim())) return t('integer', { label });
      const n = Number(raw);
      if (c.min != null && n < Number(c.min)) return t('min', { label, n: c.min });
      if (c.max != null && n > Number(c.max)) return t('max', { label, n: c.max });
      return { value: n, type: 'Long' };
    }
    if (f.type === 'date') {
      if (!/^\d{4}-\d{2}-\d{2}$/.test(raw)) return t('date', { label });
      return { value: `${raw}T00:00:00.000+0800`, type: 'Date' };
    }
    const length = [...raw].length;
    if (c.minlength != null && length < Number(c.minlength)) return t('minlength', { label, n: c.minlength });
    if (c.maxlength != null && length > Number(c.maxlength)) return t('maxlength', { label, n: c.maxlength });
    return { value: raw, type: 'String' };
  }

  return {
    element: h('div', { class: 'form-fields' }, rows.length ? rows : h('p', { class: 'muted' }, t('noForm'))),
    collect() {
      const out: Record<string, { value: unknown; type: string }> = {};
      let ok = true;
      for (const f of fields) {
        if ('readonly' in f.constraints) continue;
        const input = inputs.get(f.id)!;
        const result = check(f, input.value, (input as HTMLInputElement).checked);
        const error = errors.get(f.id)!;
        if (typeof result === 'string') {
          ok = false;
          error.textContent = result;
          input.setAttribute('aria-invalid', 'true');
        } else {
          error.textContent = '';
          input.removeAttribute('aria-invalid');
          if (result) out[f.id] = result;
        }
      }
      return ok ? out : null;
    },
  };
}

/**
 * A form element that checks the fields in the browser, sends the values
 * with `send`, and shows the server's refusal in `serverMessage`; `extra`
 * goes between the fields and the button.
 */
export function submittable(
  id: string, form: RenderedForm, extra: Node[], serverMessage: HTMLElement, buttonId: string, label: string,
  send: (variables: Record<string, unknown>) => Promise<void>,
): HTMLFormElement {
  return h('form', { id, novalidate: true, onsubmit: async (e: SubmitEvent) => {
    e.preventDefault();
    serverMessage.textContent = '';
    const variables = form.collect();
    if (!variables) {
      serverMessage.textContent = t('formErrors');
      return;
    }
    try {
      await send(variables);
    } catch (err) {
      serverMessage.textContent = t('serverError') + errorText(err);
    }
  } }, form.element, ...extra, h('button', { type: 'submit', class: 'primary', id: buttonId }, label));
}

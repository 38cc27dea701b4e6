import type { FormField } from '../types.ts';

/*
 * The HTML form Camunda 7 generates from `camunda:formField`s (its
 * HtmlFormEngine), served by `/rendered-form` for Tasklist's generated
 * forms: one `form-group` per field with a label, a text input (a checkbox
 * for booleans, a select for enums, an input with a date picker for dates),
 * the field's constraints as attributes, and the AngularJS hints Tasklist
 * shows for invalid values. Element for element and indentation alike, so
 * Tasklist's form script finds what it expects.
 *
 * One deliberate difference: Camunda writes labels, option names and
 * attribute values as given (only `"` escaped in attributes); here all text
 * is HTML-escaped, so a label from a diagram cannot inject markup into the
 * page that shows the form.
 */

interface Element {
  tag: string;
  attrs: [string, string | null][];
  selfClosing?: boolean;
  text?: string;
  children?: Element[];
}

const escapeText = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const escapeAttr = (s: string) => escapeText(s).replace(/"/g, '&quot;');

/** Camunda's writer: each tag on its own line, two spaces per level, text after the children, two spaces in. */
function write(el: Element, depth: number, out: string[]): void {
  const pad = '  '.repeat(depth);
  const attrs = el.attrs.map(([k, v]) => (v == null ? ` ${k}` : ` ${k}="${escapeAttr(v)}"`)).join('');
  out.push(`${pad}<${el.tag}${attrs}${el.selfClosing ? ' /' : ''}>\n`);
  for (const child of el.children ?? []) write(child, depth + 1, out);
  if (el.text != null) out.push(`${pad}  ${escapeText(el.text)}\n`);
  if (!el.selfClosing) out.push(`${pad}</${el.tag}>\n`);
}

/** The generated form of `fields`, or null when there are none (Camunda renders nothing then). */
export function renderForm(fields: FormField[]): string | null {
  if (!fields.length) return null;
  const out: string[] = [];
  write({ tag: 'form', attrs: [['name', 'generatedForm'], ['role', 'form']], children: fields.map(fieldGroup) }, 0, out);
  return out.join('');
}

const selector = (id: string, what: string) => `this.generatedForm.${id}${what}`;
const isReadOnly = (f: FormField) => f.constraints.some((c) => c.name === 'readonly');
/** Camunda's date form type has the pattern dd/MM/yyyy unless configured otherwise. */
const DATE_PATTERN = 'dd/MM/yyyy';

function fieldGroup(f: FormField): Element {
  const children: Element[] = [];
  if (f.label) children.push({ tag: 'label', attrs: [['for', f.id]], text: f.label });
  if (f.type === 'enum') children.push({ tag: 'select', attrs: commonAttrs(f), children: f.values.map((v) => ({ tag: 'option', attrs: [['value', v.id]], text: v.name ?? '' })) });
  else if (f.type === 'date') children.push(datePicker(f));
  else {
    const attrs = commonAttrs(f);
    attrs.push(['type', f.type === 'boolean' ? 'checkbox' : 'text']);
    if (f.defaultValue != null) attrs.push(['value', f.defaultValue]);
    children.push({ tag: 'input', attrs, selfClosing: true });
  }
  children.push(invalidMessages(f));
  return { tag: 'div', attrs: [['class', 'form-group']], children };
}

function commonAttrs(f: FormField): [string, string | null][] {
  const typeName = f.type === 'enum' || f.type === 'date' ? 'String' : f.type.charAt(0).toUpperCase() + f.type.slice(1);
  const attrs: [string, string | null][] = [['class', 'form-control'], ['name', f.id], ['cam-variable-type', typeName], ['cam-variable-name', f.id]];
  for (const c of f.constraints) attrs.push([c.name, c.config]);
  return attrs;
}

function datePicker(f: FormField): Element {
  const input: Element = { tag: 'input', attrs: [...commonAttrs(f), ['type', 'text']], selfClosing: true };
  if (isReadOnly(f)) return { tag: 'div', attrs: [['class', 'input-group']], children: [input] };
  input.attrs.push(['datepicker-popup', DATE_PATTERN], ['is-open', `dateFieldOpened${f.id}`]);
  return {
    tag: 'div', attrs: [['class', 'input-group']], children: [
      input,
      { tag: 'div', attrs: [['class', 'input-group-btn']], children: [
        { tag: 'button', attrs: [['type', 'button'], ['class', 'btn btn-default'], ['ng-click', `open${f.id}($event)`]], children: [{ tag: 'i', attrs: [['class', 'glyphicon glyphicon-calendar']] }] },
      ] },
      {
        tag: 'script', attrs: [['cam-script', null], ['type', 'text/form-script']],
        text: `$scope.open${f.id} = function ($event) { $event.preventDefault(); $event.stopPropagation(); $scope.dateFieldOpened${f.id} = true; };`,
      },
    ],
  };
}

function invalidMessages(f: FormField): Element {
  const error = (what: string) => selector(f.id, `.$error${what}`);
  const help = (show: string, text: string): Element => ({ tag: 'div', attrs: [['ng-show', show], ['class', 'help-block']], text });
  const children = f.type === 'date'
    ? [help(`${error('.required')} && !${error('.date')}`, 'Required field'), help(error('.date'), `Invalid date format: the date should have the pattern '${DATE_PATTERN}'`)]
    : [help(error('.required'), 'Required field'), help(error('.camVariableType'), `Only a ${f.type === 'enum' ? 'string' : f.type} value is allowed`)];
  return { tag: 'div', attrs: [['ng-if', `${selector(f.id, '.$invalid')} && ${selector(f.id, '.$dirty')}`], ['class', 'has-error']], children };
}

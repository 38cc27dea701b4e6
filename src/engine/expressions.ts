// Safe evaluator for JUEL as Camunda 7 users write it in conditions and
// attributes (`${decision == 'approve'}`, `${empty comment}`,
// `${status.equals('ok')}`). bpmn-elements only resolves property paths, and
// we must never hand user-authored text to eval/Function/vm, so this is a
// small hand-written tokenizer + Pratt parser + tree-walking evaluator; what
// it may call is the fixed allow-list of juel-methods.ts (docs/expressions.md).

import { JuelExecution, asDate, executionProperty, type InstanceInfo, type TaskInfo } from './juel-context.ts';
import { JodaDateTime } from './juel-dates.ts';
import { JuelTask, taskProperty } from './juel-task.ts';
import { callFunction, callMethod, type JuelEnv } from './juel-methods.ts';
import { ExpressionError, FORBIDDEN_MEMBERS, parseCached, type Node } from './juel-parser.ts';

export { ExpressionError };
export type { JuelEnv };

/** The server's own default zone (config.ts TIMEZONE's default) for evaluations given no zone. */
const DEFAULT_ZONE = 'Asia/Shanghai';
const defaultEnv: JuelEnv = { now: () => new Date(), zone: DEFAULT_ZONE, user: null };

export type Scope = (name: string) => unknown;

/** Structurally compatible with bpmn-elements' IExpressions (the Environment `expressions` option). */
export interface JuelExpressions {
  resolveExpression(templatedString: string, context?: unknown, expressionFnContext?: unknown): unknown;
  isExpression(text: unknown): boolean;
  hasExpression(text: unknown): boolean;
  /** The run's clock, zone and user, for code evaluating an expression outside resolveExpression (call-activity.ts). */
  env?: JuelEnv;
}

function isEmpty(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return true;
  if (Array.isArray(v)) return v.length === 0;
  if (v instanceof Map || v instanceof Set) return v.size === 0;
  if (typeof v === 'object') return Object.keys(v).length === 0;
  return false;
}

// JUEL coerces strings via Boolean.valueOf, so 'false' (e.g. from a form field) is false, not JS-truthy.
function toBool(v: unknown): boolean {
  if (typeof v === 'string') return v.toLowerCase() === 'true';
  return Boolean(v);
}

function isNumeric(v: unknown): v is string {
  return typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v));
}

function evaluateNode(node: Node, scope: Scope, src: string, env: JuelEnv): unknown {
  const ev = (n: Node) => evaluateNode(n, scope, src, env);
  // JUEL coerces null to 0 in arithmetic; anything non-numeric is an error there too.
  const toNum = (v: unknown, pos: number): number => {
    if (typeof v === 'number') return v;
    if (v === null || v === undefined || v === '') return 0;
    if (isNumeric(v)) return Number(v);
    if (v instanceof Date) return v.getTime();
    throw new ExpressionError(`Cannot coerce ${JSON.stringify(v) ?? String(v)} to a number`, src, pos);
  };
  switch (node.k) {
    case 'lit': return node.v;
    case 'id': {
      const v = scope(node.name);
      // Camunda's internal context variable, unless a variable of that name hides it.
      return v === undefined && node.name === 'authenticatedUserId' ? env.user?.id ?? null : v;
    }
    case 'fn': return callFunction(node.name, env);
    case 'call': {
      const receiver = ev(node.obj);
      const args = node.args.map(ev);
      return callMethod(receiver, node.name, args, (why) => {
        throw new ExpressionError(why, src, node.pos);
      });
    }
    case 'cond': return toBool(ev(node.test)) ? ev(node.then) : ev(node.else);
    case 'mem': {
      const base = ev(node.obj);
      if (base === null || base === undefined) return undefined;
      const key = ev(node.prop);
      const name = typeof key === 'number' ? key : String(key);
      if (typeof name === 'string' && FORBIDDEN_MEMBERS.has(name)) return undefined;
      // Objects of the allow-list expose bean properties through their getters only, never JS members.
      if (base instanceof JuelExecution) return typeof name === 'string' ? executionProperty(base, name) : undefined;
      if (base instanceof JuelTask) return typeof name === 'string' ? taskProperty(base, name) : undefined;
      if (base instanceof JodaDateTime) return undefined;
      if (typeof base !== 'object' && typeof base !== 'string' && typeof base !== 'function') return undefined;
      return (base as Record<string | number, unknown>)[name];
    }
    case 'un': {
      const v = ev(node.arg);
      if (node.op === '!') return !toBool(v);
      if (node.op === 'empty') return isEmpty(v);
      return -toNum(v, node.pos);
    }
    case 'bin': {
      const { op, pos } = node;
      if (op === '&&') return toBool(ev(node.l)) && toBool(ev(node.r));
      if (op === '||') return toBool(ev(node.l)) || toBool(ev(node.r));
      const l = ev(node.l);
      const r = ev(node.r);
      switch (op) {
        case '==': return looseEquals(l, r);
        case '!=': return !looseEquals(l, r);
        case '+': return toNum(l, pos) + toNum(r, pos);
        case '-': return toNum(l, pos) - toNum(r, pos);
        case '*': return toNum(l, pos) * toNum(r, pos);
        case '/': return toNum(l, pos) / toNum(r, pos);
        case '%': return toNum(l, pos) % toNum(r, pos);
      }
      // Comparisons: null never orders (EL spec), so a missing variable makes `amount > 100` false.
      if (l === null || l === undefined || r === null || r === undefined) return false;
      let a: number | string;
      let b: number | string;
      if (typeof l === 'string' && typeof r === 'string') [a, b] = [l, r];
      else [a, b] = [toNum(l, pos), toNum(r, pos)];
      if (op === '<') return a < b;
      if (op === '>') return a > b;
      if (op === '<=') return a <= b;
      return a >= b;
    }
  }
}

// `===` plus the coercions users rely on when variables arrive as strings from forms/REST.
function looseEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a === null || a === undefined || b === null || b === undefined) return (a ?? null) === (b ?? null);
  if (typeof a === 'number' && isNumeric(b)) return a === Number(b);
  if (typeof b === 'number' && isNumeric(a)) return Number(a) === b;
  if (typeof a === 'boolean' && typeof b === 'string') return String(a) === b.toLowerCase();
  if (typeof b === 'boolean' && typeof a === 'string') return String(b) === a.toLowerCase();
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  return false;
}

/**
 * Evaluate a bare JUEL expression (no `${}` wrapper). Throws ExpressionError on
 * syntax errors, calls off the allow-list and failing calls. `env` gives the
 * built-in functions their clock, zone and user (default: the wall clock, no user).
 */
export function evaluate(expr: string, scope: Scope, env: JuelEnv = defaultEnv): unknown {
  return evaluateNode(parseCached(expr), scope, expr, env);
}

type Part = string | { expr: string };

// Scans `${...}` / `#{...}` honouring quotes, so `${x == '}'}` is one expression; an unclosed `${`
// stays literal text, matching bpmn-elements where the regex simply does not match.
function splitTemplate(text: string): Part[] {
  const parts: Part[] = [];
  let last = 0;
  let i = 0;
  while (i < text.length - 1) {
    if ((text[i] !== '$' && text[i] !== '#') || text[i + 1] !== '{') { i++; continue; }
    let j = i + 2;
    let quote = '';
    for (; j < text.length; j++) {
      const ch = text[j];
      if (quote) {
        if (ch === '\\') j++;
        else if (ch === quote) quote = '';
      } else if (ch === "'" || ch === '"') quote = ch;
      else if (ch === '}') break;
    }
    if (j >= text.length) break;
    if (i > last) parts.push(text.slice(last, i));
    parts.push({ expr: text.slice(i + 2, j) });
    last = i = j + 1;
  }
  if (last < text.length) parts.push(text.slice(last));
  return parts;
}

// Deliberate deviation from bpmn-elements: whitespace around a lone expression (pretty-printed XML
// bodies) is ignored, otherwise `\n  ${approved}\n` would yield the string " false " which is truthy
// and would silently take the wrong gateway branch.
function singleExpression(parts: Part[]): string | undefined {
  const exprs = parts.filter((p) => typeof p !== 'string');
  if (exprs.length !== 1 || parts.some((p) => typeof p === 'string' && p.trim() !== '')) return undefined;
  return exprs[0]!.expr;
}

function contextScope(context: unknown, dates: ReadonlySet<string> | undefined): Scope {
  const ctx = (context ?? {}) as Record<string, unknown>;
  const variables = (ctx['environment'] as { variables?: Record<string, unknown> } | undefined)?.variables;
  // Process variables win, as in Camunda: the context is an element API object whose keys
  // (id, name, type, owner, ...) would otherwise shadow variables people naturally call `owner`
  // or `name`. Other context keys (environment, content, ...) still resolve, so bpmn-engine style
  // `${environment.variables.x}` / `${content.output.y}` keep working.
  // Unlike Camunda we do NOT throw for unknown variables: they evaluate to undefined (null), so a
  // gateway condition over a variable that was never set simply does not match.
  const execution = (ctx['environment'] as { settings?: { execution?: unknown } } | undefined)?.settings?.execution;
  // A multi-instance iteration's own variables (element variable, loopCounter, nrOf*), read before
  // the process variables as Camunda reads an execution's local variables first (multi-instance.ts).
  const content = ctx['content'] as { loopVariables?: Record<string, unknown>; localVariables?: Record<string, unknown> } | undefined;
  const local = content && typeof content === 'object' ? content.loopVariables : undefined;
  // The element's camunda:inputOutput input parameters, its local variables (io-mapping.ts).
  const io = content && typeof content === 'object' ? content.localVariables : undefined;
  let api: JuelExecution | undefined;
  const executionApi = (): JuelExecution => (api ??= new JuelExecution(execution as InstanceInfo, {
    variables: variables!,
    dates,
    locals: local || io ? { ...(io ?? {}), ...(local ?? {}) } : undefined,
    activityId: typeof content?.['id' as never] === 'string' ? (content as any).id : null,
    executionId: typeof content?.['executionId' as never] === 'string' ? (content as any).executionId : null,
  }));
  // A task listener in expression form (camunda-extension.ts) names its task.
  const taskInfo = ctx['taskListener'] as TaskInfo | undefined;
  let task: JuelTask | undefined;
  return (name) => {
    if (local && Object.hasOwn(local, name)) return local[name];
    if (io && Object.hasOwn(io, name)) return io[name];
    if (variables && Object.hasOwn(variables, name)) return dates?.has(name) ? asDate(variables[name]) : variables[name];
    // Camunda's `execution` (juel-context.ts) when the host passed the instance.
    if (name === 'execution' && execution !== undefined && variables) return executionApi();
    if (name === 'task' && taskInfo && execution !== undefined && variables) return (task ??= new JuelTask(executionApi(), taskInfo));
    return name !== 'taskListener' && Object.hasOwn(ctx, name) ? ctx[name] : undefined;
  };
}

/** What an expression's value may be where it is kept (a variable, an attribute): not one of the evaluator's own objects. */
export function kept(value: unknown, src: string): unknown {
  if (value instanceof JodaDateTime) throw new ExpressionError('A Joda DateTime cannot be kept as a value here; end the chain with toDate() or toString()', src, 0);
  if (value instanceof JuelExecution) throw new ExpressionError('The execution itself cannot be kept as a value', src, 0);
  if (value instanceof JuelTask) throw new ExpressionError('The task itself cannot be kept as a value', src, 0);
  return value;
}

/** The expressions of one run; `env` gives `now()`, `dateTime()` and `currentUser()` the run's clock, zone and user. */
export function makeExpressions(env: JuelEnv = defaultEnv): JuelExpressions {
  return {
    env,
    resolveExpression(templatedString: string, context?: unknown): unknown {
      // bpmn-elements may pass non-strings (e.g. numeric loop cardinality); they are returned untouched.
      if (typeof templatedString !== 'string') return templatedString;
      const parts = splitTemplate(templatedString);
      const scope = contextScope(context, env.dates);
      const only = singleExpression(parts);
      if (only !== undefined) return kept(evaluate(only, scope, env), only);
      // Single pass: substituted values are never re-scanned, so a variable containing `${...}` cannot inject an expression.
      return parts
        .map((p) => {
          if (typeof p === 'string') return p;
          const value = evaluate(p.expr, scope, env);
          return value === undefined || value === null ? '' : String(value);
        })
        .join('');
    },
    isExpression(text: unknown): boolean {
      return typeof text === 'string' && singleExpression(splitTemplate(text)) !== undefined;
    },
    hasExpression(text: unknown): boolean {
      if (typeof text !== 'string' || !text) return false;
      return splitTemplate(text).some((p) => typeof p !== 'string');
    },
  };
}

/** Parses every expression in a template without evaluating it; returns the first syntax error, or the first `check` throws. */
export function findSyntaxError(text: string, check?: (node: Node, src: string) => void): ExpressionError | null {
  for (const part of splitTemplate(text)) {
    if (typeof part === 'string') continue;
    try {
      const node = parseCached(part.expr);
      check?.(node, part.expr);
    } catch (err) {
      if (err instanceof ExpressionError) return err;
      throw err;
    }
  }
  return null;
}

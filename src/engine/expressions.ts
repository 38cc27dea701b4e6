// Safe evaluator for the JUEL subset that Camunda Modeler users write in
// conditions and attributes (`${decision == 'approve'}`, `${empty comment}`).
// bpmn-elements only resolves property paths, and we must never hand
// user-authored text to eval/Function/vm, so this is a small hand-written
// tokenizer + Pratt parser + tree-walking evaluator.

export class ExpressionError extends Error {
  readonly expression: string;
  readonly position: number;
  constructor(reason: string, expression: string, position: number) {
    super(`${reason} at position ${position} in expression "${expression}"`);
    this.name = 'ExpressionError';
    this.expression = expression;
    this.position = position;
  }
}

export type Scope = (name: string) => unknown;

/** Structurally compatible with bpmn-elements' IExpressions (the Environment `expressions` option). */
export interface JuelExpressions {
  resolveExpression(templatedString: string, context?: unknown, expressionFnContext?: unknown): unknown;
  isExpression(text: unknown): boolean;
  hasExpression(text: unknown): boolean;
}

type Token = { t: 'num' | 'str' | 'word' | 'op' | 'eof'; v: string; pos: number };
type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'id'; name: string }
  | { k: 'mem'; obj: Node; prop: Node }
  | { k: 'un'; op: string; arg: Node; pos: number }
  | { k: 'bin'; op: string; l: Node; r: Node; pos: number }
  | { k: 'cond'; test: Node; then: Node; else: Node };

// JUEL word operators are normalised to their symbolic twins at parse time so the evaluator has one spelling.
// Maps rather than object literals: identifiers like `toString` must not hit Object.prototype.
const WORD_OPS = new Map(Object.entries({
  and: '&&', or: '||', eq: '==', ne: '!=', lt: '<', gt: '>', le: '<=', ge: '>=', div: '/', mod: '%', not: '!', empty: 'empty',
}));
const BINARY_BP = new Map(Object.entries({
  '||': 2, '&&': 3, '==': 4, '!=': 4, '<': 5, '>': 5, '<=': 5, '>=': 5, '+': 6, '-': 6, '*': 7, '/': 7, '%': 7,
}));
const ESCAPES = new Map(Object.entries({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f' }));
// Expressions are user-authored; refuse the prototype-pollution/escape hatches even though we never call anything.
const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);
// Groups: whitespace | number | identifier | quoted string | operator (two-char operators first).
const LEXEME =
  /(\s+)|((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)|('(?:[^'\\]|\\[^])*'|"(?:[^"\\]|\\[^])*")|(&&|\|\||[=!<>]=|[!<>+\-*/%()[\].?:])/y;

function unescapeString(body: string): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|[^])/g, (_, e: string) =>
    e.length > 1 ? String.fromCharCode(parseInt(e.slice(1), 16)) : (ESCAPES.get(e) ?? e),
  );
}

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  for (let i = 0; i < src.length; ) {
    LEXEME.lastIndex = i;
    const m = LEXEME.exec(src);
    if (!m) {
      const c = src[i]!;
      throw new ExpressionError(c === "'" || c === '"' ? 'Unterminated string literal' : `Unexpected character '${c}'`, src, i);
    }
    if (m[2]) tokens.push({ t: 'num', v: m[2], pos: i });
    else if (m[3]) tokens.push({ t: 'word', v: m[3], pos: i });
    else if (m[4]) tokens.push({ t: 'str', v: unescapeString(m[4].slice(1, -1)), pos: i });
    else if (m[5]) tokens.push({ t: 'op', v: m[5], pos: i });
    i += m[0].length;
  }
  tokens.push({ t: 'eof', v: '', pos: src.length });
  return tokens;
}

function parse(src: string): Node {
  const tokens = tokenize(src);
  let idx = 0;
  const peek = () => tokens[idx]!;
  const next = () => tokens[idx++]!;
  const fail = (tok: Token, what?: string): never => {
    throw new ExpressionError(what ?? (tok.t === 'eof' ? 'Unexpected end of expression' : `Unexpected token '${tok.v}'`), src, tok.pos);
  };
  const expect = (v: string) => {
    const tok = next();
    if (tok.t !== 'op' || tok.v !== v) fail(tok, tok.t === 'eof' ? `Expected '${v}' but expression ended` : `Expected '${v}' but found '${tok.v}'`);
  };
  // Word operators only act as operators when used in operator position; `a.empty` is still a property name.
  const opOf = (tok: Token) => (tok.t === 'op' ? tok.v : tok.t === 'word' ? WORD_OPS.get(tok.v) : undefined);

  function expression(minBp: number): Node {
    let left = unary();
    for (;;) {
      const tok = peek();
      const op = opOf(tok);
      if (op === '?' && minBp < 1) {
        next();
        const then = expression(0);
        expect(':');
        left = { k: 'cond', test: left, then, else: expression(0) };
        continue;
      }
      const bp = op === undefined ? undefined : BINARY_BP.get(op);
      if (bp === undefined || bp <= minBp) return left;
      next();
      left = { k: 'bin', op: op!, l: left, r: expression(bp), pos: tok.pos };
    }
  }

  function unary(): Node {
    const tok = peek();
    const op = opOf(tok);
    if (op === '!' || op === '-' || op === 'empty') {
      next();
      return { k: 'un', op, arg: unary(), pos: tok.pos };
    }
    return postfix(primary());
  }

  function primary(): Node {
    const tok = next();
    if (tok.t === 'num') return { k: 'lit', v: Number(tok.v) };
    if (tok.t === 'str') return { k: 'lit', v: tok.v };
    if (tok.t === 'word') {
      if (tok.v === 'true') return { k: 'lit', v: true };
      if (tok.v === 'false') return { k: 'lit', v: false };
      if (tok.v === 'null') return { k: 'lit', v: null };
      if (WORD_OPS.has(tok.v)) fail(tok, `Unexpected operator '${tok.v}'`);
      return { k: 'id', name: tok.v };
    }
    if (tok.t === 'op' && tok.v === '(') {
      const inner = expression(0);
      expect(')');
      return inner;
    }
    return fail(tok);
  }

  function postfix(node: Node): Node {
    for (;;) {
      const tok = peek();
      if (tok.t !== 'op') return node;
      if (tok.v === '.') {
        next();
        const name = next();
        if (name.t !== 'word') fail(name, 'Expected property name after \'.\'');
        node = { k: 'mem', obj: node, prop: { k: 'lit', v: name.v } };
      } else if (tok.v === '[') {
        next();
        const prop = expression(0);
        expect(']');
        node = { k: 'mem', obj: node, prop };
      } else if (tok.v === '(') {
        fail(tok, 'Function and method calls are not supported');
      } else return node;
    }
  }

  const ast = expression(0);
  if (peek().t !== 'eof') fail(peek());
  return ast;
}

// The same gateway conditions run on every token, so parsing once pays off; the bound keeps
// generated/unique expressions from growing memory without limit (LRU via Map insertion order).
const CACHE_LIMIT = 1000;
const astCache = new Map<string, Node>();
function parseCached(src: string): Node {
  let ast = astCache.get(src);
  if (ast) {
    astCache.delete(src);
  } else {
    ast = parse(src);
    if (astCache.size >= CACHE_LIMIT) astCache.delete(astCache.keys().next().value!);
  }
  astCache.set(src, ast);
  return ast;
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

function evaluateNode(node: Node, scope: Scope, src: string): unknown {
  const ev = (n: Node) => evaluateNode(n, scope, src);
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
    case 'id': return scope(node.name);
    case 'cond': return toBool(ev(node.test)) ? ev(node.then) : ev(node.else);
    case 'mem': {
      const base = ev(node.obj);
      if (base === null || base === undefined) return undefined;
      const key = ev(node.prop);
      const name = typeof key === 'number' ? key : String(key);
      if (typeof name === 'string' && FORBIDDEN_MEMBERS.has(name)) return undefined;
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

/** Evaluate a bare JUEL expression (no `${}` wrapper). Throws ExpressionError on syntax errors. */
export function evaluate(expr: string, scope: Scope): unknown {
  return evaluateNode(parseCached(expr), scope, expr);
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

function contextScope(context: unknown): Scope {
  const ctx = (context ?? {}) as Record<string, unknown>;
  const variables = (ctx['environment'] as { variables?: Record<string, unknown> } | undefined)?.variables;
  // Process variables win, as in Camunda: the context is an element API object whose keys
  // (id, name, type, owner, ...) would otherwise shadow variables people naturally call `owner`
  // or `name`. Other context keys (environment, content, ...) still resolve, so bpmn-engine style
  // `${environment.variables.x}` / `${content.output.y}` keep working.
  // Unlike Camunda we do NOT throw for unknown variables: they evaluate to undefined (null), so a
  // gateway condition over a variable that was never set simply does not match.
  return (name) => {
    if (variables && Object.hasOwn(variables, name)) return variables[name];
    return Object.hasOwn(ctx, name) ? ctx[name] : undefined;
  };
}

export function makeExpressions(): JuelExpressions {
  return {
    resolveExpression(templatedString: string, context?: unknown): unknown {
      // bpmn-elements may pass non-strings (e.g. numeric loop cardinality); they are returned untouched.
      if (typeof templatedString !== 'string') return templatedString;
      const parts = splitTemplate(templatedString);
      const scope = contextScope(context);
      const only = singleExpression(parts);
      if (only !== undefined) return evaluate(only, scope);
      // Single pass: substituted values are never re-scanned, so a variable containing `${...}` cannot inject an expression.
      return parts
        .map((p) => {
          if (typeof p === 'string') return p;
          const value = evaluate(p.expr, scope);
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

/** Parses every expression in a template without evaluating it; returns the first syntax error. */
export function findSyntaxError(text: string): ExpressionError | null {
  for (const part of splitTemplate(text)) {
    if (typeof part === 'string') continue;
    try {
      parseCached(part.expr);
    } catch (err) {
      if (err instanceof ExpressionError) return err;
      throw err;
    }
  }
  return null;
}

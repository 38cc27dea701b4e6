// Tokenizer and Pratt parser for JUEL (see expressions.ts), kept
// apart from evaluation so each half can be read in one sitting.

import { checkCalls } from './juel-methods.ts';

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

type Token = { t: 'num' | 'str' | 'word' | 'op' | 'eof'; v: string; pos: number };
export type Node =
  | { k: 'lit'; v: unknown }
  | { k: 'id'; name: string }
  | { k: 'mem'; obj: Node; prop: Node }
  | { k: 'un'; op: string; arg: Node; pos: number }
  | { k: 'bin'; op: string; l: Node; r: Node; pos: number }
  | { k: 'cond'; test: Node; then: Node; else: Node }
  /** `obj.name(args)`: a method call, checked against the allow-list (juel-methods.ts). */
  | { k: 'call'; obj: Node; name: string; args: Node[]; pos: number }
  /** `name(args)`: one of Camunda's built-in functions (now, dateTime, currentUser, currentUserGroups). */
  | { k: 'fn'; name: string; args: Node[]; pos: number };

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
export const FORBIDDEN_MEMBERS = new Set(['__proto__', 'constructor', 'prototype']);
// Groups: whitespace | number | identifier | quoted string | operator (two-char operators first).
const LEXEME =
  /(\s+)|((?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)|([A-Za-z_$][\w$]*)|('(?:[^'\\]|\\[^])*'|"(?:[^"\\]|\\[^])*")|(&&|\|\||[=!<>]=|[!<>+\-*/%()[\].?:,])/y;

// JUEL itself knows only \\ and \' \" in a string; \n \t \uXXXX are this server's older additions. Any other
// escape is an error as in JUEL: `'\d'` would otherwise quietly become `d` and a regex lose its class.
function unescapeString(body: string, src: string, pos: number): string {
  return body.replace(/\\(u[0-9a-fA-F]{4}|[^])/g, (_, e: string) => {
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    const known = ESCAPES.get(e) ?? (e === '\\' || e === "'" || e === '"' ? e : undefined);
    if (known === undefined) throw new ExpressionError(`Invalid escape sequence \\${e} in a string (write \\\\${e})`, src, pos);
    return known;
  });
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
    else if (m[4]) tokens.push({ t: 'str', v: unescapeString(m[4].slice(1, -1), src, i), pos: i });
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
        next();
        const args: Node[] = [];
        if (!(peek().t === 'op' && peek().v === ')')) {
          for (;;) {
            args.push(expression(0));
            if (peek().t === 'op' && peek().v === ',') { next(); continue; }
            break;
          }
        }
        expect(')');
        // Only `obj.name(…)` and `name(…)`: a computed callee (`a['b']()`, `f()()`) names no method the allow-list could judge.
        if (node.k === 'mem' && node.prop.k === 'lit' && typeof node.prop.v === 'string') node = { k: 'call', obj: node.obj, name: node.prop.v, args, pos: tok.pos };
        else if (node.k === 'id') node = { k: 'fn', name: node.name, args, pos: tok.pos };
        else fail(tok, 'Only a method of a value (a.b(…)) or a built-in function (now(), …) can be called');
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
export function parseCached(src: string): Node {
  let ast = astCache.get(src);
  if (ast) {
    astCache.delete(src);
  } else {
    ast = parse(src);
    // Every call is judged once, with the parse: at deployment (findSyntaxError) and before any evaluation.
    checkCalls(ast, src);
    if (astCache.size >= CACHE_LIMIT) astCache.delete(astCache.keys().next().value!);
  }
  astCache.set(src, ast);
  return ast;
}


import { DATE_METHODS, DATE_TIME_METHODS, JodaDateTime, dateTimeOf, jodaPattern, type Clockwork, type Method } from './juel-dates.ts';
import { EXECUTION_METHODS, JuelExecution, UnsupportedCall } from './juel-context.ts';
import { JuelTask, TASK_METHODS } from './juel-task.ts';
import { ExpressionError, type Node } from './juel-parser.ts';
import { javaMatches, regexProblem } from './juel-regex.ts';

/*
 * The fixed allow-list of what an expression may call (docs/expressions.md),
 * by receiver type: java.lang.String, numbers, Boolean, lists and maps (Json
 * variables), java.util.Date, Joda-Time DateTime, and `execution`; plus
 * Camunda's built-in functions. A call is judged twice: at deployment by name
 * and argument count (the receiver's type is not known then, so the name must
 * be a method of some type here, with that many arguments), and when it runs,
 * against the receiver's actual type. Nothing reaches a JavaScript property:
 * `constructor`, `getClass`, `wait` or a bean (`myService.call()`) are simply
 * not on the list.
 */

/** What the built-in functions read: the run's clock and zone, and the user whose command runs the engine (null for the server's own). */
export interface JuelEnv extends Clockwork {
  user: { id: string; groups: string[] } | null;
  /**
   * Process variables of type Date: the engine holds them as ISO text (as its
   * saved state does), expressions read them as Dates, as Camunda passes a java.util.Date.
   */
  dates?: ReadonlySet<string> | undefined;
}

type Fail = (why: string) => never;
const str = (v: unknown): string => (v == null ? '' : v instanceof JodaDateTime ? v.toString() : String(v)); // EL coerces null to ""
const int = (v: unknown, fail: Fail): number => {
  const n = typeof v === 'number' ? v : v == null || v === '' ? 0 : typeof v === 'string' ? Number(v) : NaN;
  return Number.isFinite(n) ? Math.trunc(n) : fail(`${JSON.stringify(v) ?? String(v)} is not a number`);
};
const num = (v: unknown, fail: Fail): number => {
  const n = typeof v === 'number' ? v : v == null || v === '' ? 0 : typeof v === 'string' ? Number(v) : NaN;
  return Number.isNaN(n) ? fail(`${JSON.stringify(v) ?? String(v)} is not a number`) : n;
};

/** Java's `equals` over what variables hold: same type and value; lists and maps element by element. */
export function javaEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (a instanceof Date && b instanceof Date) return a.getTime() === b.getTime();
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => javaEquals(x, b[i]));
  if (isMap(a) && isMap(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => Object.hasOwn(b, k) && javaEquals(a[k], b[k]));
  }
  return false;
}

const isMap = (v: unknown): v is Record<string, unknown> => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
};

const m = (arity: number[], run: Method['run']): Method => ({ arity, run });

function substring(s: string, begin: number, end: number, fail: Fail): string {
  if (begin < 0 || end > s.length || begin > end) fail(`StringIndexOutOfBoundsException: begin ${begin}, end ${end}, length ${s.length}`);
  return s.slice(begin, end);
}

/** java.lang.String's compareTo: the first differing character's difference, else the lengths'. */
function compareStrings(a: string, b: string): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a.charCodeAt(i) !== b.charCodeAt(i)) return a.charCodeAt(i) - b.charCodeAt(i);
  return a.length - b.length;
}

const STRING_METHODS = new Map<string, Method>([
  ['equals', m([1], (s: string, [o]) => typeof o === 'string' && o === s)],
  ['equalsIgnoreCase', m([1], (s: string, [o]) => typeof o === 'string' && o.length === s.length && o.toUpperCase() === s.toUpperCase())],
  ['contains', m([1], (s: string, [o]) => s.includes(str(o)))],
  ['startsWith', m([1, 2], (s: string, [o, from], fail) => s.startsWith(str(o), from === undefined ? 0 : int(from, fail)))],
  ['endsWith', m([1], (s: string, [o]) => s.endsWith(str(o)))],
  ['length', m([0], (s: string) => s.length)],
  ['isEmpty', m([0], (s: string) => s.length === 0)],
  ['isBlank', m([0], (s: string) => s.trim().length === 0)],
  // Java's trim drops every character up to U+0020 at both ends, not Unicode spaces.
  ['trim', m([0], (s: string) => s.replace(/^[\u0000-\u0020]+|[\u0000-\u0020]+$/g, ''))],
  ['toUpperCase', m([0], (s: string) => s.toUpperCase())],
  ['toLowerCase', m([0], (s: string) => s.toLowerCase())],
  ['substring', m([1, 2], (s: string, [b, e], fail) => substring(s, int(b, fail), e === undefined ? s.length : int(e, fail), fail))],
  ['indexOf', m([1, 2], (s: string, [o, from], fail) => s.indexOf(str(o), from === undefined ? 0 : Math.max(0, int(from, fail))))],
  ['lastIndexOf', m([1], (s: string, [o]) => s.lastIndexOf(str(o)))],
  ['matches', m([1], (s: string, [p], fail) => {
    try {
      return javaMatches(s, str(p));
    } catch (err) {
      return fail((err as Error).message);
    }
  })],
  ['replace', m([2], (s: string, [a, b]) => s.split(str(a)).join(str(b)))],
  ['concat', m([1], (s: string, [o]) => s + str(o))],
  ['compareTo', m([1], (s: string, [o]) => compareStrings(s, str(o)))],
  ['toString', m([0], (s: string) => s)],
]);

const NUMBER_METHODS = new Map<string, Method>([
  // Java's narrowing: toward zero, wrapped to 32 bits.
  ['intValue', m([0], (n: number) => Math.trunc(n) | 0)],
  ['longValue', m([0], (n: number) => Math.trunc(n))],
  ['doubleValue', m([0], (n: number) => n)],
  ['compareTo', m([1], (n: number, [o], fail) => Math.sign(n - num(o, fail)))],
  ['equals', m([1], (n: number, [o]) => typeof o === 'number' && o === n)],
]);

const BOOLEAN_METHODS = new Map<string, Method>([
  ['booleanValue', m([0], (b: boolean) => b)],
  ['equals', m([1], (b: boolean, [o]) => o === b)],
  ['toString', m([0], (b: boolean) => String(b))],
]);

const LIST_METHODS = new Map<string, Method>([
  ['size', m([0], (l: unknown[]) => l.length)],
  ['isEmpty', m([0], (l: unknown[]) => l.length === 0)],
  ['contains', m([1], (l: unknown[], [o]) => l.some((x) => javaEquals(x, o)))],
  ['indexOf', m([1], (l: unknown[], [o]) => l.findIndex((x) => javaEquals(x, o)))],
  ['get', m([1], (l: unknown[], [i], fail) => {
    const at = int(i, fail);
    return at >= 0 && at < l.length ? l[at] : fail(`IndexOutOfBoundsException: index ${at}, size ${l.length}`);
  })],
  ['equals', m([1], (l: unknown[], [o]) => javaEquals(l, o))],
]);

const MAP_METHODS = new Map<string, Method>([
  ['size', m([0], (o: Record<string, unknown>) => Object.keys(o).length)],
  ['isEmpty', m([0], (o: Record<string, unknown>) => Object.keys(o).length === 0)],
  ['containsKey', m([1], (o: Record<string, unknown>, [k]) => Object.hasOwn(o, str(k)))],
  ['containsValue', m([1], (o: Record<string, unknown>, [v]) => Object.values(o).some((x) => javaEquals(x, v)))],
  ['get', m([1], (o: Record<string, unknown>, [k]) => (Object.hasOwn(o, str(k)) ? o[str(k)] : null))],
  ['keySet', m([0], (o: Record<string, unknown>) => Object.keys(o))],
  ['values', m([0], (o: Record<string, unknown>) => Object.values(o))],
  ['equals', m([1], (o: Record<string, unknown>, [x]) => javaEquals(o, x))],
]);

/** The receiver types, in the order a value is matched against them, with their Java names for messages. */
const TYPES: [name: string, is: (v: unknown) => boolean, methods: Map<string, Method>][] = [
  ['String', (v) => typeof v === 'string', STRING_METHODS],
  ['Number', (v) => typeof v === 'number', NUMBER_METHODS],
  ['Boolean', (v) => typeof v === 'boolean', BOOLEAN_METHODS],
  ['Date', (v) => v instanceof Date, DATE_METHODS],
  ['DateTime', (v) => v instanceof JodaDateTime, DATE_TIME_METHODS],
  ['Execution', (v) => v instanceof JuelExecution, EXECUTION_METHODS],
  ['Task', (v) => v instanceof JuelTask, TASK_METHODS],
  ['List', Array.isArray, LIST_METHODS],
  ['Map', isMap, MAP_METHODS],
];

/** Every method name on the list, with the argument counts some type accepts it with. */
const ARITIES = new Map<string, Set<number>>();
for (const [, , methods] of TYPES) {
  for (const [name, method] of methods) for (const n of method.arity) (ARITIES.get(name) ?? ARITIES.set(name, new Set()).get(name)!).add(n);
}

/** Camunda's built-in functions. */
const FUNCTIONS = new Map<string, { arity: number; run: (env: JuelEnv) => unknown }>([
  ['now', { arity: 0, run: (env) => env.now() }],
  ['dateTime', { arity: 0, run: (env) => dateTimeOf(env) }],
  ['currentUser', { arity: 0, run: (env) => env.user?.id ?? null }],
  ['currentUserGroups', { arity: 0, run: (env) => (env.user ? [...env.user.groups] : null) }],
]);

/** Throws an ExpressionError for the first call that is not on the list (deployment and first parse). */
export function checkCalls(node: Node, src: string): void {
  const fail = (why: string, pos: number): never => {
    throw new ExpressionError(why, src, pos);
  };
  switch (node.k) {
    case 'lit': case 'id': return;
    case 'mem': checkCalls(node.obj, src); checkCalls(node.prop, src); return;
    case 'un': checkCalls(node.arg, src); return;
    case 'bin': checkCalls(node.l, src); checkCalls(node.r, src); return;
    case 'cond': checkCalls(node.test, src); checkCalls(node.then, src); checkCalls(node.else, src); return;
    case 'fn': {
      const f = FUNCTIONS.get(node.name);
      if (!f) fail(`Function ${node.name}() is not one of the built-in functions (now, dateTime, currentUser, currentUserGroups)`, node.pos);
      if (f!.arity !== node.args.length) fail(`${node.name}() takes ${f!.arity} arguments, not ${node.args.length}`, node.pos);
      node.args.forEach((a) => checkCalls(a, src));
      return;
    }
    case 'call': {
      checkCalls(node.obj, src);
      node.args.forEach((a) => checkCalls(a, src));
      const counts = ARITIES.get(node.name);
      if (!counts) fail(`Method ${node.name}() is not on the allow-list of callable methods (see docs/expressions.md)`, node.pos);
      if (!counts!.has(node.args.length)) fail(`Method ${node.name}() takes ${[...counts!].join(' or ')} arguments, not ${node.args.length}`, node.pos);
      // A literal regex or date pattern is judged now, not when the first instance gets there.
      const literal = node.args[0]?.k === 'lit' && typeof node.args[0].v === 'string' ? node.args[0].v : undefined;
      if (literal !== undefined && node.name === 'matches') {
        const why = regexProblem(literal);
        if (why) fail(`regex "${literal}" refused: ${why}`, node.pos);
      }
      if (literal !== undefined && node.name === 'toString') {
        const p = jodaPattern(literal);
        if ('error' in p) fail(p.error, node.pos);
      }
    }
  }
}

/** Calls `name` on `receiver` when its type has that method; else fails the evaluation. */
export function callMethod(receiver: unknown, name: string, args: unknown[], fail: Fail): unknown {
  if (receiver === null || receiver === undefined) return fail(`Cannot call ${name}() on null`);
  const type = TYPES.find(([, is]) => is(receiver));
  const method = type?.[2].get(name);
  if (!type || !method || !method.arity.includes(args.length)) {
    return fail(`${type?.[0] ?? typeof receiver} has no method ${name}() with ${args.length} arguments`);
  }
  try {
    return method.run(receiver, args, fail);
  } catch (err) {
    if (err instanceof UnsupportedCall) return fail(err.message);
    throw err;
  }
}

export function callFunction(name: string, env: JuelEnv): unknown {
  return FUNCTIONS.get(name)!.run(env);
}

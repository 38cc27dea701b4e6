/**
 * FEEL through feelin: parse checks for deployment, evaluation for the
 * engine, and the conversion of FEEL's temporal values to what Camunda 7
 * hands back (java.util.Date for a date and time). feelin never throws for a
 * missing variable or a type mismatch: like Camunda's FEEL Scala engine since
 * 1.17 it yields null, so a rule over an unset variable simply does not match.
 */
import { evaluate as feelEvaluate, FeelDate, FeelDateTime, FeelDuration, FeelTime, parseDateTime, parseExpression, parseUnaryTests, unaryTest as feelUnaryTest } from 'feelin';
import { setOwn } from './model.ts';

/**
 * FEEL's regular expression functions run the pattern on JavaScript's
 * backtracking engine with no time bound, so a careless pattern over a
 * variable from a public form could block the server: they are refused.
 */
const UNBOUNDED_FUNCTIONS = new Set(['matches', 'replace', 'split']);

/** Why a FEEL expression (`kind: 'expression'`) or unary tests cannot be run, or null when they can. */
export function feelSyntaxError(text: string, kind: 'expression' | 'unaryTests'): string | null {
  let tree;
  try {
    tree = kind === 'expression' ? parseExpression(text, {}, undefined) : parseUnaryTests(text, {}, undefined);
  } catch (err) {
    return (err as Error).message;
  }
  let problem: string | null = null;
  tree.iterate({
    enter(node) {
      if (problem !== null) return false;
      if (node.type.isError) {
        problem = `FEEL 语法错误（第 ${node.from + 1} 个字符处） / FEEL syntax error at character ${node.from + 1} of "${text}"`;
      } else if (node.name === 'FunctionInvocation') {
        const callee = node.node.firstChild;
        const name = callee ? text.slice(callee.from, callee.to).trim() : '';
        if (UNBOUNDED_FUNCTIONS.has(name)) {
          problem = `不支持 FEEL 函数 ${name}（正则表达式没有时间上限） / the FEEL function ${name}() is not supported: its regular expression has no time bound ("${text}")`;
        } else if (!isBuiltIn(name)) {
          problem = `未知的 FEEL 函数 ${name} / unknown FEEL function ${name}() in "${text}": only the DMN 1.3 built-in functions are supported, not FEEL Scala's extensions`;
        }
      }
      return undefined;
    },
  });
  return problem;
}

const builtIns = new Map<string, boolean>();

/**
 * Whether feelin has a function of this name. An unknown function would
 * evaluate to null where FEEL Scala (say `is defined(x)`) gives a value, so it
 * must be known at deployment; feelin reports an unknown one as a warning.
 */
function isBuiltIn(name: string): boolean {
  let known = builtIns.get(name);
  if (known === undefined) {
    try {
      known = !feelEvaluate(`${name}()`, {}).warnings.some((w) => w.type === 'NO_FUNCTION_FOUND');
    } catch {
      known = false;
    }
    if (builtIns.size < 1000) builtIns.set(name, known);
  }
  return known;
}

/** Evaluates a FEEL expression over the variables, FEEL values left as they are (see fromFeel); a failure to compute is null. */
export function evaluateFeel(text: string, variables: Record<string, unknown>): unknown {
  return feelEvaluate(text, toFeelContext(variables)).value;
}

/** Whether `input` satisfies the unary tests; the input is visible as `?` and as `inputVariable`. */
export function feelUnaryTests(text: string, input: unknown, inputVariable: string, variables: Record<string, unknown>): boolean {
  const value = toFeel(input);
  const context = { ...toFeelContext(variables), [inputVariable]: value, '?': value };
  return feelUnaryTest(text, context).value === true;
}

/**
 * A Date (a Date variable, a `date` typeRef) enters FEEL as a local date and
 * time in the server's zone, as Camunda's FEEL Scala value mapper turns a
 * java.util.Date into a LocalDateTime; feelin alone would make it a UTC one,
 * and `< date and time("2026-01-01T02:00:00")` would compare other hours.
 */
function toFeel(value: unknown): unknown {
  if (value instanceof Date && !Number.isNaN(value.getTime())) {
    const pad = (n: number, w = 2) => String(n).padStart(w, '0');
    const local = `${pad(value.getFullYear(), 4)}-${pad(value.getMonth() + 1)}-${pad(value.getDate())}T${pad(value.getHours())}:${pad(value.getMinutes())}:${pad(value.getSeconds())}.${pad(value.getMilliseconds(), 3)}`;
    return parseDateTime(local) ?? value;
  }
  if (Array.isArray(value)) return value.map(toFeel);
  return value;
}

/**
 * A plain FEEL name. feelin parses with the variables' names in view, so a
 * variable called `a +` or `order id` would change what `a + 1` means after
 * deployment checked it; FEEL Scala reaches such names only with backticks,
 * which feelin lacks. So only plain names are passed.
 */
const PLAIN_NAME = /^[\p{L}_$][\p{L}\p{N}_$]*$/u;

function toFeelContext(variables: Record<string, unknown>): Record<string, unknown> {
  const context: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(variables)) {
    if (PLAIN_NAME.test(name)) setOwn(context, name, toFeel(value));
  }
  return context;
}

/** Evaluates a literal of an outputValues list (`"high"`, `3`, `true`). */
export function feelLiteral(text: string): unknown {
  return fromFeel(evaluateFeel(text, {}));
}

/**
 * FEEL values back to the values a Camunda 7 caller sees: a date and time
 * becomes a Date (a local one in the server's zone, as Camunda's
 * LocalDateTime to Date), a date, time or duration its ISO text.
 */
export function fromFeel(value: unknown): unknown {
  if (value instanceof FeelDateTime) return dateTimeToDate(value);
  if (value instanceof FeelDate || value instanceof FeelTime || value instanceof FeelDuration) return String(value);
  if (Array.isArray(value)) return value.map(fromFeel);
  return value;
}

export function dateTimeToDate(value: FeelDateTime): Date {
  const plain = value.value;
  if (value.zone) return new Date(plain.toZonedDateTime(value.zone).epochMilliseconds);
  return new Date(plain.year, plain.month - 1, plain.day, plain.hour, plain.minute, plain.second, plain.millisecond);
}

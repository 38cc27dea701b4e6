/**
 * FEEL through feelin: parse checks for deployment, evaluation for the
 * engine, and the conversion of FEEL's temporal values to what Camunda 7
 * hands back (java.util.Date for a date and time). feelin never throws for a
 * missing variable or a type mismatch: like Camunda's FEEL Scala engine since
 * 1.17 it yields null, so a rule over an unset variable simply does not match.
 */
import { evaluate as feelEvaluate, FeelDate, FeelDateTime, FeelDuration, FeelTime, parseExpression, parseUnaryTests, unaryTest as feelUnaryTest } from 'feelin';

/** The first syntax error of a FEEL expression (`kind: 'expression'`) or unary tests, or null when it parses. */
export function feelSyntaxError(text: string, kind: 'expression' | 'unaryTests'): string | null {
  let tree;
  try {
    tree = kind === 'expression' ? parseExpression(text, {}, undefined) : parseUnaryTests(text, {}, undefined);
  } catch (err) {
    return (err as Error).message;
  }
  let at: number | null = null;
  tree.iterate({
    enter(node) {
      if (at !== null) return false;
      if (node.type.isError) at = node.from;
      return undefined;
    },
  });
  if (at === null) return null;
  const pos = at as number;
  return `FEEL 语法错误（第 ${pos + 1} 个字符处）/ FEEL syntax error at character ${pos + 1} of "${text}"`;
}

/** Evaluates a FEEL expression over the variables, FEEL values left as they are (see fromFeel); a failure to compute is null. */
export function evaluateFeel(text: string, variables: Record<string, unknown>): unknown {
  return feelEvaluate(text, variables).value;
}

/** Whether `input` satisfies the unary tests; the input is visible as `?` and as `inputVariable`. */
export function feelUnaryTests(text: string, input: unknown, inputVariable: string, variables: Record<string, unknown>): boolean {
  const context = { ...variables, [inputVariable]: input, '?': input };
  return feelUnaryTest(text, context).value === true;
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

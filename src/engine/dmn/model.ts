/**
 * The JSON a compiled decision is stored as (CompiledDecision.compiled) and
 * read back by evaluate.ts. Everything here was checked at deployment: every
 * expression parses, every rule has one entry per clause.
 */

export type HitPolicy = 'UNIQUE' | 'FIRST' | 'PRIORITY' | 'ANY' | 'COLLECT' | 'RULE ORDER' | 'OUTPUT ORDER';
export type Aggregation = 'SUM' | 'MIN' | 'MAX' | 'COUNT';
export type Language = 'feel' | 'juel';

/** An expression or unary tests; null stands for an empty cell (matches anything / no output). */
export interface Expr { text: string; language: Language }

export interface InputClause {
  id: string;
  label: string | null;
  expression: Expr;
  typeRef: string | null;
  /** camunda:inputVariable, `cellInput` unless set: the input value's name in the rule's entries. */
  inputVariable: string;
}

export interface OutputClause {
  id: string;
  label: string | null;
  /** The result entry's key; a lone output may have none (see outputKey). */
  name: string | null;
  typeRef: string | null;
  /** The outputValues literals, highest priority first (PRIORITY, OUTPUT ORDER); null when not given. */
  priorities: unknown[] | null;
}

export interface Rule { id: string; inputEntries: (Expr | null)[]; outputEntries: (Expr | null)[] }

export interface TableDecision {
  kind: 'table';
  key: string;
  name: string | null;
  required: string[];
  hitPolicy: HitPolicy;
  aggregation: Aggregation | null;
  inputs: InputClause[];
  outputs: OutputClause[];
  rules: Rule[];
}

/**
 * A decision literal expression (Camunda 7: DmnDecisionLiteralExpressionImpl):
 * one expression whose value, converted by the variable's typeRef, is the
 * decision's single result entry, named by the variable.
 */
export interface LiteralDecision {
  kind: 'literal';
  key: string;
  name: string | null;
  required: string[];
  variable: { name: string; typeRef: string | null };
  expression: Expr;
}

export type Decision = TableDecision | LiteralDecision;

/** The key a lone unnamed output is returned under: Camunda's is null, which JSON cannot carry; its id is the nearest stable name. */
export function outputKey(output: OutputClause): string {
  return output.name ?? output.id;
}

/** Sets an own property even for a key like `__proto__`, which plain assignment would turn into a prototype change. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true });
}

/**
 * Parses and checks one DMN resource (DMN 1.3, or 1.1 / 1.2 as older Camunda
 * Modelers wrote it, migrated first) into the decisions the store keeps.
 * Whatever the engine could not evaluate exactly is refused here, in the
 * ParseError shape of compileResource, each problem naming its element and
 * line: nothing is stored for a table that would fail or differ later.
 */
import { createRequire } from 'node:module';
import { DmnModdle } from 'dmn-moddle';
import { migrateDiagram } from '@bpmn-io/dmn-migrate';
import { ParseError, type ParseProblem } from '../../errors.ts';
import { locateId } from '../compile.ts';
import { checkSize } from '../check-size.ts';
import { decodeXml } from '../serialize.ts';
import { compileLiteral } from './compile-literal.ts';
import { compileTable, type El, type Problem } from './compile-table.ts';
import type { Decision } from './model.ts';

const require = createRequire(import.meta.url);
/** camunda:inputVariable, camunda:versionTag, camunda:historyTimeToLive. */
const camundaDescriptor = require('camunda-dmn-moddle/resources/camunda.json') as Record<string, unknown>;

export interface CompiledDmn {
  /** The <definitions>: Camunda's decision requirements definition (key = definitions id). */
  requirements: { key: string; name: string | null; category: string | null };
  decisions: CompiledDecision[];
}

export interface CompiledDecision {
  key: string;
  name: string | null;
  versionTag: string | null;
  historyTtl: number | null;
  requiredDecisionKeys: string[];
  /** JSON the store keeps and evaluateDecision reads back (model.ts). */
  compiled: string;
}

const DMN13 = 'https://www.omg.org/spec/DMN/20191111/MODEL/';
/** DMN 1.1 and 1.2 namespaces, which dmn-migrate lifts to 1.3. */
const OLDER_DMN = ['http://www.omg.org/spec/DMN/20151101/dmn.xsd', 'http://www.omg.org/spec/DMN/20180521/MODEL/'];

export async function compileDmn(resourceName: string, source: string | Buffer): Promise<CompiledDmn> {
  const xml = typeof source === 'string' ? source : decodeXml(source);
  const fail = (problems: Problem[]) => parseError(resourceName, problems.map((p) => toParseProblem(xml, p)));
  const tooBig = checkSize(xml, typeof source === 'string' ? Buffer.byteLength(source) : source.length);
  if (tooBig) throw fail([{ message: tooBig.message, elementIds: tooBig.elementId ? [tooBig.elementId] : [] }]);

  let definitions: El;
  try {
    const current = OLDER_DMN.some((ns) => xml.includes(ns)) && !xml.includes(DMN13) ? await migrateDiagram(xml) : xml;
    const parsed = await new DmnModdle({ camunda: camundaDescriptor }).fromXML(current, 'dmn:Definitions');
    const warnings = parsed.warnings.map((w: { message: string; element?: { id?: string } }) => ({ message: w.message, elementIds: w.element?.id ? [w.element.id] : [] }));
    if (warnings.length) throw fail(warnings);
    definitions = parsed.rootElement as El;
  } catch (err) {
    if (err instanceof ParseError) throw err;
    throw fail([{ message: `DMN 文件无法解析 / the DMN resource cannot be parsed: ${(err as Error).message}`, elementIds: [] }]);
  }

  const problems: Problem[] = [];
  const elements = (definitions.drgElement ?? []) as El[];
  const decisions = elements.filter((e) => e.$type === 'dmn:Decision');
  const known = new Set(decisions.map((d) => String(d.id)));
  if (decisions.length === 0) problems.push({ message: 'DMN 文件中没有决策 / the DMN resource has no decision', elementIds: definitions.id ? [String(definitions.id)] : [] });

  const compiled: { element: El; decision: Decision }[] = [];
  for (const element of decisions) {
    const id = String(element.id ?? '');
    if (!id) { problems.push({ message: '决策缺少 id / a decision has no id', elementIds: [] }); continue; }
    const required = requiredOf(element, id, known, problems);
    if ((element.knowledgeRequirement ?? []).length) {
      problems.push({ message: `不支持业务知识模型 / decision ${id} requires a business knowledge model, which Camunda 7 does not evaluate`, elementIds: [id] });
    }
    const logic = element.decisionLogic as El | undefined;
    if (logic?.$type === 'dmn:DecisionTable') {
      compiled.push({ element, decision: compileTable(element, logic, definitions.expressionLanguage, required, problems) });
    } else if (logic?.$type === 'dmn:LiteralExpression') {
      compiled.push({ element, decision: compileLiteral(element, logic, definitions.expressionLanguage, required, problems) });
    } else {
      const what = logic ? String(logic.$type).replace(/^dmn:/, '') : null;
      const message = what
        ? `决策 ${id} 的逻辑不受支持（${what}） / decision ${id} is a ${what}: Camunda 7 evaluates only decision tables and literal expressions`
        : `决策 ${id} 没有决策逻辑 / decision ${id} has no decision logic: Camunda 7 evaluates only decision tables and literal expressions`;
      problems.push({ message, elementIds: ids(logic?.id, id) });
    }
  }
  problems.push(...cycles(compiled.map((c) => c.decision)));
  if (problems.length) throw fail(problems);

  return {
    requirements: { key: String(definitions.id ?? ''), name: definitions.name ?? null, category: definitions.namespace ?? null },
    decisions: compiled.map(({ element, decision }) => ({
      key: decision.key,
      name: decision.name,
      versionTag: element.versionTag ? String(element.versionTag) : null,
      historyTtl: parseTtl(element.historyTimeToLive),
      requiredDecisionKeys: decision.required,
      compiled: JSON.stringify(decision),
    })),
  };
}

const ids = (...list: unknown[]): string[] => list.filter((x): x is string => typeof x === 'string' && x !== '');

/** The decisions this one requires (informationRequirement/requiredDecision), which must be in the same resource. */
function requiredOf(element: El, id: string, known: Set<string>, problems: Problem[]): string[] {
  const required: string[] = [];
  for (const requirement of (element.informationRequirement ?? []) as El[]) {
    const href = requirement.requiredDecision?.href;
    if (href === undefined) continue; // a requiredInput: input data are plain variables
    const key = String(href).replace(/^#/, '');
    if (!known.has(key)) {
      problems.push({ message: `所需决策 ${key} 不在此文件中 / decision ${id} requires decision '${key}', which is not in this resource`, elementIds: ids(requirement.id, id) });
    } else if (!required.includes(key)) required.push(key);
  }
  return required;
}

/** A decision that requires itself, directly or through others, could never be evaluated. */
function cycles(decisions: Decision[]): Problem[] {
  const byKey = new Map(decisions.map((d) => [d.key, d]));
  const problems: Problem[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (key: string, path: string[]): void => {
    if (state.get(key) === 'done') return;
    if (state.get(key) === 'visiting') {
      problems.push({ message: `决策循环依赖 / decisions require each other in a cycle: ${[...path, key].join(' → ')}`, elementIds: [key] });
      return;
    }
    state.set(key, 'visiting');
    for (const r of byKey.get(key)?.required ?? []) visit(r, [...path, key]);
    state.set(key, 'done');
  };
  for (const d of decisions) visit(d.key, []);
  return problems;
}

function parseTtl(value: unknown): number | null {
  if (value == null || value === '') return null;
  const m = /^P(\d+)D$/.exec(String(value));
  const n = m ? Number(m[1]) : Number(value);
  return Number.isInteger(n) ? n : null;
}

function toParseProblem(xml: string, p: Problem): ParseProblem {
  const line = /line: (\d+)/.exec(p.message);
  const column = /column: (\d+)/.exec(p.message);
  let position = line ? { line: Number(line[1]) + 1, column: column ? Number(column[1]) + 1 : null } : null;
  for (const id of p.elementIds) {
    if (position) break;
    position = locateId(xml, id);
  }
  return {
    message: p.message.replace(/\s+/g, ' ').trim(),
    line: position?.line ?? null,
    column: position?.column ?? null,
    mainElementId: p.elementIds[0] ?? null,
    elementIds: p.elementIds,
  };
}

function parseError(resource: string, errors: ParseProblem[]): ParseError {
  const lines = errors.map((e) => {
    const where = [e.mainElementId && `element ${e.mainElementId}`, e.line != null && `line ${e.line}`, e.column != null && `column ${e.column}`];
    return `* ${e.message} | resource ${resource}${where.filter(Boolean).map((w) => ` | ${w}`).join('')}`;
  });
  return new ParseError(`ENGINE-09005 Could not parse DMN resource. Errors: \n${lines.join('\n')}`, {
    [resource]: { errors, warnings: [] },
  });
}

import { readFileSync } from 'node:fs';
import { compileDmn, type CompiledDmn } from '../../src/engine/dmn/compile.ts';
import { evaluateDecision, type DecisionEvaluation } from '../../src/engine/dmn/evaluate.ts';

/** A fixture under test/fixtures/dmn, compiled as a deployment would. */
export async function compileFixture(name: string): Promise<CompiledDmn> {
  return compileDmn(name, readFileSync(new URL(`../fixtures/dmn/${name}`, import.meta.url)));
}

/** Evaluates `key` of a compiled resource, required decisions looked up in the same resource. */
export function evaluateIn(dmn: CompiledDmn, key: string, variables: Record<string, unknown>): DecisionEvaluation {
  return evaluateDecision(key, (k) => dmn.decisions.find((d) => d.key === k)?.compiled, variables);
}

const NS = 'xmlns="https://www.omg.org/spec/DMN/20191111/MODEL/" xmlns:camunda="http://camunda.org/schema/1.0/dmn"';

/** A one-decision DMN 1.3 resource around a decision table's XML. */
export function tableDmn(table: string, decisionAttrs = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>
<definitions ${NS} id="defs" name="Tests" namespace="http://camunda.org/schema/1.0/dmn">
  <decision id="d" name="D"${decisionAttrs ? ` ${decisionAttrs}` : ''}>
    ${table}
  </decision>
</definitions>`;
}

/** A rule of `<text>` cells: inputs first, then outputs. */
export function rule(id: string, inputs: string[], outputs: string[]): string {
  const cell = (tag: string, text: string, i: number) => `<${tag} id="${id}_${tag}${i}"><text>${text}</text></${tag}>`;
  return `<rule id="${id}">${inputs.map((t, i) => cell('inputEntry', t, i)).join('')}${outputs.map((t, i) => cell('outputEntry', t, i)).join('')}</rule>`;
}

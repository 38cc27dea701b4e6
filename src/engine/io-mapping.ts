import type { ModdleElement } from 'bpmn-moddle';

/*
 * camunda:inputOutput on tasks and events, run by the engine extension in
 * camunda-extension.ts (bpmn-elements' documented hook for Camunda extensions).
 *
 * Input parameters are resolved when the element starts and become its local
 * variables: the run message's `localVariables`, which the expressions read
 * before the process variables (expressions.ts contextScope), so the
 * element's own attributes (assignee, name, topic...) and its output
 * parameters see them. They are carried in the engine state of the waiting
 * element, so they survive between commands like the rest of it.
 *
 * Output parameters are resolved when the element's execution completes,
 * over its local variables and the process variables (with what completing a
 * task set), and written to the process variables one after another (a
 * later one reads what an earlier one wrote) before the outgoing flows are
 * evaluated, as Camunda does. On a multi-instance activity they are each
 * instance's (multi-instance.ts).
 *
 * Values: text, `${expression}`, camunda:list and camunda:map (nested).
 * Script values are refused at deployment (check-scripts.ts); input
 * parameters on a sub-process too (check-extensions.ts): its children would
 * not see them.
 */

/** The element's camunda:inputOutput, when it has one. */
export function inputOutputOf(behaviour: any): ModdleElement | undefined {
  const values: any[] = behaviour?.extensionElements?.values ?? [];
  return values.find((v) => v?.$type === 'camunda:InputOutput');
}

type Resolve = (text: string) => unknown;

/** One parameter's value: its definition (list, map, value) or its body text, expressions resolved. */
export function parameterValue(p: { value?: unknown; definition?: any }, resolve: Resolve): unknown {
  if (p.definition) return definitionValue(p.definition, resolve);
  if (typeof p.value !== 'string') return null;
  return resolve(p.value) ?? null;
}

function definitionValue(d: any, resolve: Resolve): unknown {
  switch (d?.$type) {
    case 'camunda:List':
      return ((d.items ?? []) as any[]).map((item) => definitionValue(item, resolve));
    case 'camunda:Map': {
      const out: Record<string, unknown> = {};
      for (const e of (d.entries ?? []) as any[]) {
        if (typeof e?.key === 'string') out[e.key] = parameterValue(e, resolve);
      }
      return out;
    }
    case 'camunda:Value':
      return typeof d.value === 'string' ? resolve(d.value) ?? null : null;
    default:
      // A script (refused at deployment) or something unknown: never run here.
      throw new Error(`camunda:inputOutput value ${String(d?.$type)} is not run here`);
  }
}

/** An element's input and output parameters, resolved on demand (camunda-extension.ts calls them in Camunda's order). */
export interface IoMapping {
  /** The element's local variables at its start: the input parameters, resolved in order over `message`. */
  inputs(message: any): Record<string, unknown> | undefined;
  /** Writes the output parameters, resolved over `message` (its local variables first), to the process variables. */
  outputs(message: any): void;
}

export function ioMappingOf(activity: any): IoMapping | undefined {
  const io = inputOutputOf(activity.behaviour);
  if (!io || (!io.inputParameters?.length && !io.outputParameters?.length)) return undefined;
  const environment = activity.environment;
  const inputs = (io.inputParameters ?? []) as any[];
  const outputs = (io.outputParameters ?? []) as any[];
  const resolverFor = (message: any): Resolve => (text) => environment.resolveExpression(text, message);
  return {
    inputs(message) {
      if (!inputs.length) return undefined;
      const localVariables: Record<string, unknown> = { ...(message.content?.localVariables ?? {}) };
      const scoped = { ...message, content: { ...message.content, localVariables } };
      // Each parameter sees the ones before it, as Camunda resolves them in order.
      for (const p of inputs) if (p?.name) localVariables[p.name] = parameterValue(p, resolverFor(scoped));
      return localVariables;
    },
    outputs(message) {
      if (!outputs.length) return;
      const resolve = resolverFor(message);
      // One after another, as Camunda sets each: a later parameter reads what an earlier one wrote.
      for (const p of outputs) if (p?.name) environment.variables[p.name] = parameterValue(p, resolve);
    },
  };
}

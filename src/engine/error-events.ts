import * as elements from 'bpmn-elements';
import { processEnvironmentOf } from './event-subprocesses.ts';

/*
 * Camunda 7's BPMN error details that the engine leaves out: the message of
 * a `bpmn:error` (`camunda:errorMessage`), and the variables a catching
 * error event names (`camunda:errorCodeVariable`, `camunda:errorMessageVariable`).
 */

/** The engine's bpmn:Error, which also resolves Camunda's `camunda:errorMessage` as the error's message. */
export function CamundaBpmnError(errorDef: any, context: any) {
  const own = (elements as any).BpmnError(errorDef, context);
  const message: unknown = errorDef.behaviour?.errorMessage;
  return {
    ...own,
    resolve(executionMessage: unknown, error: unknown) {
      const result = own.resolve(executionMessage, error);
      if (typeof message === 'string') result.message = context.environment.resolveExpression(message, { ...(executionMessage as object), error }) ?? message;
      return result;
    },
  };
}

/**
 * When an error event that caught an error ends (a boundary event, an error
 * start of an event sub-process), sets the variables it names in the
 * process's scope, as Camunda does; the caught error is the event's output.
 */
export function setCaughtErrorVariables(api: any): void {
  const error = api.content?.output;
  if (!error || typeof error !== 'object' || error.code === undefined) return;
  const definitions: any[] = api.owner?.behaviour?.eventDefinitions ?? [];
  const caught = definitions.find((d) => d?.type === 'bpmn:ErrorEventDefinition')?.behaviour;
  // Inside a sub-process (an error start of an event sub-process there) the event's own environment is a copy.
  const variables = processEnvironmentOf(api)?.variables;
  if (!caught || !variables) return;
  if (typeof caught.errorCodeVariable === 'string' && caught.errorCodeVariable) variables[caught.errorCodeVariable] = error.code ?? null;
  if (typeof caught.errorMessageVariable === 'string' && caught.errorMessageVariable) variables[caught.errorMessageVariable] = error.message ?? null;
}

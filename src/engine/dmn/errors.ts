/**
 * A decision could not be evaluated as Camunda 7 would: a hit policy was
 * violated (UNIQUE, ANY), an expression failed, or a value does not fit its
 * typeRef. The message names the decision and the rules or the expression,
 * Chinese first, English after; the services turn it into an incident or a 4xx.
 */
export class DecisionEvaluationError extends Error {
  constructor(
    message: string,
    readonly decisionKey: string,
    readonly ruleIds: string[] = [],
  ) {
    super(message);
    this.name = 'DecisionEvaluationError';
  }
}

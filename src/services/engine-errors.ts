import { AppError } from '../errors.ts';
import { EngineRunError } from '../engine/runner.ts';

/**
 * The model could not continue with the data given (no outgoing flow matched,
 * an expression failed). Nothing was saved; the caller can correct the input.
 */
export class ProcessEngineError extends AppError {
  constructor(message: string, details?: unknown) {
    super('ProcessEngineException', message, details);
  }
}

export function toEngineError(err: unknown): unknown {
  if (!(err instanceof EngineRunError)) return err;
  return new ProcessEngineError(`流程无法继续 / the process cannot continue: ${err.message}`, { activityId: err.activityId });
}

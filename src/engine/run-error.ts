/** A failure inside the engine while running a model (no flow matched, bad expression...). */
export class EngineRunError extends Error {
  override name = 'EngineRunError';
  constructor(message: string, readonly activityId: string | null) {
    super(message);
  }
}

/**
 * What one engine run and one script in it may spend. Set once at start-up
 * from the configuration (setEngineLimits); the defaults hold otherwise.
 */
export interface EngineLimits {
  /** CPU time of one script run, in milliseconds. */
  scriptTimeoutMs: number;
  /** Memory of one script run, in megabytes. */
  scriptMemoryMb: number;
  /**
   * Threads that run scripts, each one script at a time. More than one, so a
   * script spending its whole limit does not hold up every other run's scripts;
   * each costs its own QuickJS heap (up to twice scriptMemoryMb, plus 16 MB).
   */
  scriptThreads: number;
  /** Elements one engine run may start before it is stopped (a cycle that never waits). */
  runSteps: number;
  /** Wall-clock time of one engine run, in milliseconds. */
  runWallMs: number;
}

export const engineLimits: EngineLimits = {
  scriptTimeoutMs: 1000,
  scriptMemoryMb: 32,
  scriptThreads: 2,
  runSteps: 5_000,
  runWallMs: 10_000,
};

export function setEngineLimits(limits: Partial<EngineLimits>): void {
  Object.assign(engineLimits, limits);
}

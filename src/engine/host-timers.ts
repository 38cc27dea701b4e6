/**
 * The engine's `timers` seam, owned by the host. Nothing is ever armed in
 * this process: a timer is a row with a due time (see services/timers.ts),
 * and an engine is only alive for one command. When the scheduler fires a
 * timer, the instance is resumed with that timer's execution id in `fire`:
 * as the engine re-registers it, its callback runs at once. Unlike
 * bpmn-elements' own Timers this also works for delays of 2^31 ms and more,
 * which it would never hand to setTimeout.
 */
export class HostTimers {
  executing: unknown[] = [];

  /**
   * @param fire timer execution ids to fire as they are registered
   * @param now the server's "now", when it is not the process clock (tests): a
   *   `timeDate` is compared with it (see serialize.ts, HostTimerEventDefinition)
   * @param zone the server's time zone (TIMEZONE): a `timeDate` without an
   *   offset is local time there, not in the host's zone
   */
  constructor(private readonly fire: ReadonlySet<string> = new Set(), readonly now?: Date, readonly zone?: string) {}

  register(owner: unknown) {
    return {
      setTimeout: (callback: (...args: unknown[]) => void, delay: number, ...args: unknown[]) => this.setTimeout(callback, delay, ...args),
      clearTimeout: () => undefined,
      owner,
    };
  }

  setTimeout(callback: (...args: unknown[]) => void, _delay: number, ...args: unknown[]) {
    const executionId = (args[0] as { executionId?: string } | undefined)?.executionId;
    // A microtask, not a call in place: the engine finishes arming before the timer completes.
    if (executionId && this.fire.has(executionId)) queueMicrotask(() => callback(...args));
    return { executionId };
  }

  clearTimeout(): void {}
}

// The part of `debug` (bpmn-engine's logger) that src/engine/runner.ts tunes; the package ships no types.
declare module 'debug' {
  const createDebug: { inspectOpts: Record<string, unknown> };
  export default createDebug;
}

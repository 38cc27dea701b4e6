import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { engineLimits } from './limits.ts';

/** Given to the script thread once, when it starts. */
export interface SandboxSetup {
  memoryMb: number;
}

/** One script run: the code and the JSON-typed data it may see. */
export interface SandboxJob {
  code: string;
  /** Names the element in QuickJS's stack traces. */
  filename: string;
  timeoutMs: number;
  input: {
    variables: Record<string, unknown>;
    processInstanceId: string | null;
    businessKey: string | null;
    activityId: string;
    activityName: string | null;
  };
}

export type SandboxReply =
  | { ok: true; output: string }
  | { ok: false; kind: ScriptFailureKind; message: string; broken?: boolean };

export type ScriptFailureKind = 'timeout' | 'memory' | 'error';

/** What a script did: its last expression's value, and the variables it set or removed. */
export interface ScriptOutcome {
  result: unknown;
  /** The result's truthiness by JavaScript's rules, decided inside the sandbox. */
  truthy: boolean;
  set: Record<string, unknown>;
  removed: string[];
}

/** A script that threw, ran past its time or outgrew its memory. */
export class ScriptFailure extends Error {
  override name = 'ScriptFailure';
  constructor(readonly kind: ScriptFailureKind, message: string) {
    super(message);
  }
}

/** How long past its own limit a script may keep the main thread before its thread is terminated. */
const BACKSTOP_MS = 500;
/** How long a run waits, synchronously, for a replacement thread to load QuickJS. */
const STARTUP_MS = 10_000;

interface ScriptThread {
  worker: Worker;
  port: MessagePort;
  signal: Int32Array;
  ready: Promise<void>;
}

let thread: ScriptThread | undefined;

/**
 * The script thread, started once per process (WebAssembly instantiation is
 * costly) and again only after one was terminated. Engine runs await this
 * before they start, because a script runs synchronously inside a run.
 */
export function sandboxReady(): Promise<void> {
  thread ??= spawn();
  return thread.ready;
}

function spawn(): ScriptThread {
  const { port1, port2 } = new MessageChannel();
  // [0]: a job's reply is ready; [1]: the thread has loaded QuickJS.
  const signal = new Int32Array(new SharedArrayBuffer(8));
  const setup: SandboxSetup = { memoryMb: engineLimits.scriptMemoryMb };
  const worker = new Worker(new URL('./sandbox-worker.mjs', import.meta.url), {
    workerData: { setup, port: port2, signal },
    transferList: [port2],
  });
  worker.unref();
  port1.unref();
  const self: ScriptThread = { worker, port: port1, signal, ready: Promise.resolve() };
  self.ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => resolve());
    worker.once('error', reject);
  });
  worker.on('exit', () => { if (thread === self) thread = undefined; });
  worker.on('error', () => { if (thread === self) thread = undefined; });
  return self;
}

/**
 * Runs one script and waits for it synchronously (the engine calls scripts
 * synchronously). The main thread waits at most the script's time limit and
 * a backstop; a script still running then has its thread terminated.
 */
export function runScript(job: Omit<SandboxJob, 'timeoutMs'>, timeoutMs = engineLimits.scriptTimeoutMs): ScriptOutcome {
  // Another run's script may have had the thread terminated since this run awaited sandboxReady.
  const current = (thread ??= spawn());
  if (Atomics.wait(current.signal, 1, 0, STARTUP_MS) === 'timed-out') {
    discard(current);
    throw new ScriptFailure('error', '脚本沙箱未能启动 / the script sandbox did not start');
  }
  Atomics.store(current.signal, 0, 0);
  current.worker.postMessage({ ...job, timeoutMs } satisfies SandboxJob);
  const waited = Atomics.wait(current.signal, 0, 0, timeoutMs + BACKSTOP_MS);
  const reply = receiveMessageOnPort(current.port)?.message as SandboxReply | undefined;
  if (waited === 'timed-out' || !reply) {
    discard(current);
    throw new ScriptFailure('timeout', `脚本超过 ${timeoutMs} ms 时限 / the script ran past its ${timeoutMs} ms limit`);
  }
  if (!reply.ok) {
    if (reply.broken) discard(current);
    if (reply.kind === 'timeout') throw new ScriptFailure('timeout', `脚本超过 ${timeoutMs} ms 时限 / the script ran past its ${timeoutMs} ms limit`);
    if (reply.kind === 'memory') throw new ScriptFailure('memory', `脚本超过 ${engineLimits.scriptMemoryMb} MB 内存上限 / the script outgrew its ${engineLimits.scriptMemoryMb} MB memory limit (${reply.message})`);
    throw new ScriptFailure('error', `脚本出错 / the script failed: ${reply.message}`);
  }
  return parseOutcome(reply.output);
}

function discard(current: ScriptThread): void {
  if (thread === current) thread = undefined;
  void current.worker.terminate();
}

/** The thread's answer, checked: it was written by code the script could have tampered with. */
function parseOutcome(text: string): ScriptOutcome {
  const parsed = JSON.parse(text) as Partial<ScriptOutcome>;
  const set = parsed.set;
  const removed = parsed.removed;
  if (!set || typeof set !== 'object' || Array.isArray(set) || !Array.isArray(removed) || !removed.every((r) => typeof r === 'string')) {
    throw new ScriptFailure('error', '脚本结果无效 / the script returned an invalid outcome');
  }
  return { result: parsed.result ?? null, truthy: parsed.truthy === true, set, removed };
}

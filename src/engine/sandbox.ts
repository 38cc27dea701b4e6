import { EventEmitter } from 'node:events';
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { ValidationError } from '../errors.ts';
import { checkJson } from '../well-formed.ts';
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
    /** Given to a task listener: the script then has `task` too. */
    task?: { eventName: string } | undefined;
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
  /** What a `create` task listener changed on its task (sandbox-worker.mjs), checked here. */
  task?: TaskChanges;
}

/** A task's attributes a create listener script may set. */
export interface TaskChanges {
  assignee?: string | null;
  assigneeSet?: boolean;
  name?: string | null;
  description?: string | null;
  priority?: number;
  due?: string | null;
}

/** A script that threw, ran past its time or outgrew its memory. */
export class ScriptFailure extends Error {
  override name = 'ScriptFailure';
  constructor(readonly kind: ScriptFailureKind, message: string) {
    super(message);
  }
}

/** How long past its own limit a script may run before its thread is terminated. */
const BACKSTOP_MS = 500;
/** How long a new thread may take to load QuickJS before it is given up. */
const STARTUP_MS = 10_000;

/** A script waiting for a thread, or running on one. */
interface Pending {
  job: Omit<SandboxJob, 'timeoutMs'>;
  /** Asked when a thread takes the job: time spent queued is not the script's. */
  limit: () => number;
  resolve: (outcome: ScriptOutcome) => void;
  reject: (err: ScriptFailure) => void;
}

interface ScriptThread {
  worker: Worker;
  port: MessagePort;
  state: 'starting' | 'idle' | 'busy' | 'gone';
  /** Resolves when QuickJS is loaded; rejects when the thread failed to start. */
  ready: Promise<void>;
  job?: { pending: Pending; id: number; timeoutMs: number; backstop: NodeJS.Timeout };
}

/**
 * The script threads: at most `engineLimits.scriptThreads`, each started on
 * first need and kept for the process (WebAssembly instantiation is costly),
 * replaced only after one was terminated. A thread runs one script at a time;
 * scripts beyond the free threads wait in `queue`, in order. The main thread
 * never waits for a script: it hands the job over and is told by a message.
 */
const threads = new Set<ScriptThread>();
const queue: Pending[] = [];
let jobIds = 0;

/**
 * Emits 'dispatch' (with the script's filename) when a thread takes a script,
 * and 'settled' when its outcome is known: lets a test act, and check, while
 * a script is known to be running.
 */
export const sandboxEvents = new EventEmitter();

/**
 * Starts a script thread if none is up, and resolves when one has loaded
 * QuickJS: a warm-up, so that the first script of the process does not spend
 * its run's wall-clock budget waiting for it.
 */
export function sandboxReady(): Promise<void> {
  const up = [...threads];
  if (up.some((t) => t.state === 'idle' || t.state === 'busy')) return Promise.resolve();
  return (up.find((t) => t.state === 'starting') ?? spawn()).ready;
}

function spawn(): ScriptThread {
  const { port1, port2 } = new MessageChannel();
  const setup: SandboxSetup = { memoryMb: engineLimits.scriptMemoryMb };
  const worker = new Worker(new URL('./sandbox-worker.mjs', import.meta.url), {
    workerData: { setup, port: port2 },
    transferList: [port2],
  });
  const self: ScriptThread = { worker, port: port1, state: 'starting', ready: Promise.resolve() };
  threads.add(self);
  // Kept alive while it loads (a run may be waiting for it); after that, only a running job's backstop keeps the process up.
  const startup = setTimeout(() => startFailed(self, new Error('timed out')), STARTUP_MS);
  self.ready = new Promise<void>((resolve, reject) => {
    worker.once('message', () => {
      clearTimeout(startup);
      if (self.state !== 'starting') return;
      self.state = 'idle';
      resolve();
      pump();
    });
    worker.once('error', (err) => { clearTimeout(startup); reject(err); });
    worker.once('exit', () => { clearTimeout(startup); reject(new Error('exited')); });
  });
  // Nobody need be waiting for this promise (pump spawns too); its failure is handled below.
  self.ready.catch((err: Error) => startFailed(self, err));
  worker.unref();
  port1.on('message', (reply: SandboxReply & { id: number }) => replied(self, reply));
  port1.unref();
  worker.on('exit', () => lost(self, new Error('exited')));
  worker.on('error', (err) => lost(self, err));
  return self;
}

/** A thread that never loaded QuickJS: with no other thread to run them, the waiting scripts fail. */
function startFailed(self: ScriptThread, err: Error): void {
  if (self.state !== 'starting') return;
  discard(self);
  if ([...threads].some((t) => t.state !== 'gone')) return pump();
  for (const pending of queue.splice(0)) {
    pending.reject(new ScriptFailure('error', `脚本沙箱未能启动 / the script sandbox did not start (${err.message})`));
  }
}

/** A thread that ended on its own (it crashed): its job fails, the queue moves to the others. */
function lost(self: ScriptThread, err: Error): void {
  if (self.state === 'gone') return;
  // Not by pump: a thread that cannot start would be replaced for ever.
  if (self.state === 'starting') return startFailed(self, err);
  const job = self.job;
  discard(self);
  if (job) sandboxEvents.emit('settled', job.pending.job.filename);
  job?.pending.reject(new ScriptFailure('error', '脚本线程意外结束 / the script thread ended unexpectedly'));
  pump();
}

/** Hands waiting scripts to idle threads, starting threads up to the limit. */
function pump(): void {
  while (queue.length) {
    const idle = [...threads].find((t) => t.state === 'idle');
    if (idle) {
      dispatch(idle, queue.shift()!);
      continue;
    }
    const starting = [...threads].filter((t) => t.state === 'starting').length;
    if (threads.size >= Math.max(1, engineLimits.scriptThreads) || starting >= queue.length) return;
    spawn();
  }
}

function dispatch(self: ScriptThread, pending: Pending): void {
  const timeoutMs = pending.limit();
  const id = ++jobIds;
  // The backstop: a script its own limits failed to stop (a builtin call QuickJS cannot
  // interrupt) has its thread terminated. This timer also keeps the process alive meanwhile.
  const backstop = setTimeout(() => {
    sandboxEvents.emit('settled', pending.job.filename);
    discard(self);
    pending.reject(timedOut(timeoutMs));
    pump();
  }, timeoutMs + BACKSTOP_MS);
  self.state = 'busy';
  self.job = { pending, id, timeoutMs, backstop };
  self.worker.postMessage({ ...pending.job, timeoutMs, id });
  sandboxEvents.emit('dispatch', pending.job.filename);
}

function replied(self: ScriptThread, reply: SandboxReply & { id: number }): void {
  const job = self.job;
  if (!job || job.id !== reply.id || self.state !== 'busy') return;
  clearTimeout(job.backstop);
  self.job = undefined;
  self.state = 'idle';
  sandboxEvents.emit('settled', job.pending.job.filename);
  try {
    job.pending.resolve(outcomeOf(reply, job.timeoutMs, self));
  } catch (err) {
    job.pending.reject(err as ScriptFailure);
  }
  pump();
}

/**
 * Runs one script on a script thread. The promise settles with what the
 * script did, or rejects with a ScriptFailure: it threw, ran past
 * `timeoutMs` (asked when a thread takes it), or outgrew its memory.
 */
export function runScript(job: Omit<SandboxJob, 'timeoutMs'>, timeoutMs: number | (() => number) = engineLimits.scriptTimeoutMs): Promise<ScriptOutcome> {
  return new Promise<ScriptOutcome>((resolve, reject) => {
    queue.push({ job, limit: typeof timeoutMs === 'function' ? timeoutMs : () => timeoutMs, resolve, reject });
    pump();
  });
}

function outcomeOf(reply: SandboxReply, timeoutMs: number, self: ScriptThread): ScriptOutcome {
  if (reply.ok) return parseOutcome(reply.output);
  if (reply.broken) discard(self);
  if (reply.kind === 'timeout') throw timedOut(timeoutMs);
  if (reply.kind === 'memory') throw new ScriptFailure('memory', `脚本超过 ${engineLimits.scriptMemoryMb} MB 内存上限 / the script outgrew its ${engineLimits.scriptMemoryMb} MB memory limit (${reply.message})`);
  throw new ScriptFailure('error', `脚本出错 / the script failed: ${reply.message}`);
}

const timedOut = (timeoutMs: number) => new ScriptFailure('timeout', `脚本超过 ${timeoutMs} ms 时限 / the script ran past its ${timeoutMs} ms limit`);

/** Ends a thread for good; a replacement is started when a script next needs one. */
function discard(self: ScriptThread): void {
  if (self.state === 'gone') return;
  self.state = 'gone';
  if (self.job) clearTimeout(self.job.backstop);
  self.job = undefined;
  threads.delete(self);
  void self.worker.terminate();
}

const TEXT_CHANGES = ['assignee', 'name', 'description'] as const;

/** A create listener's task changes, checked as the rest of the answer is: the script could have forged them. */
function taskChangesOf(raw: unknown): TaskChanges | undefined {
  if (raw == null) return undefined;
  const bad = () => new ScriptFailure('error', '脚本结果无效 / the script returned an invalid outcome');
  if (typeof raw !== 'object' || Array.isArray(raw)) throw bad();
  const r = raw as Record<string, unknown>;
  const out: TaskChanges = {};
  for (const [k, v] of Object.entries(r)) {
    if ((TEXT_CHANGES as readonly string[]).includes(k) && (v === null || (typeof v === 'string' && v.length <= 4000 && !v.includes('\u0000')))) out[k as typeof TEXT_CHANGES[number]] = v as string | null;
    else if (k === 'assigneeSet' && typeof v === 'boolean') out.assigneeSet = v;
    else if (k === 'priority' && Number.isInteger(v) && Math.abs(v as number) <= 2 ** 31 - 1) out.priority = v as number;
    else if (k === 'due' && (v === null || (typeof v === 'string' && !Number.isNaN(Date.parse(v))))) out.due = v as string | null;
    else throw bad();
  }
  return Object.keys(out).length ? out : undefined;
}

/** The thread's answer, checked: it was written by code the script could have tampered with. */
function parseOutcome(text: string): ScriptOutcome {
  // Parsed on the main thread: a script handing back tens of megabytes would cost every run's memory.
  if (text.length > MAX_OUTCOME_CHARS) {
    throw new ScriptFailure('memory', `脚本结果超过 ${MAX_OUTCOME_CHARS} 字符 / the script's outcome exceeds ${MAX_OUTCOME_CHARS} characters`);
  }
  const parsed = JSON.parse(text) as Partial<ScriptOutcome>;
  const set = parsed.set;
  const removed = parsed.removed;
  if (!set || typeof set !== 'object' || Array.isArray(set) || !Array.isArray(removed) || !removed.every((r) => typeof r === 'string')) {
    throw new ScriptFailure('error', '脚本结果无效 / the script returned an invalid outcome');
  }
  // What the database and the variable rules cannot hold (a NUL, half of a surrogate pair cut by
  // substring, nesting past the body limit, a member named __proto__, which would replace the
  // prototype of the engine's variables) fails the script naming the variable, never the save.
  try {
    checkJson({ set, removed, result: parsed.result ?? null }, SCRIPT_OUTCOME);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    throw new ScriptFailure('error', `脚本设置了无法保存的值 / the script set a value the server cannot keep: ${err.message}`);
  }
  return { result: parsed.result ?? null, truthy: parsed.truthy === true, set, removed, task: taskChangesOf(parsed.task) };
}

/** 4 MiB of JSON text: far above any real variable set, far below a heap-filling one. */
const MAX_OUTCOME_CHARS = 4 * 1024 * 1024;
const SCRIPT_OUTCOME = { zh: '脚本结果', en: 'the script outcome' };

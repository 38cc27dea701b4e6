// The thread that runs diagram scripts: QuickJS compiled to WebAssembly, loaded
// once per thread. Nothing of Node is reachable from inside QuickJS: the
// interpreter gets strings in and gives one string back. This thread exists
// so that the main thread keeps serving while a script runs, and can end a
// script that its own limits failed to stop (a builtin call QuickJS cannot
// interrupt) by terminating the thread.

import { parentPort, workerData } from 'node:worker_threads';
import { newQuickJSWASMModuleFromVariant, newVariant } from 'quickjs-emscripten-core';
import releaseSync from '@jitl/quickjs-wasmfile-release-sync';

/** @type {{ setup: import('./sandbox.ts').SandboxSetup, port: import('node:worker_threads').MessagePort }} */
const { setup, port } = workerData;
const PAGE = 64 * 1024;
/** What QuickJS needs before any script allocates (its own heap, atoms, the emscripten stack). */
const BASE_MB = 16;

/**
 * The whole WebAssembly heap is capped, not just QuickJS's own count of it:
 * QuickJS's malloc limit misses most of a large string's bytes in this build,
 * so a script could otherwise grow the heap to 2 GB before it failed.
 */
const memory = new WebAssembly.Memory({ initial: BASE_MB * (1024 * 1024 / PAGE), maximum: (BASE_MB + setup.memoryMb * 2) * (1024 * 1024 / PAGE) });
const quickjs = await newQuickJSWASMModuleFromVariant(newVariant(releaseSync, { wasmMemory: memory }));

/**
 * Camunda 7's script API, written in the script's own language over a JSON
 * copy of the variables. The script changes only that copy; what it set and
 * removed goes back as JSON, and the host applies it.
 */
const PRELUDE = `(function (inputText) {
  const input = JSON.parse(inputText);
  const stringify = JSON.stringify, parse = JSON.parse, keys = Object.keys;
  const vars = input.variables, set = {}, removed = {};
  const copy = (v) => { const text = stringify(v); return text === undefined ? null : parse(text); };
  const has = (name) => Object.prototype.hasOwnProperty.call(vars, name);
  const variableApi = {
    getVariable: (name) => has(String(name)) ? copy(vars[String(name)]) : null,
    getVariables: () => copy(vars),
    hasVariable: (name) => has(String(name)),
    setVariable: (name, value) => { name = String(name); vars[name] = copy(value); set[name] = vars[name]; delete removed[name]; },
    removeVariable: (name) => { name = String(name); delete vars[name]; delete set[name]; removed[name] = true; },
  };
  globalThis.execution = Object.freeze({
    ...variableApi,
    getProcessInstanceId: () => input.processInstanceId,
    getProcessBusinessKey: () => input.businessKey,
    getActivityId: () => input.activityId,
    getCurrentActivityName: () => input.activityName,
  });
  // A task listener's task (Camunda's DelegateTask): its variables are the execution's; its own
  // attributes where the host knows the task (attributes), changeable by a create listener (mutable).
  const a = input.task && input.task.attributes, changes = {};
  const str = (v) => (v == null ? null : String(v));
  if (input.task) globalThis.task = Object.freeze({
    ...variableApi,
    getName: () => (a ? a.name : input.activityName),
    getTaskDefinitionKey: () => input.activityId,
    getEventName: () => input.task.eventName,
    // An assignment listener is told the assignee; the others where the task is known.
    ...('assignee' in input.task ? { getAssignee: () => input.task.assignee } : {}),
    ...(a ? {
      getId: () => a.id, getAssignee: () => a.assignee, getOwner: () => a.owner, getDescription: () => a.description,
      getPriority: () => a.priority, getDueDate: () => (a.due == null ? null : new Date(a.due)),
    } : {}),
    ...(a && input.task.mutable ? {
      setAssignee: (v) => { v = str(v); if (v != null || a.assignee != null) changes.assigneeSet = true; a.assignee = changes.assignee = v; },
      setName: (v) => { a.name = changes.name = str(v); },
      setDescription: (v) => { a.description = changes.description = str(v); },
      setPriority: (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || Math.abs(n) > 2147483647) throw new TypeError('setPriority takes a whole number');
        a.priority = changes.priority = n;
      },
      setDueDate: (v) => {
        if (v != null && !(v instanceof Date && !Number.isNaN(v.getTime()))) throw new TypeError('setDueDate takes a Date');
        a.due = changes.due = v == null ? null : v.toISOString();
      },
    } : {}),
    getProcessInstanceId: () => input.processInstanceId,
    getExecution: () => globalThis.execution,
  });
  // Returned, not left on the global object, where the script could replace it.
  return (result) => stringify({ result: copy(result), truthy: !!result, set, removed: keys(removed), task: changes });
})`;

parentPort.on('message', (/** @type {import('./sandbox.ts').SandboxJob & { id: number }} */ job) => {
  let reply;
  try {
    reply = run(job);
  } catch (err) {
    // The interpreter itself failed (an abort inside WebAssembly): this thread is not trusted again.
    reply = { ok: false, kind: 'error', message: err?.message ?? String(err), broken: true };
  }
  // The id ties the reply to its job: the main thread ignores any other.
  port.postMessage({ ...reply, id: job.id });
});
parentPort.postMessage('ready');

/** @returns {import('./sandbox.ts').SandboxReply} */
function run(job) {
  const runtime = quickjs.newRuntime();
  try {
    runtime.setMemoryLimit(setup.memoryMb * 1024 * 1024);
    runtime.setMaxStackSize(512 * 1024);
    const deadline = Date.now() + job.timeoutMs;
    runtime.setInterruptHandler(() => Date.now() > deadline);
    const context = runtime.newContext();
    try {
      const prelude = context.evalCode(PRELUDE, 'prelude.js');
      if (prelude.error) return failure(context, prelude.error, false);
      const input = context.newString(JSON.stringify(job.input));
      const made = context.callFunction(prelude.value, context.undefined, input);
      input.dispose();
      prelude.value.dispose();
      if (made.error) return failure(context, made.error, Date.now() > deadline);
      const output = made.value;
      try {
        const r = context.evalCode(job.code, job.filename);
        if (r.error) return failure(context, r.error, Date.now() > deadline);
        const out = context.callFunction(output, context.undefined, r.value);
        r.value.dispose();
        if (out.error) return failure(context, out.error, Date.now() > deadline);
        const text = context.getString(out.value);
        out.value.dispose();
        return { ok: true, output: text };
      } finally {
        output.dispose();
      }
    } finally {
      context.dispose();
    }
  } finally {
    runtime.dispose();
  }
}

/** @returns {import('./sandbox.ts').SandboxReply} */
function failure(context, handle, late) {
  const error = context.dump(handle);
  handle.dispose();
  const e = error ?? {};
  const message = typeof e === 'object' && e.message !== undefined ? `${String(e.name ?? 'Error')}: ${String(e.message)}` : String(error);
  if (late || (e.name === 'InternalError' && e.message === 'interrupted')) return { ok: false, kind: 'timeout', message };
  if (/out of memory|stack overflow|string too long/i.test(String(e.message))) return { ok: false, kind: 'memory', message };
  return { ok: false, kind: 'error', message };
}

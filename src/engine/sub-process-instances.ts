
/** Names, in a sub-process scope's variables, of those that are its own (multi-instance loop variables). */
export const INSTANCE_LOCALS = 'camunda:instanceLocals';

/** What the engine itself keeps among a sub-process's variables (its run message), never process variables. */
const ENGINE_KEYS = ['fields', 'content', 'properties'];

const kVariables = Symbol.for('variables');

/**
 * An embedded sub-process (or a transaction) as a scope of Camunda 7: the engine runs it (each
 * instance, when multi-instance) in a copy of the process's variables, so
 * what its elements set (a script's `execution.setVariable`, an output
 * parameter) was lost when it ended. Here its variables are the enclosing
 * scope's, seen through its own locals: an instance's loop variables
 * (element variable, loopCounter, nrOf*), which its elements read first
 * (`${region}` in a task name) and which setting changes in place; any
 * other name is read from and written to the enclosing scope, as Camunda's
 * `setVariable` sets a variable where it is found, else on the process.
 * The locals are saved with the scope's environment and recovered with it;
 * state.ts keeps process variables of the same name from overwriting them.
 */
export function scopedSubProcess(own: (activityDef: any, context: any) => any): (activityDef: any, context: any) => any {
  // A function, not an arrow: the engine may call element types with `new`.
  return function ScopedSubProcess(activityDef: any, context: any) {
    return scoped(own(activityDef, context));
  };
}

function scoped(activity: any): any {
  const Own = activity.Behaviour;
  activity.Behaviour = function ScopedBehaviour(a: any, c: any) {
    const behaviour = new Own(a, c);
    const upsert = behaviour._upsertExecution;
    behaviour._upsertExecution = function upsertExecution(this: any, executeMessage: any) {
      const { executionId, isMultiInstance, loopVariables } = executeMessage.content ?? {};
      const fresh = !this._getExecutionById(executionId);
      const execution = upsert.call(this, executeMessage);
      if (fresh) {
        const own = isMultiInstance && loopVariables && typeof loopVariables === 'object' ? { ...loopVariables } : {};
        scope(execution.environment, () => this.environment.variables, own);
      }
      return execution;
    };
    const recover = behaviour.recover;
    behaviour.recover = function recoverScope(this: any, state: any) {
      const execution = recover.call(this, state);
      if (execution) {
        const saved = execution.environment.variables;
        const names = [...(Array.isArray(saved[INSTANCE_LOCALS]) ? saved[INSTANCE_LOCALS] : []), ...ENGINE_KEYS];
        scope(execution.environment, () => this.environment.variables, Object.fromEntries(names.filter((n) => Object.hasOwn(saved, n)).map((n) => [n, saved[n]])));
      }
      return execution;
    };
    return behaviour;
  };
  return activity;
}

/**
 * Makes `environment`'s variables `own` in front of the enclosing scope's,
 * asked for at each use (the engine replaces a scope's variables object when
 * it runs); the engine's run message is kept among the locals.
 */
function scope(environment: any, enclosing: () => Record<string, unknown>, own: Record<string, unknown>): void {
  const locals: Record<string, unknown> = { ...own };
  const loopNames = Object.keys(own).filter((n) => n !== INSTANCE_LOCALS && !ENGINE_KEYS.includes(n));
  if (loopNames.length) locals[INSTANCE_LOCALS] = Array.isArray(own[INSTANCE_LOCALS]) ? own[INSTANCE_LOCALS] : loopNames;
  const isLocal = (name: string | symbol) => Object.hasOwn(locals, name);
  environment[kVariables] = new Proxy(locals, {
    get: (_, name) => (isLocal(name) ? locals[name as string] : (enclosing() as any)[name]),
    set: (_, name, value) => {
      if (isLocal(name)) locals[name as string] = value;
      else (enclosing() as any)[name] = value;
      return true;
    },
    has: (_, name) => isLocal(name) || name in enclosing(),
    deleteProperty: (_, name) => (isLocal(name) ? delete locals[name as string] : delete (enclosing() as any)[name]),
    ownKeys: () => [...new Set([...Reflect.ownKeys(enclosing()), ...Reflect.ownKeys(locals)])],
    getOwnPropertyDescriptor: (_, name) => {
      const outer = enclosing();
      const holder = isLocal(name) ? locals : Object.hasOwn(outer, name) ? outer : undefined;
      return holder ? { value: (holder as any)[name], writable: true, enumerable: true, configurable: true } : undefined;
    },
  });
  // The engine assigns its run message to the variables when the scope starts: it stays local.
  environment.assignVariables = (values: unknown) => {
    if (values && typeof values === 'object') Object.assign(locals, values);
  };
}

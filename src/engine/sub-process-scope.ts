/*
 * Variables set inside an embedded sub-process are the process instance's,
 * as in Camunda 7: a script's `execution.setVariable`, an output parameter or
 * a task's completion inside it sets the variable where it is found, else on
 * the process instance. The engine (bpmn-elements 17) gives each sub-process
 * execution a copy of the variables instead, so what its elements set stayed
 * in the copy: invisible through REST, never saved as a process variable,
 * and read by nothing after the sub-process. Here the copy is the process's
 * own variables object. (Sub-process local variables, from input parameters,
 * are refused at deployment: check-extensions.ts.)
 */

/** Wraps an engine activity type built on the engine's sub-process behaviour so that its executions share their parent's variables. */
export function sharedScope(own: (activityDef: any, context: any) => any): (activityDef: any, context: any) => any {
  return function SharedScopeSubProcess(activityDef: any, context: any) {
    const activity = own(activityDef, context);
    const Behaviour = activity.Behaviour;
    activity.Behaviour = function SharedScopeBehaviour(this: any, act: any, ctx: any) {
      const behaviour = new Behaviour(act, ctx);
      const parent = act.environment;
      // The behaviour clones its environment for every execution it starts or recovers; the
      // clone reads and writes the parent's variables as they are at that moment (the engine
      // replaces a process's variables object when its execution starts or resumes).
      behaviour.environment = Object.create(parent, { clone: { value: (options?: any) => sharing(parent.clone(options), parent) } });
      return behaviour;
    };
    return activity;
  };
}

/** `env` with the variables of `parent`: reads, assignments (an execution starting) and what elements set. */
function sharing(env: any, parent: any): any {
  Object.defineProperty(env, 'variables', { get: () => parent.variables, configurable: true });
  env.assignVariables = (values: unknown) => {
    if (values && typeof values === 'object') Object.assign(parent.variables, values);
  };
  return env;
}

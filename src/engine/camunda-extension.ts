import { ioMappingOf } from './io-mapping.ts';
import { JAVASCRIPT, type SandboxScripts } from './scripts.ts';

/*
 * Camunda's element extensions as one bpmn-elements extension (the engine's
 * documented hook), so they run in Camunda 7's order:
 *
 *   start: input parameters (local variables), then `start` execution listeners;
 *   end:   output parameters, then `end` execution listeners.
 *
 * Both happen while the engine formats the element's run message (run.start,
 * run.end): what is published to the `format` exchange is merged into that
 * message before the element acts on it. A listener's script runs on a script
 * thread, so its formatting is asynchronous (a `.begin` message naming its
 * `endRoutingKey`); the element waits for it, and the run waits for the
 * scripts (runner.ts guard). The end happens before the outgoing flows are
 * chosen, so a condition sees what an output parameter or end listener set.
 *
 * Listeners run here only in their javascript script form; every other form
 * is refused at deployment (check-extensions.ts, check-scripts.ts).
 */

interface ScriptListener {
  event: string;
  code: string;
}

/** The element's inline javascript execution listeners for `event`, in document order. */
function scriptListeners(behaviour: any, event: string): ScriptListener[] {
  const values: any[] = behaviour?.extensionElements?.values ?? [];
  return values
    .filter((v) => v?.$type === 'camunda:ExecutionListener' && v.event === event && v.script && JAVASCRIPT.test(String(v.script.scriptFormat ?? '')))
    .map((v) => ({ event, code: String(v.script.value ?? '') }));
}

type Extension = { activate(): void; deactivate(): void };

export function camundaExtension(scripts: SandboxScripts): (activity: any) => Extension | undefined {
  return (activity) => {
    const io = ioMappingOf(activity);
    const starts = scriptListeners(activity.behaviour, 'start');
    const ends = scriptListeners(activity.behaviour, 'end');
    if (!io && !starts.length && !ends.length) return undefined;
    const { broker, environment, id } = activity;
    const name: string | null = activity.name ?? null;

    /** Runs `listeners` one after another over the locals, then hands the final locals to `done`. */
    const runAll = (listeners: ScriptListener[], locals: Record<string, unknown>, done: (locals: Record<string, unknown>) => void) => {
      const next = (i: number, current: Record<string, unknown>) => {
        if (i >= listeners.length) return done(current);
        const l = listeners[i]!;
        scripts.listener({ activityId: id, activityName: name, event: l.event, code: l.code }, environment.variables, current, (after) => next(i + 1, after));
      };
      next(0, locals);
    };

    /** Formats the run message `phase` (start, end): synchronously when no listener runs, else when the last one is done. */
    const format = (phase: 'start' | 'end', listeners: ScriptListener[], locals: Record<string, unknown> | undefined) => {
      if (!listeners.length) {
        if (locals) broker.publish('format', `run.${phase}.camunda`, { localVariables: locals });
        return;
      }
      const endRoutingKey = `run.${phase}.camunda-listener.end`;
      broker.publish('format', `run.${phase}.camunda-listener.begin`, { endRoutingKey });
      runAll(listeners, locals ?? {}, (after) => {
        broker.publish('format', endRoutingKey, locals || Object.keys(after).length ? { localVariables: after } : {});
      });
    };

    return {
      activate() {
        broker.subscribeTmp('event', 'activity.enter', (_: string, message: any) => {
          format('start', starts, io?.inputs(message));
        }, { noAck: true, consumerTag: '_camunda-start' });
        // Published just before run.end; what is formatted now is merged into it.
        broker.subscribeTmp('event', 'activity.execution.completed', (_: string, message: any) => {
          io?.outputs(message);
          format('end', ends, message.content?.localVariables);
        }, { noAck: true, consumerTag: '_camunda-end' });
      },
      deactivate() {
        broker.cancel('_camunda-start');
        broker.cancel('_camunda-end');
      },
    };
  };
}

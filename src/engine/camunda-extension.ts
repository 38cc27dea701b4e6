import { ioMappingOf } from './io-mapping.ts';
import type { TaskDraft, TaskInfo } from './juel-context.ts';
import { assignedOnCreation, resolveCreatedTask, withDraft } from './task-creation.ts';
import { JAVASCRIPT, type RunBudget, type SandboxScripts } from './scripts.ts';

/*
 * Camunda's element extensions as one bpmn-elements extension (the engine's
 * documented hook), so they run in Camunda 7's order:
 *
 *   start: input parameters (local variables), `start` execution listeners,
 *          then a user task is resolved (task-creation.ts), its `create`
 *          task listeners run, then its `assignment` listeners when it is
 *          created with an assignee;
 *   end:   a user task's `complete` task listeners, output parameters,
 *          then `end` execution listeners.
 *
 * Two Camunda moments have no event of their own in the engine and are
 * placed where they fall in its order: the `take` listeners of the flow
 * that brought the token run first in the start of the element it leads to
 * (after the source's `end`, before anything of the target), and a boundary
 * event's `start` and `end` listeners run together when it fires (its
 * completion), not when the engine arms it.
 *
 * Both happen while the engine formats the element's run message (run.start,
 * run.end): what is published to the `format` exchange is merged into that
 * message before the element acts on it. A listener's script runs on a script
 * thread, so its formatting is asynchronous (a `.begin` message naming its
 * `endRoutingKey`); the element waits for it, and the run waits for the
 * scripts (runner.ts guard). The end happens before the outgoing flows are
 * chosen, so a condition sees what an output parameter or end listener set.
 *
 * Listeners run here in their javascript script form, and `start`/`end`/`take`
 * execution listeners and `create`/`complete` task listeners also in
 * expression form (`camunda:expression`, `${execution.setVariable(…)}`,
 * `${task.setVariable(…)}`), evaluated in place, in document order with the
 * scripts; every other form is refused at deployment (check-extensions.ts,
 * check-scripts.ts).
 */

export interface ScriptListener {
  event: string;
  code: string;
  /** A task listener: the script has `task` too. */
  task: boolean;
  /** An assignment listener's assignee (`task.getAssignee()`). */
  assignee?: string | null;
  /** A listener in expression form (execution `start`/`end`, task `create`/`complete`): evaluated instead of `code`. */
  expression?: string;
  /** A `take` listener: the flow it is on (named when it fails) and the activity the flow leaves (the execution's current activity). */
  flow?: { id: string; sourceId: string };
}

/**
 * The `take` listeners of the flows that brought the token into an element
 * (`inbound` of its enter message), in the order the flows were taken and in
 * document order on each. Camunda parses every execution listener on a
 * sequence flow as a take listener, whatever its `event` says; so is it read
 * here. Flows into a join and out of an event-based gateway have none: they
 * are refused at deployment (check-scripts.ts takeListenerRefusal).
 */
export function takeListeners(activity: any, inbound: any[] | undefined): ScriptListener[] {
  const taken = (inbound ?? []).filter((f) => f?.isSequenceFlow && f.action === 'take');
  if (!taken.length) return [];
  const flows: any[] = activity.context?.getInboundSequenceFlows?.(activity.id) ?? [];
  return taken.flatMap((f) => {
    const flow = flows.find((x) => x.id === f.id);
    const values: any[] = flow?.behaviour?.extensionElements?.values ?? [];
    return values
      .filter((v) => v?.$type === 'camunda:ExecutionListener'
        && ((v.script && JAVASCRIPT.test(String(v.script.scriptFormat ?? ''))) || (!v.script && typeof v.expression === 'string')))
      .map((v): ScriptListener => ({
        event: 'take', code: v.script ? String(v.script.value ?? '') : '', task: false,
        ...(v.script ? {} : { expression: String(v.expression) }),
        flow: { id: String(flow.id), sourceId: String(flow.sourceId) },
      }));
  });
}

/**
 * The element's inline javascript listeners of `type` for `event`, in document order; with
 * `expressions`, its listeners in expression form too (only this extension runs those).
 */
export function scriptListeners(behaviour: any, event: string, type = 'camunda:ExecutionListener', expressions = false): ScriptListener[] {
  const values: any[] = behaviour?.extensionElements?.values ?? [];
  return values
    .filter((v) => v?.$type === type && v.event === event
      && ((v.script && JAVASCRIPT.test(String(v.script.scriptFormat ?? ''))) || (expressions && !v.script && typeof v.expression === 'string')))
    .map((v) => (v.script
      ? { event, code: String(v.script.value ?? ''), task: type === 'camunda:TaskListener' }
      : { event, code: '', task: type === 'camunda:TaskListener', expression: String(v.expression) }));
}

type Extension = { activate(): void; deactivate(): void };

export function camundaExtension(scripts: SandboxScripts, budget: RunBudget): (activity: any) => Extension | undefined {
  return (activity) => {
    const io = ioMappingOf(activity);
    const userTask = activity.type === 'bpmn:UserTask';
    // The engine enters a boundary event when it starts listening; Camunda executes it only when
    // it fires: then its `start` and its `end` listeners run, one after the other, before its path.
    const boundary = activity.type === 'bpmn:BoundaryEvent';
    const starts = scriptListeners(activity.behaviour, 'start', undefined, true);
    const creates = userTask ? scriptListeners(activity.behaviour, 'create', 'camunda:TaskListener', true) : [];
    const assignments = userTask ? scriptListeners(activity.behaviour, 'assignment', 'camunda:TaskListener', true) : [];
    const completes = userTask ? scriptListeners(activity.behaviour, 'complete', 'camunda:TaskListener', true) : [];
    const ends = scriptListeners(activity.behaviour, 'end', undefined, true);
    // A task with create or assignment listeners is resolved before they run (task-creation.ts).
    const createsTask = creates.length > 0 || assignments.length > 0;
    const flowsWithTakes = ((activity.context?.getInboundSequenceFlows?.(activity.id) ?? []) as any[])
      .some((f) => (f.behaviour?.extensionElements?.values ?? []).some((v: any) => v?.$type === 'camunda:ExecutionListener'));
    if (!io && !starts.length && !createsTask && !completes.length && !ends.length && !flowsWithTakes) return undefined;
    const { broker, environment, id } = activity;
    const name: string | null = activity.name ?? null;
    const taskName = (context: unknown): string | null => {
      const resolved = name == null ? null : environment.resolveExpression(name, context);
      return resolved == null || resolved === '' ? null : String(resolved);
    };

    /** Runs `listeners` one after another over the locals, then hands the final locals to `done`; task listeners see `draft`, the task, when it is known. */
    const runAll = (listeners: ScriptListener[], locals: Record<string, unknown>, done: (locals: Record<string, unknown>) => void, draft?: TaskDraft) => {
      const next = (i: number, current: Record<string, unknown>) => {
        if (i >= listeners.length) return done(current);
        const l = listeners[i]!;
        // A take listener runs in the execution leaving the flow's source (Camunda's current activity); its failure names the flow.
        const where = l.flow?.id ?? id;
        if (l.expression !== undefined) {
          // Evaluated over the element's locals and the process variables; what execution.setVariable
          // writes goes to the process variables, saved with the run. A failure fails the run as a script's does.
          try {
            const content = { id: l.flow?.sourceId ?? id, localVariables: current };
            // A task listener's `task` (juel-task.ts); its name may hold an expression, resolved as user-tasks.ts resolves it.
            const taskListener: TaskInfo | undefined = l.task ? { activityId: id, event: l.event, name: () => taskName({ content }), draft } : undefined;
            environment.resolveExpression(l.expression, { content, taskListener });
          } catch (err) {
            budget.fail(`${where}: ${(err as Error).message}`, where);
            return;
          }
          return next(i + 1, current);
        }
        scripts.listener({
          activityId: where, currentActivityId: l.flow?.sourceId, activityName: l.flow ? null : name, event: l.event, code: l.code, task: l.task, assignee: l.assignee, draft,
        }, environment.variables, current, (after) => next(i + 1, after));
      };
      next(0, locals);
    };

    /**
     * The start of a user task with create or assignment listeners, as Camunda 7.12+ creates it:
     * `start` listeners, then the task resolved and given its id, then its `create` listeners
     * (which see it whole and may change it), then its `assignment` listeners when it has an
     * assignee; the task as they left it goes with the run message to the wait (recorder.ts).
     */
    const formatCreation = (message: any, locals: Record<string, unknown> | undefined) => {
      const endRoutingKey = 'run.start.camunda-listener.end';
      broker.publish('format', 'run.start.camunda-listener.begin', { endRoutingKey });
      runAll(starts, locals ?? {}, (middle) => {
        let created: ReturnType<typeof resolveCreatedTask>;
        try {
          created = resolveCreatedTask(activity, message, middle);
        } catch (err) {
          budget.fail((err as Error).message, id);
          return;
        }
        const { task, draft } = created;
        const initial = draft.assignee;
        runAll(creates, middle, (afterCreate) => {
          const assigned = assignedOnCreation(initial, draft) ? assignments.map((l) => ({ ...l, assignee: draft.assignee })) : [];
          runAll(assigned, afterCreate, (final) => {
            const localVariables = locals || Object.keys(final).length ? { localVariables: final } : {};
            broker.publish('format', endRoutingKey, { ...localVariables, camundaTask: withDraft(task, draft) });
          }, draft);
        }, draft);
      });
    };

    /**
     * Formats the run message `phase` (start, end): runs `before` listeners, then `between`
     * (the output parameters), then `after` listeners; synchronously when no listener runs,
     * else asynchronously, the element waiting until the last one is done.
     */
    const format = (
      phase: 'start' | 'end', locals: Record<string, unknown> | undefined, before: ScriptListener[],
      between: (locals: Record<string, unknown> | undefined) => void, after: ScriptListener[],
    ) => {
      if (!before.length && !after.length) {
        between(locals);
        if (locals) broker.publish('format', `run.${phase}.camunda`, { localVariables: locals });
        return;
      }
      const endRoutingKey = `run.${phase}.camunda-listener.end`;
      broker.publish('format', `run.${phase}.camunda-listener.begin`, { endRoutingKey });
      runAll(before, locals ?? {}, (middle) => {
        between(locals ? middle : undefined);
        runAll(after, middle, (final) => {
          broker.publish('format', endRoutingKey, locals || Object.keys(final).length ? { localVariables: final } : {});
        });
      });
    };

    return {
      activate() {
        broker.subscribeTmp('event', 'activity.enter', (_: string, message: any) => {
          if (boundary) return;
          const start = () => {
            if (createsTask) formatCreation(message, io?.inputs(message));
            else format('start', io?.inputs(message), starts, () => {}, []);
          };
          // Camunda's order: end(source) ran before the flow was taken; take(flow) now, before
          // anything of this element (its input parameters read what a take listener set).
          const takes = flowsWithTakes ? takeListeners(activity, message.content?.inbound) : [];
          if (!takes.length) return start();
          const endRoutingKey = 'run.start.camunda-take.end';
          broker.publish('format', 'run.start.camunda-take.begin', { endRoutingKey });
          // The flow has no variables of its own: what its listeners set goes to the scope's variables.
          runAll(takes, {}, () => {
            start();
            broker.publish('format', endRoutingKey, {});
          });
        }, { noAck: true, consumerTag: '_camunda-start' });
        // Published just before run.end; what is formatted now is merged into it.
        broker.subscribeTmp('event', 'activity.execution.completed', (_: string, message: any) => {
          // A multi-instance activity's output parameters are its instances' (multi-instance.ts), not the body's.
          const outputs = (locals: Record<string, unknown> | undefined) => {
            if (!activity.isMultiInstance) io?.outputs({ ...message, content: { ...message.content, localVariables: locals } });
          };
          if (boundary) format('end', message.content?.localVariables, [...starts, ...ends], () => {}, []);
          else format('end', message.content?.localVariables, completes, outputs, ends);
        }, { noAck: true, consumerTag: '_camunda-end' });
      },
      deactivate() {
        broker.cancel('_camunda-start');
        broker.cancel('_camunda-end');
      },
    };
  };
}

import type { Knex } from 'knex';
import { ValidationError } from '../errors.ts';
import { findTask } from '../store/tasks.ts';
import type { Principal, Variables } from '../types.ts';
import type { Execution } from './execution.ts';
import { ProcessEngineError } from './engine-errors.ts';
import { assertActive } from './suspension.ts';
import { makeModdle } from '../engine/moddle.ts';
import type { DefinitionService } from './definitions.ts';
import { taskFact, type TaskService } from './tasks.ts';

/**
 * Camunda's TaskService.handleBpmnError over REST: whoever may complete a
 * user task may instead throw a BPMN error from it, for an error boundary
 * event on it (or on a scope around it) to catch, with variables set first.
 */
export function makeTaskErrors(db: Knex, tasks: TaskService, execution: Execution, definitions: DefinitionService) {
  /**
   * The bpmn:Escalation of `code` that an escalation boundary event on the
   * task itself catches, or null. Only those are delivered: a catch further
   * out (a sub-process's boundary, an event sub-process) and an escalation
   * nothing catches are refused, as what Camunda does then is not run here.
   */
  async function boundaryEscalation(definitionId: string, taskKey: string, code: string): Promise<{ escalationId: string; boundaryId: string } | null> {
    const { rootElement } = await makeModdle().fromXML(await definitions.xml(definitionId));
    const flowElements = (el: any): any[] => (el?.flowElements ?? []).flatMap((f: any) => [f, ...flowElements(f)]);
    const all = (rootElement as any).rootElements.flatMap((r: any) => flowElements(r));
    for (const b of all.filter((e: any) => e.$type === 'bpmn:BoundaryEvent' && e.attachedToRef?.id === taskKey)) {
      const ref = (b.eventDefinitions ?? []).find((d: any) => d.$type === 'bpmn:EscalationEventDefinition')?.escalationRef;
      if (ref?.escalationCode === code) return { escalationId: ref.id, boundaryId: b.id };
    }
    return null;
  }

  return {
    async bpmnError(id: string, body: { errorCode: string; errorMessage: string | null; variables: Variables }, principal: Principal): Promise<void> {
      if (!body.errorCode) throw new ValidationError('缺少 errorCode / errorCode is null or empty');
      const task = await tasks.actionableTask(id, principal);
      await assertActive(db, task.process_instance_id, 'task', id);
      await execution.advance(
        { instanceId: task.process_instance_id, definitionId: task.definition_id, activityId: task.task_definition_key, executionId: task.execution_id },
        {
          variables: body.variables, by: principal.userId, action: { kind: 'error', code: body.errorCode, message: body.errorMessage ?? body.errorCode },
          stillOpen: async () => !(await findTask(db, id))?.end_time,
          actor: principal, fact: taskFact(task, 'BpmnError', { errorCode: body.errorCode, variables: Object.keys(body.variables) }),
        },
      ).catch((err) => {
        // Uncaught, Camunda 7 ends the task's execution as a none end event would (its default,
        // enableExceptionsAfterUnhandledBpmnError false); the engine here fails the run instead, which
        // rolls everything back. Refused, then, saying so, rather than ended differently.
        if (err instanceof ProcessEngineError && (err.details as { activityId?: unknown } | undefined)?.activityId === task.task_definition_key) {
          throw new ProcessEngineError(
            `没有错误边界事件或错误事件子流程捕获任务 ${id} 抛出的错误 ${body.errorCode}，未做任何更改 / no error boundary event or error event sub-process catches error ${body.errorCode} thrown from task ${id}; Camunda 7 would end the task's execution here, which this server does not do: nothing was changed (${err.message})`,
            err.details,
          );
        }
        throw err;
      });
    },

    /** Camunda's handleEscalation: the escalation boundary event on the task that catches `code` takes over (or opens its path beside the task). */
    async bpmnEscalation(id: string, body: { escalationCode: string; variables: Variables }, principal: Principal): Promise<void> {
      if (!body.escalationCode) throw new ValidationError('缺少 escalationCode / escalationCode is null or empty');
      const task = await tasks.actionableTask(id, principal);
      const caught = await boundaryEscalation(task.definition_id, task.task_definition_key, body.escalationCode);
      if (!caught) {
        throw new ValidationError(`任务 ${id} 上没有捕获升级 ${body.escalationCode} 的升级边界事件 / no escalation boundary event on task ${id} catches escalation ${body.escalationCode}: only those are run here (a catch further out or none at all is refused, nothing changed)`);
      }
      await assertActive(db, task.process_instance_id, 'task', id);
      await execution.advance(
        { instanceId: task.process_instance_id, definitionId: task.definition_id, activityId: task.task_definition_key, executionId: task.execution_id },
        {
          variables: body.variables, by: principal.userId, action: { kind: 'escalation', ...caught, code: body.escalationCode },
          stillOpen: async () => !(await findTask(db, id))?.end_time,
          actor: principal, fact: taskFact(task, 'BpmnEscalation', { escalationCode: body.escalationCode, variables: Object.keys(body.variables) }),
        },
      );
    },
  };
}

export type TaskErrors = ReturnType<typeof makeTaskErrors>;

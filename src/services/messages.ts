import type { Knex } from 'knex';
import type { MessageStart } from '../engine/compile.ts';
import { ConflictError, ForbiddenError, ValidationError } from '../errors.ts';
import { findMessageStartDefinitions, type DefinitionRow } from '../store/definitions.ts';
import { findSubscriptions, subscriptionExists } from '../store/messages.ts';
import { ADMIN_GROUP, WORKERS_GROUP, type Principal, type Variables } from '../types.ts';
import type { Db } from '../store/db.ts';
import type { Execution } from './execution.ts';
import type { TraceService } from './trace.ts';
import type { InstanceService } from './instances.ts';
import { isSensitive } from './sealed-variables.ts';

export interface CorrelateInput {
  messageName: string;
  businessKey?: string | undefined;
  processInstanceId?: string | undefined;
  correlationKeys: Variables;
  processVariables: Variables;
  all: boolean;
}

export type CorrelationResult =
  | { resultType: 'Execution'; processInstanceId: string; executionId: string; activityId: string }
  | { resultType: 'ProcessDefinition'; processInstanceId: string; definitionId: string };

/**
 * Message correlation as in Camunda 7: a message reaches the elements
 * waiting for it (one, or all with `all`); if none waits, it starts the
 * latest process with a message start event of that name; otherwise it is
 * refused with a message saying why.
 */
export function makeMessageService(db: Knex, execution: Execution, instances: InstanceService, trace: TraceService) {
  return {
    /**
     * With `afterSave`, it runs in the transaction of the (single) delivery, so
     * a caller's own record of the message commits or rolls back with it.
     */
    async correlate(input: CorrelateInput, principal: Principal, afterSave?: (trx: Db) => Promise<void>): Promise<CorrelationResult[]> {
      assertSender(principal);
      assertComparable(input.correlationKeys);
      const waiting = await findSubscriptions(db, input);
      if (waiting.length > 1 && !input.all) {
        throw new ValidationError(
          `消息 ${input.messageName} 匹配到 ${waiting.length} 个等待点，请缩小范围或使用 all / message '${input.messageName}' matches ${waiting.length} waiting executions; narrow it down or set all=true`,
          undefined, 'MismatchingMessageCorrelationException',
        );
      }
      const results: CorrelationResult[] = [];
      for (const s of waiting) {
        await execution.advance(
          { instanceId: s.process_instance_id, definitionId: s.definition_id, activityId: s.activity_id, executionId: s.execution_id },
          {
            variables: input.processVariables, by: principal.userId, action: { kind: 'message', messageId: s.message_id },
            stillOpen: () => subscriptionExists(db, s.process_instance_id, s.execution_id), afterSave,
            actor: principal, fact: {
              operation: 'Correlate', entityType: 'ProcessInstance', entityId: s.process_instance_id,
              details: { messageName: input.messageName, activityId: s.activity_id, variables: Object.keys(input.processVariables) },
            },
          },
        );
        results.push({ resultType: 'Execution', processInstanceId: s.process_instance_id, executionId: s.execution_id, activityId: s.activity_id });
      }
      if (results.length) return results;
      if (input.processInstanceId || Object.keys(input.correlationKeys).length) return refuse(input);
      const starters = (await findMessageStartDefinitions(db, input.messageName)).filter((d) => startOf(d, 'message', input.messageName));
      if (starters.length > 1 && !input.all) {
        throw new ValidationError(
          `消息 ${input.messageName} 可启动多个流程 / message '${input.messageName}' would start ${starters.length} processes: ${starters.map((d) => d.key).join(', ')}`,
          undefined, 'MismatchingMessageCorrelationException',
        );
      }
      for (const def of starters) {
        const start = startOf(def, 'message', input.messageName)!;
        const started = await instances.startDefinition(def, { businessKey: input.businessKey, variables: input.processVariables }, principal, start, afterSave);
        results.push({ resultType: 'ProcessDefinition', processInstanceId: started.instance.id, definitionId: def.id });
      }
      return results.length ? results : refuse(input);
    },

    /**
     * Throws a signal: every element waiting for it moves on, and every
     * process with a signal start event of that name starts. Like Camunda, a
     * signal nobody waits for is not an error.
     */
    async broadcast(signalName: string, variables: Variables, principal: Principal): Promise<void> {
      assertSender(principal);
      // The throw itself is an action, even when nothing waits for it; each delivery is traced on its own.
      await trace.recordAlone(principal, { operation: 'Throw', entityType: 'Signal', entityId: signalName, details: { variables: Object.keys(variables) } });
      for (const s of await findSubscriptions(db, { kind: 'signal', messageName: signalName, correlationKeys: {} })) {
        await execution.advance(
          { instanceId: s.process_instance_id, definitionId: s.definition_id, activityId: s.activity_id, executionId: s.execution_id },
          {
            variables, by: principal.userId, action: { kind: 'message', messageId: s.message_id },
            stillOpen: () => subscriptionExists(db, s.process_instance_id, s.execution_id),
            actor: principal, fact: {
              operation: 'Signal', entityType: 'ProcessInstance', entityId: s.process_instance_id,
              details: { signalName, activityId: s.activity_id, variables: Object.keys(variables) },
            },
          },
        ).catch((err) => {
          // Another signal or person moved this one on meanwhile: it no longer waits, which is fine for a broadcast.
          if (!(err instanceof ConflictError)) throw err;
        });
      }
      for (const def of await findMessageStartDefinitions(db, signalName)) {
        const start = startOf(def, 'signal', signalName);
        if (start) await instances.startDefinition(def, { variables }, principal, start);
      }
    },
  };
}

function startOf(def: DefinitionRow, kind: 'message' | 'signal', name: string): MessageStart | undefined {
  return (def.message_starts ?? []).find((m) => (m.kind ?? 'message') === kind && m.messageName === name);
}

/** Monitoring systems send as workers; administrators may too. */
function assertSender(principal: Principal): void {
  if (!principal.groups.includes(WORKERS_GROUP) && !principal.groups.includes(ADMIN_GROUP)) {
    throw new ForbiddenError(`只有 ${WORKERS_GROUP} 组成员或管理员可以发送消息和信号 / only members of ${WORKERS_GROUP} or administrators may send messages and signals`);
  }
}

/**
 * Sensitive variables are stored encrypted, so the database cannot match
 * them: say so rather than answer "no match". (A name only a definition's
 * form marks sensitive cannot be known here; such a key simply never matches.)
 */
function assertComparable(keys: Variables): void {
  const sealed = Object.entries(keys).filter(([name, v]) => isSensitive(name, v.type, new Set())).map(([name]) => name);
  if (sealed.length) {
    throw new ValidationError(`敏感变量加密存储，不能用作关联键 / sensitive variables are stored encrypted and cannot be correlation keys: ${sealed.join(', ')}`);
  }
}

function refuse(input: CorrelateInput): never {
  throw new ValidationError(
    `无法关联消息 ${input.messageName}：没有等待它的流程实例，也没有以它启动的流程 / Cannot correlate message '${input.messageName}': no process definition or execution matches the parameters`,
    undefined, 'MismatchingMessageCorrelationException',
  );
}

export type MessageService = ReturnType<typeof makeMessageService>;

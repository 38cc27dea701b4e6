import type { Knex } from 'knex';
import type { MessageStart } from '../engine/compile.ts';
import { ExpressionError, makeExpressions, type JuelEnv } from '../engine/expressions.ts';
import { ValidationError } from '../errors.ts';
import { findConditionalStartDefinitions, type DefinitionRow } from '../store/definitions.ts';
import type { Principal, Variables } from '../types.ts';
import { assertMayStart, type InstanceService, type StartedInstance } from './instances.ts';
import { runUserOf } from './trace.ts';
import { dateNames, engineValues } from './variables.ts';

export interface ConditionInput {
  variables: Variables;
  businessKey?: string | undefined;
  tenantId?: string | undefined;
  withoutTenantId?: boolean | undefined;
  processDefinitionId?: string | undefined;
}

/**
 * Camunda 7's `POST /condition`: the conditions of the conditional start
 * events of the latest definitions (or of one definition) are evaluated over
 * the variables given, and an instance starts, with those variables, at each
 * start event whose condition holds. None holding is not an error; no
 * conditional start event at all is (Camunda: "No subscriptions were found").
 * The caller needs the right to start each process that starts, as by hand.
 */
export function makeConditionStartService(db: Knex, instances: InstanceService, clock: Pick<JuelEnv, 'now' | 'zone'> = { now: () => new Date(), zone: 'Asia/Shanghai' }) {
  return {
    async evaluate(input: ConditionInput, principal: Principal): Promise<StartedInstance['instance'][]> {
      if (input.tenantId != null && input.withoutTenantId) {
        throw new ValidationError('tenantId 与 withoutTenantId 不能同时使用 / tenantId and withoutTenantId cannot be used together');
      }
      const rows = (await findConditionalStartDefinitions(db, input.processDefinitionId))
        .filter((d) => (input.tenantId != null ? d.tenant_id === input.tenantId : !input.withoutTenantId || d.tenant_id == null));
      if (!rows.length) {
        throw new ValidationError(`没有可求值的条件启动事件 / No subscriptions were found during evaluation of the conditional start events${input.processDefinitionId ? ` of process definition ${input.processDefinitionId}` : ''}`);
      }
      const scope = { environment: { variables: engineValues(input.variables) } };
      // The caller is the user a condition's currentUser() names, the server's clock and zone its now() and dateTime().
      const expressions = makeExpressions({ ...clock, user: runUserOf(principal), dates: new Set(dateNames(input.variables)) });
      const holds = (row: DefinitionRow, start: MessageStart): boolean => {
        try {
          return isTrue(expressions.resolveExpression(start.condition!, scope));
        } catch (err) {
          // The variables given do not fit the condition (text where it computes): the caller's to fix.
          if (!(err instanceof ExpressionError)) throw err;
          throw new ValidationError(`条件启动事件 ${start.eventId}（${row.key}）的条件无法求值 / the condition of conditional start event ${start.eventId} of ${row.key} cannot be evaluated over these variables: ${err.message}`);
        }
      };
      const holding = rows.flatMap((row) => (row.message_starts ?? [])
        .filter((s) => s.kind === 'conditional' && s.condition && holds(row, s))
        .map((start) => ({ row, start })));
      // Every right first: nothing starts when one of them may not be started by this caller.
      for (const { row } of holding) assertMayStart(row, principal);
      // One command: every instance runs first, then all are saved in one transaction, or none is.
      return instances.startAll(holding.map(({ row, start }) => ({ row, input: { businessKey: input.businessKey, variables: input.variables }, via: start })), principal);
    },
  };
}

/** A condition holds when it is true, or the text "true" (JUEL's Boolean coercion). */
function isTrue(value: unknown): boolean {
  return value === true || (typeof value === 'string' && value.toLowerCase() === 'true');
}

export type ConditionStartService = ReturnType<typeof makeConditionStartService>;

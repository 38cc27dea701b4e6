import type { Knex } from 'knex';
import type { Clock } from '../clock.ts';
import { ConflictError } from '../errors.ts';
import { deleteOutbox, listOutbox, type OutboxRow } from '../store/outbox.ts';
import { SYSTEM, type Variables } from '../types.ts';
import { makeLeasedSource } from './leases.ts';
import type { MessageService } from './messages.ts';
import type { VariableVault } from './sealed-variables.ts';

/**
 * Messages a process threw (a failed backup raising a security incident),
 * delivered by the scheduler as if POSTed to /message: to the element
 * waiting for it, or by starting the process whose message start event
 * has that name. The outbox row goes in the delivery's own transaction, so
 * each message is delivered exactly once; one that nobody receives stays
 * and is retried with backoff, its reason in `last_error`.
 */
export function makeOutboxService(db: Knex, messages: MessageService, clock: Clock, vault: VariableVault) {
  return {
    ...makeLeasedSource<OutboxRow>(db, 'message_outbox', clock),

    async fire(row: OutboxRow): Promise<void> {
      await messages.correlate(
        {
          messageName: row.message_name, businessKey: row.business_key ?? undefined, correlationKeys: {},
          processVariables: vault.openPayload(row), all: false,
        },
        SYSTEM,
        async (trx) => {
          if (!(await deleteOutbox(trx, row.id))) throw new ConflictError(`消息已投递 / message ${row.id} was already delivered`);
        },
      );
    },

    /** Messages not yet delivered, oldest first (all, or those one instance threw), payloads opened. */
    async pending(sourceInstanceId?: string): Promise<(OutboxRow & { variables: Variables })[]> {
      return (await listOutbox(db, sourceInstanceId)).map((row) => ({ ...row, variables: vault.openPayload(row) }));
    },
  };
}

export type OutboxService = ReturnType<typeof makeOutboxService>;

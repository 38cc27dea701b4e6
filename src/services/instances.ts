import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { startProcess } from '../engine/runner.ts';
import { ForbiddenError, NotFoundError, ValidationError } from '../errors.ts';
import { countInstances, insertInstance, listInstances, type InstanceQuery, type InstanceRow } from '../store/instances.ts';
import { loadVariables } from '../store/variables.ts';
import type { DefinitionRow } from '../store/definitions.ts';
import type { Principal, Variables } from '../types.ts';
import type { DefinitionService } from './definitions.ts';
import { persistRun } from './execution.ts';
import { validateSubmission } from './forms.ts';
import { toEngineError } from './engine-errors.ts';
import { engineValues } from './variables.ts';

export interface StartInput {
  businessKey?: string | null | undefined;
  variables: Variables;
  /** Read the variables back after the start (withVariablesInReturn). */
  returnVariables?: boolean | undefined;
}

export interface StartedInstance {
  instance: Omit<InstanceRow, 'engine_state'>;
  variables: Variables;
}

/** Process instances: start, look up, query. */
export function makeInstanceService(db: Knex, definitions: DefinitionService) {
  /** Runs a new instance of `row` until it waits, then saves it and all it did in one transaction. */
  async function startDefinition(row: DefinitionRow, input: StartInput, principal: Principal): Promise<StartedInstance> {
    const def = { id: row.id, key: row.key, compiled: row.compiled, forms: row.forms };
    if (!row.startable) {
      throw new ValidationError(`流程 ${row.key} 没有空启动事件，不能直接启动 / process ${row.key} has no none start event and cannot be started directly`);
    }
    if (input.businessKey != null && (typeof input.businessKey !== 'string' || input.businessKey.length > 255)) {
      throw new ValidationError('businessKey 必须是不超过 255 字符的文本 / businessKey must be a string of at most 255 characters');
    }
    const startForm = row.start_event_id ? def.forms[row.start_event_id] : undefined;
    const variables = startForm ? validateSubmission(startForm, input.variables) : input.variables;
    const id = randomUUID();
    const run = await startProcess(def, engineValues(variables)).catch((err) => {
      throw toEngineError(err);
    });
    const instance = await db.transaction(async (trx) => {
      const inserted = await insertInstance(trx, {
        id,
        definition_id: def.id,
        definition_key: def.key,
        business_key: input.businessKey ?? null,
        tenant_id: row.tenant_id,
        state: run.completed ? 'COMPLETED' : 'ACTIVE',
        engine_state: run.completed ? null : run.state,
        start_user_id: principal.userId,
        end_reason: null,
        ended: run.completed,
      });
      await persistRun(trx, { instanceId: id, definitionId: def.id, definitionKey: def.key, variables, setByCaller: variables }, run);
      return inserted;
    });
    return { instance, variables: input.returnVariables ? await loadVariables(db, id) : {} };
  }

  return {
    async start(definitionId: string, input: StartInput, principal: Principal): Promise<StartedInstance> {
      return startDefinition(await definitions.get(definitionId), input, principal);
    },
    /** Starts the latest version of `key`. */
    async startByKey(key: string, input: StartInput, principal: Principal): Promise<StartedInstance> {
      return startDefinition(await definitions.getLatest(key), input, principal);
    },

    async get(id: string, principal: Principal): Promise<Omit<InstanceRow, 'engine_state'>> {
      const [row] = await listInstances(db, { ids: [id], visibleTo: visibility(principal) });
      if (!row) throw new NotFoundError(`流程实例不存在 / no process instance with id ${id}`);
      return row;
    },

    async list(query: Omit<InstanceQuery, 'visibleTo'>, principal: Principal) {
      return listInstances(db, { ...query, visibleTo: visibility(principal) });
    },

    async count(query: Omit<InstanceQuery, 'visibleTo'>, principal: Principal): Promise<number> {
      return countInstances(db, { ...query, visibleTo: visibility(principal) });
    },

    async variables(id: string, principal: Principal): Promise<Variables> {
      const [row] = await listInstances(db, { ids: [id], visibleTo: visibility(principal) });
      if (!row) throw new NotFoundError(`流程实例不存在 / no process instance with id ${id}`);
      return loadVariables(db, id);
    },
  };
}

/** Administrators see everything; others see what they started or took part in. */
export function visibility(principal: Principal): InstanceQuery['visibleTo'] {
  return principal.isAdmin ? undefined : { userId: principal.userId, groups: principal.groups };
}

export function assertAdmin(principal: Principal): void {
  if (!principal.isAdmin) throw new ForbiddenError('需要管理员权限 / administrator rights required');
}

export type InstanceService = ReturnType<typeof makeInstanceService>;

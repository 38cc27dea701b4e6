import Router from '@koa/router';
import type { Context } from 'koa';
import type { IdentityLinkLogService } from '../../services/identity-link-log.ts';
import { identityLinkLogSortColumns, type IdentityLinkLogRow } from '../../store/identity-link-log.ts';
import { ValidationError } from '../../errors.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { queryOf, type Params } from '../params.ts';

/** Camunda's HistoricIdentityLinkLogDto, with the instance it concerns (not in Camunda's shape: the read trace names it). */
const identityLinkLogDto = (l: IdentityLinkLogRow) => ({
  id: l.id, time: formatDate(l.time), type: l.type, userId: l.user_id, groupId: l.group_id, taskId: l.task_id,
  processDefinitionId: l.definition_id, processDefinitionKey: l.definition_key, operationType: l.operation_type,
  assignerId: l.assigner_id, tenantId: null, removalTime: null, rootProcessInstanceId: l.process_instance_id,
  processInstanceId: l.process_instance_id,
});

const filterOf = (q: Params) => {
  // No tenants here: a tenant filter has nothing to match, withoutTenantId matches everything.
  if (q.list('tenantIdIn')) throw new ValidationError('不支持的查询条件 / query fields not supported here (no tenants): tenantIdIn', { unsupported: ['tenantIdIn'] });
  q.bool('withoutTenantId');
  return {
    type: q.oneOf('type', ['assignee', 'owner', 'candidate'] as const), userId: q.string('userId'), groupId: q.string('groupId'),
    dateBefore: q.date('dateBefore'), dateAfter: q.date('dateAfter'), taskId: q.string('taskId'),
    processDefinitionId: q.string('processDefinitionId'), processDefinitionKey: q.string('processDefinitionKey'),
    operationType: q.oneOf('operationType', ['add', 'delete'] as const), assignerId: q.string('assignerId'),
  };
};

/** `/history/identity-link-log`: who tasks of visible instances were for, over time. */
export function makeIdentityLinkLogRoutes(deps: { identityLinkLog: IdentityLinkLogService }): Router {
  const router = new Router();
  router.get('/history/identity-link-log', async (ctx: Context) => {
    const q = queryOf(ctx);
    const rows = await deps.identityLinkLog.query({
      ...filterOf(q), sorting: q.sorting(identityLinkLogSortColumns), firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    }, principalOf(ctx));
    ctx.body = rows.map(identityLinkLogDto);
  });
  router.get('/history/identity-link-log/count', async (ctx: Context) => {
    ctx.body = { count: await deps.identityLinkLog.count(filterOf(queryOf(ctx)), principalOf(ctx)) };
  });
  return router;
}

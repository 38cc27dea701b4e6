import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { AuthorizationQuery, AuthorizationService } from '../../services/authorizations.ts';
import { principalOf } from '../auth.ts';
import { queryOf } from '../params.ts';
import { optionsDto } from '../resource-options.ts';

/** GET /authorization's parameters (Camunda's AuthorizationQueryDto and paging). */
const LIST_PARAMS = ['id', 'type', 'userIdIn', 'groupIdIn', 'resourceType', 'resourceId', 'sortBy', 'sortOrder', 'firstResult', 'maxResults'];
const CHECK_PARAMS = ['permissionName', 'resourceName', 'resourceType', 'resourceId', 'userId', 'groupIds'];

/** A criterion we do not read would answer with the wrong rows: it is refused, naming it. */
function onlyQuery(ctx: Context, known: string[]): void {
  const unknown = Object.keys(ctx.query).filter((k) => !known.includes(k));
  if (unknown.length) throw new ValidationError(`不支持的查询条件 / query parameters not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
}

function queryFrom(ctx: Context, paging: boolean): AuthorizationQuery {
  onlyQuery(ctx, paging ? LIST_PARAMS : LIST_PARAMS.filter((k) => !['sortBy', 'sortOrder', 'firstResult', 'maxResults'].includes(k)));
  const q = queryOf(ctx);
  return {
    id: q.string('id'), type: q.int('type'), userIdIn: q.list('userIdIn'), groupIdIn: q.list('groupIdIn'),
    resourceType: q.int('resourceType'), resourceId: q.string('resourceId'),
    ...(paging ? {
      sorting: q.sorting({ resourceType: 'resourceType', resourceId: 'resourceId' }) as AuthorizationQuery['sorting'],
      firstResult: q.int('firstResult'), maxResults: q.int('maxResults'),
    } : {}),
  };
}

/**
 * Camunda's /authorization, read-only: rows derived from the role model
 * (services/authorization-model.ts, docs/authorization.md) and a check that
 * asks the services what they would allow. Creating, changing and deleting
 * stay with not-implemented.ts, which names why.
 */
export function makeAuthorizationRoutes(deps: { authorizations: AuthorizationService }): Router {
  const router = new Router();
  const enc = encodeURIComponent;
  router.get('/authorization', async (ctx) => {
    ctx.body = await deps.authorizations.list(queryFrom(ctx, true), principalOf(ctx));
  });
  router.get('/authorization/count', async (ctx) => {
    ctx.body = { count: await deps.authorizations.count(queryFrom(ctx, false), principalOf(ctx)) };
  });
  router.get('/authorization/check', async (ctx) => {
    onlyQuery(ctx, CHECK_PARAMS);
    const q = queryOf(ctx);
    const [permissionName, resourceName, resourceType] = [q.string('permissionName'), q.string('resourceName'), q.int('resourceType')];
    if (permissionName === undefined || resourceName === undefined || resourceType === undefined) {
      throw new ValidationError('permissionName、resourceName 与 resourceType 为必填 / Query parameters \'permissionName\', \'resourceName\' and \'resourceType\' are mandatory.');
    }
    ctx.body = await deps.authorizations.check({
      permissionName, resourceName, resourceType, resourceId: q.string('resourceId'), userId: q.string('userId'), groupIds: q.list('groupIds'),
    }, principalOf(ctx));
  });
  router.get('/authorization/:id', async (ctx) => {
    ctx.body = await deps.authorizations.get(ctx.params.id, principalOf(ctx));
  });
  // Links of what the caller may do: read and count, never create, change or delete (the rows follow the roles).
  router.options('/authorization', (ctx) => {
    ctx.body = optionsDto(ctx, [['GET', '/authorization', 'list'], ['GET', '/authorization/count', 'count']]);
  });
  router.options('/authorization/:id', async (ctx) => {
    const readable = await deps.authorizations.get(ctx.params.id, principalOf(ctx)).then(() => true, () => false);
    ctx.body = optionsDto(ctx, readable ? [['GET', `/authorization/${enc(ctx.params.id)}`, 'self']] : []);
  });
  return router;
}

import Router from '@koa/router';
import { principalOf } from '../auth.ts';
import { optionsDto } from '../resource-options.ts';

/*
 * OPTIONS on Camunda's identity resources: the links of what the caller may
 * do there, as the identity routes decide it. Users and groups are managed by
 * administrators; a user reads and updates their own profile. Camunda always
 * lists `list` and `count` of /user and /group; here a user who is no
 * administrator may only look themselves up there, so they are listed for
 * administrators only (docs/filters.md).
 */
export function makeIdentityOptionRoutes(): Router {
  const router = new Router();
  const enc = encodeURIComponent;
  router.options('/user', (ctx) => {
    const admin = principalOf(ctx).isAdmin;
    ctx.body = optionsDto(ctx, admin ? [['GET', '/user', 'list'], ['GET', '/user/count', 'count'], ['POST', '/user/create', 'create']] : []);
  });
  router.options('/user/:id', (ctx) => {
    const p = principalOf(ctx);
    const self = p.userId === ctx.params.id;
    const profile = `/user/${enc(ctx.params.id)}/profile`;
    ctx.body = optionsDto(ctx, [
      ...(p.isAdmin || self ? [['GET', profile, 'self']] as const : []),
      ...(p.isAdmin ? [['DELETE', `/user/${enc(ctx.params.id)}`, 'delete']] as const : []),
      ...(p.isAdmin || self ? [['PUT', profile, 'update']] as const : []),
    ]);
  });
  router.options('/group', (ctx) => {
    const admin = principalOf(ctx).isAdmin;
    ctx.body = optionsDto(ctx, admin ? [['GET', '/group', 'list'], ['GET', '/group/count', 'count'], ['POST', '/group/create', 'create']] : []);
  });
  router.options('/group/:id', (ctx) => {
    const group = `/group/${enc(ctx.params.id)}`;
    ctx.body = optionsDto(ctx, principalOf(ctx).isAdmin ? [['GET', group, 'self'], ['DELETE', group, 'delete'], ['PUT', group, 'update']] : []);
  });
  router.options('/group/:id/members', (ctx) => {
    const members = `/group/${enc(ctx.params.id)}/members`;
    ctx.body = optionsDto(ctx, principalOf(ctx).isAdmin ? [['DELETE', members, 'delete'], ['PUT', members, 'create']] : []);
  });
  return router;
}

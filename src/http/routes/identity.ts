import Router from '@koa/router';
import type { Context } from 'koa';
import { ValidationError } from '../../errors.ts';
import type { IdentityService } from '../../services/identity.ts';
import { checkPassword, passwordPolicy } from '../../services/passwords.ts';
import { assertAdmin } from '../../services/instances.ts';
import { principalOf } from '../auth.ts';
import { bodyObject, pagingOf, paramsOf, queryOf } from '../params.ts';
import { GROUP_SORT, USER_SORT } from '../../store/identity.ts';

const str = (v: unknown) => (typeof v === 'string' ? v : undefined);

/** A count filtered by a criterion we do not read would count the wrong rows: such a criterion is refused. */
function onlyQuery(ctx: Context, known: string[]): void {
  const unknown = Object.keys(ctx.query).filter((k) => !known.includes(k));
  if (unknown.length) throw new ValidationError(`不支持的查询条件 / query parameters not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
}

/** Camunda 7's identity endpoints: users, groups, memberships (administrators only for changes). */
export function makeIdentityRoutes(deps: { identity: IdentityService }): Router {
  const router = new Router();
  router.post('/user/create', async (ctx) => {
    assertAdmin(principalOf(ctx));
    const body = bodyObject(ctx);
    const profile = (body.profile ?? {}) as Record<string, unknown>;
    const credentials = (body.credentials ?? {}) as Record<string, unknown>;
    if (typeof profile.id !== 'string') throw new ValidationError('需要 profile.id / profile.id is required');
    await deps.identity.createUser({
      id: profile.id, firstName: str(profile.firstName), lastName: str(profile.lastName), email: str(profile.email),
      password: str(credentials.password) ?? '',
    }, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/user/:id/credentials', async (ctx) => {
    const body = bodyObject(ctx);
    await deps.identity.updateCredentials(ctx.params.id, { password: body.password, authenticatedUserPassword: body.authenticatedUserPassword }, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/user', async (ctx) => {
    // Camunda Admin's searches (firstNameLike, sortBy, …) would otherwise list every user as if they matched.
    onlyQuery(ctx, ['id', 'memberOfGroup', 'firstResult', 'maxResults', 'sortBy', 'sortOrder']);
    const q = queryOf(ctx);
    // Who exists is for administrators; anyone may look themselves up.
    if (q.string('id') !== principalOf(ctx).userId) assertAdmin(principalOf(ctx));
    const users = await deps.identity.listUsers({
      id: q.string('id'), memberOfGroup: q.string('memberOfGroup'), sorting: q.sorting(USER_SORT), ...pagingOf(ctx),
    });
    ctx.body = users.map((u) => ({ id: u.id, firstName: u.first_name, lastName: u.last_name, email: u.email }));
  });
  router.get('/user/count', async (ctx) => {
    onlyQuery(ctx, ['id', 'memberOfGroup']);
    const q = queryOf(ctx);
    if (q.string('id') !== principalOf(ctx).userId) assertAdmin(principalOf(ctx));
    ctx.body = { count: await deps.identity.countUsers({ id: q.string('id'), memberOfGroup: q.string('memberOfGroup') }) };
  });
  router.get('/user/:id/profile', async (ctx) => {
    ctx.body = await deps.identity.getProfile(ctx.params.id, principalOf(ctx));
  });
  router.put('/user/:id/profile', async (ctx) => {
    await deps.identity.updateProfile(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/user/:id', async (ctx) => {
    await deps.identity.deleteUser(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/user/:id/unlock', async (ctx) => {
    await deps.identity.unlockUser(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/group/create', async (ctx) => {
    assertAdmin(principalOf(ctx));
    const body = bodyObject(ctx);
    if (typeof body.id !== 'string') throw new ValidationError('需要 id / id is required');
    await deps.identity.createGroup({ id: body.id, name: str(body.name) ?? null, type: str(body.type) ?? null }, principalOf(ctx));
    ctx.status = 204;
  });
  const listGroups = async (ctx: Context) => {
    // The member criterion, sorting and paging (in the query string for POST too, as Camunda has it);
    // any other criterion is refused (a POST's other fields by paramsOf).
    onlyQuery(ctx, ctx.method === 'GET' ? ['member', 'sortBy', 'sortOrder', 'firstResult', 'maxResults'] : ['firstResult', 'maxResults']);
    const { member, sorting } = paramsOf(ctx, (q) => ({ member: q.string('member'), sorting: q.sorting(GROUP_SORT) }));
    if (member !== principalOf(ctx).userId) assertAdmin(principalOf(ctx));
    const groups = await deps.identity.listGroups({ member, sorting, ...pagingOf(ctx) });
    ctx.body = groups.map((g) => ({ id: g.id, name: g.name, type: g.type }));
  };
  router.get('/group', listGroups).post('/group', listGroups);
  // Camunda's count of groups, by query string or (POST) by body.
  const countGroups = async (ctx: Context) => {
    if (ctx.method === 'GET') onlyQuery(ctx, ['id', 'member']);
    const query = paramsOf(ctx, (q) => ({ id: q.string('id'), member: q.string('member') }));
    if (query.member !== principalOf(ctx).userId) assertAdmin(principalOf(ctx));
    ctx.body = { count: await deps.identity.countGroups(query) };
  };
  router.get('/group/count', countGroups).post('/group/count', countGroups);
  router.get('/group/:id', async (ctx) => {
    ctx.body = await deps.identity.getGroup(ctx.params.id, principalOf(ctx));
  });
  router.put('/group/:id', async (ctx) => {
    await deps.identity.updateGroup(ctx.params.id, bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/group/:id', async (ctx) => {
    await deps.identity.deleteGroup(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  router.put('/group/:id/members/:userId', async (ctx) => {
    assertAdmin(principalOf(ctx));
    await deps.identity.addMember(ctx.params.id, ctx.params.userId, principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/group/:id/members/:userId', async (ctx) => {
    assertAdmin(principalOf(ctx));
    await deps.identity.removeMember(ctx.params.id, ctx.params.userId, principalOf(ctx));
    ctx.status = 204;
  });
  router.get('/identity/groups', async (ctx) => {
    const userId = queryOf(ctx).string('userId');
    if (!userId) throw new ValidationError('需要查询参数 userId / query parameter userId is required');
    ctx.body = await deps.identity.identityGroups(userId, principalOf(ctx));
  });
  // The rule is no secret: every signed-in user may read it and try a password against it.
  router.get('/identity/password-policy', (ctx) => {
    ctx.body = passwordPolicy();
  });
  router.post('/identity/password-policy', (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.password !== 'string') throw new ValidationError('需要 password（字符串）/ password (a string) is required');
    ctx.body = checkPassword(body.password);
  });
  router.post('/identity/verify', async (ctx) => {
    const body = bodyObject(ctx);
    if (typeof body.username !== 'string' || typeof body.password !== 'string') {
      throw new ValidationError('需要 username 和 password / username and password are required');
    }
    ctx.body = await deps.identity.verify(body.username, body.password, principalOf(ctx));
  });
  return router;
}

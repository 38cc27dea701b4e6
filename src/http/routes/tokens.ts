import Router from '@koa/router';
import type { TokenService } from '../../services/tokens.ts';
import type { TokenRow } from '../../store/tokens.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';
import { bodyObject } from '../params.ts';

const tokenDto = (r: TokenRow) => ({
  id: r.id, userId: r.user_id, name: r.name, created: formatDate(r.created_at), expires: formatDate(r.expires_at),
  revoked: formatDate(r.revoked_at),
});

/**
 * `/token`: Bearer tokens. Camunda 7 has no endpoint for this; ours follows
 * its style. The secret is shown once, in the reply that issues it.
 */
export function makeTokenRoutes(deps: { tokens: TokenService }): Router {
  const router = new Router();
  router.post('/token', async (ctx) => {
    const { row, token } = await deps.tokens.issue(principalOf(ctx), bodyObject(ctx), ctx.state.authMethod === 'basic');
    ctx.body = { ...tokenDto(row), token, tokenType: 'Bearer' };
  });
  router.get('/token', async (ctx) => {
    ctx.body = (await deps.tokens.list(principalOf(ctx))).map(tokenDto);
  });
  router.delete('/token/:id', async (ctx) => {
    await deps.tokens.revoke(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  return router;
}

import type { Context, Next } from 'koa';
import { AuthenticationError } from '../errors.ts';
import type { IdentityService } from '../services/identity.ts';
import type { TokenService } from '../services/tokens.ts';
import type { Principal } from '../types.ts';

/**
 * HTTP Basic (user and password) or Bearer (an issued token) on every API
 * route; the caller lands in `ctx.state.principal`, and how they proved it
 * in `ctx.state.authMethod`.
 */
export function makeAuthMiddleware(identity: IdentityService, tokens: TokenService) {
  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('Authorization');
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (bearer) {
      ctx.state.principal = { ...(await tokens.authenticate(bearer[1])), source: ctx.state.clientAddress as string | undefined };
      ctx.state.authMethod = 'bearer';
      return next();
    }
    const basic = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!basic) throw new AuthenticationError();
    const decoded = Buffer.from(basic[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new AuthenticationError('认证信息格式错误 / malformed Basic credentials');
    ctx.state.principal = { ...(await identity.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1), ctx.state.clientAddress)), source: ctx.state.clientAddress as string | undefined };
    ctx.state.authMethod = 'basic';
    await next();
  };
}

/** The authenticated caller of this request. */
export function principalOf(ctx: Context): Principal {
  const p = ctx.state.principal as Principal | undefined;
  if (!p) throw new AuthenticationError();
  return p;
}

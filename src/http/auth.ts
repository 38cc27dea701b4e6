import type { Context, Next } from 'koa';
import { AuthenticationError } from '../errors.ts';
import type { IdentityService } from '../services/identity.ts';
import type { Principal } from '../types.ts';

/** HTTP Basic authentication for every API route; the caller lands in `ctx.state.principal`. */
export function makeAuthMiddleware(identity: IdentityService) {
  return async function authenticate(ctx: Context, next: Next): Promise<void> {
    const header = ctx.get('Authorization');
    const match = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header);
    if (!match) throw new AuthenticationError();
    const decoded = Buffer.from(match[1], 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new AuthenticationError('认证信息格式错误 / malformed Basic credentials');
    ctx.state.principal = await identity.authenticate(decoded.slice(0, colon), decoded.slice(colon + 1));
    await next();
  };
}

/** The authenticated caller of this request. */
export function principalOf(ctx: Context): Principal {
  const p = ctx.state.principal as Principal | undefined;
  if (!p) throw new AuthenticationError();
  return p;
}

import type { Context, Next } from 'koa';
import { AuthenticationError, ValidationError } from '../errors.ts';
import type { IdentityService } from '../services/identity.ts';
import type { TokenService } from '../services/tokens.ts';
import type { Principal } from '../types.ts';
import { checkText } from '../well-formed.ts';

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
    let decoded: string;
    try {
      // Not toString('utf8'), which would turn bytes that are not UTF-8 into U+FFFD and check that name instead.
      decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(basic[1], 'base64'));
    } catch {
      throw new ValidationError('Basic 认证信息不是有效的 UTF-8 / the Basic credentials are not valid UTF-8');
    }
    const colon = decoded.indexOf(':');
    if (colon < 1) throw new AuthenticationError('认证信息格式错误 / malformed Basic credentials');
    const userId = checkText('Basic 认证的用户名', 'the Basic user name', decoded.slice(0, colon));
    const password = checkText('Basic 认证的密码', 'the Basic password', decoded.slice(colon + 1));
    ctx.state.principal = { ...(await identity.authenticate(userId, password, ctx.state.clientAddress)), source: ctx.state.clientAddress as string | undefined };
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

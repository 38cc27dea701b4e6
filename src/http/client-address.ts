import type { Context, Next } from 'koa';

/** `::ffff:10.0.0.1` and `10.0.0.1` are one address. */
function plain(address: string): string {
  return address.trim().replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/**
 * The caller's address, for the trace and the lockout: the socket's peer,
 * unless that peer is one of `trustedProxies`, in which case
 * `X-Forwarded-For` is read from the right, skipping trusted proxies, and
 * the first address not in the list is the client. A header from anyone
 * else is ignored, so a client cannot choose the address it is traced at.
 */
export function clientAddress(ctx: Context, trustedProxies: ReadonlySet<string>): string {
  const peer = plain(ctx.req.socket.remoteAddress ?? '');
  if (!trustedProxies.has(peer)) return peer;
  const hops = String(ctx.get('X-Forwarded-For') ?? '').split(',').map(plain).filter(Boolean);
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trustedProxies.has(hops[i])) return hops[i];
  }
  return hops[0] ?? peer;
}

/** Puts the caller's address in `ctx.state.clientAddress` for everything after it. */
export function makeClientAddress(trustedProxies: string[]) {
  const trusted = new Set(trustedProxies.map(plain));
  return async function recordAddress(ctx: Context, next: Next): Promise<void> {
    ctx.state.clientAddress = clientAddress(ctx, trusted);
    await next();
  };
}

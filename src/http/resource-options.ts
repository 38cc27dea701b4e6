import type { Context } from 'koa';

/** One of Camunda's reflexive links: `[method, path under /engine-rest, rel]`. */
export type OptionLink = readonly [method: string, path: string, rel: string];

/**
 * Camunda's ResourceOptionsDto, the answer to OPTIONS: the operations the
 * caller may perform on a resource, each a link with an absolute href.
 * Routes list only what the caller is allowed, as Camunda checks its
 * authorizations before adding a link.
 */
export function optionsDto(ctx: Context, links: readonly OptionLink[]): { links: { method: string; href: string; rel: string }[] } {
  return { links: links.map(([method, path, rel]) => ({ method, href: `${ctx.protocol}://${ctx.host}/engine-rest${path}`, rel })) };
}

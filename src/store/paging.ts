import type { Knex } from 'knex';

/** Camunda's sorting and paging, shared by every list query. */
export interface Page<C extends string = string> {
  sorting?: { column: C; order: 'asc' | 'desc' }[] | undefined;
  firstResult?: number | undefined;
  maxResults?: number | undefined;
}

/**
 * Orders by the requested columns (or `defaults`), then by `tieBreaker` so
 * pages never overlap, and applies offset and limit.
 */
export function paged<C extends string>(q: Knex.QueryBuilder, page: Page<C>, defaults: NonNullable<Page<C>['sorting']>, tieBreaker: string, prefix = ''): Knex.QueryBuilder {
  for (const s of page.sorting ?? defaults) q.orderBy(`${prefix}${s.column}`, s.order);
  q.orderBy(tieBreaker);
  if (page.firstResult) q.offset(page.firstResult);
  if (page.maxResults != null) q.limit(page.maxResults);
  return q;
}

/** `select count(*)` of a filtered query, as a number on both drivers. */
export async function countOf(q: Knex.QueryBuilder): Promise<number> {
  const [row] = await q.count({ n: '*' });
  return Number(row.n);
}

/**
 * A client's LIKE pattern (`%`, `_`, and `\` escaping the next character, as in
 * Camunda's `nameLike`) as PostgreSQL takes it: a pattern ending in a lone `\`
 * escapes nothing and PostgreSQL refuses it (SQLSTATE 22025), so that `\`
 * is taken literally.
 */
export function likePattern(pattern: string): string {
  const trailing = /\\+$/.exec(pattern)?.[0].length ?? 0;
  return trailing % 2 === 1 ? `${pattern}\\` : pattern;
}

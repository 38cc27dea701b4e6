import Router from '@koa/router';
import type { Context } from 'koa';
import { NotFoundError, ValidationError } from '../../errors.ts';
import { canChangeFilter, canSeeFilter, type FilterInput, type FilterService } from '../../services/filters.ts';
import { filterSortColumns, type FilterQuery, type FilterRow } from '../../store/filters.ts';
import type { TaskFilter } from '../../services/tasks.ts';
import { principalOf } from '../auth.ts';
import { checkFilterQuery, filterTaskQuery } from '../filter-query.ts';
import { bodyObject, pagingOf, queryOf } from '../params.ts';
import { optionsDto } from '../resource-options.ts';
import { taskDto } from './tasks.ts';

/** GET /filter's parameters (Camunda's FilterQueryDto, plus itemCount and paging). */
const LIST_PARAMS = ['filterId', 'resourceType', 'name', 'nameLike', 'owner', 'itemCount', 'sortBy', 'sortOrder', 'firstResult', 'maxResults'];
/** Properties Tasklist reads, with the type it expects; others are kept as given. */
const PROPERTY_TYPES: Record<string, string> = { color: 'string', description: 'string', priority: 'number', refresh: 'boolean', variables: 'object' };
/** Display settings, not a document: a bound on what a filter stores. */
const MAX_PROPERTIES_BYTES = 16_384;
const MAX_NAME = 255;

function dto(row: FilterRow, itemCount?: number) {
  return {
    id: row.id, resourceType: row.resource_type, name: row.name, owner: row.owner, query: row.query, properties: row.properties,
    // Ours, not Camunda's: the groups the filter is shared with (docs/filters.md).
    sharedGroups: row.shared_groups,
    ...(itemCount === undefined ? {} : { itemCount }),
  };
}

/** A criterion we do not read would answer with the wrong filters: refused, naming it. */
function onlyParams(ctx: Context, known: string[]): void {
  const unknown = Object.keys(ctx.query).filter((k) => !known.includes(k));
  if (unknown.length) throw new ValidationError(`不支持的查询条件 / query parameters not supported here: ${unknown.join(', ')}`, { unsupported: unknown });
}

function criteriaOf(ctx: Context) {
  const q = queryOf(ctx);
  return { id: q.string('filterId'), resourceType: q.oneOf('resourceType', ['Task'] as const), name: q.string('name'), nameLike: q.string('nameLike'), owner: q.string('owner') };
}

/** Camunda's FilterDto as a create or update body; `sharedGroups` is ours. */
function inputOf(ctx: Context, create: boolean): FilterInput {
  const body = bodyObject(ctx);
  const known = ['id', 'resourceType', 'name', 'owner', 'query', 'properties', 'sharedGroups', 'itemCount'];
  const unknown = Object.keys(body).find((k) => !known.includes(k));
  if (unknown) throw new ValidationError(`过滤器不支持字段 ${unknown} / filter field not supported: ${unknown}`, { key: unknown });
  if (create ? body.resourceType !== 'Task' : body.resourceType != null && body.resourceType !== 'Task') {
    throw new ValidationError(`只支持任务过滤器 / Unable to ${create ? 'create' : 'update'} filter with invalid resource type '${String(body.resourceType)}': only Task`, { key: 'resourceType' });
  }
  if (typeof body.name !== 'string' || !body.name.trim() || body.name.length > MAX_NAME) {
    throw new ValidationError(`需要名称（不超过 ${MAX_NAME} 字）/ name is required (a string of at most ${MAX_NAME} characters)`, { key: 'name' });
  }
  if (body.owner != null && (typeof body.owner !== 'string' || !body.owner)) throw new ValidationError('owner 必须是文本 / owner must be a user id', { key: 'owner' });
  const properties = body.properties ?? {};
  if (typeof properties !== 'object' || Array.isArray(properties)) throw new ValidationError('properties 必须是 JSON 对象 / properties must be a JSON object', { key: 'properties' });
  for (const [k, type] of Object.entries(PROPERTY_TYPES)) {
    const v = (properties as Record<string, unknown>)[k];
    if (v != null && (typeof v !== type || (k === 'variables' && !Array.isArray(v)))) {
      throw new ValidationError(`properties.${k} 类型错误 / properties.${k} must be ${k === 'variables' ? 'an array' : `a ${type}`}`, { key: `properties.${k}` });
    }
  }
  if (Buffer.byteLength(JSON.stringify(properties)) > MAX_PROPERTIES_BYTES) throw new ValidationError(`properties 过大 / properties exceed ${MAX_PROPERTIES_BYTES} bytes`, { key: 'properties' });
  const shared = body.sharedGroups ?? [];
  if (!Array.isArray(shared) || shared.some((g) => typeof g !== 'string' || !g)) throw new ValidationError('sharedGroups 必须是组 ID 数组 / sharedGroups must be an array of group ids', { key: 'sharedGroups' });
  return {
    name: body.name, owner: (body.owner as string | undefined) ?? undefined, query: checkFilterQuery(body.query),
    properties: properties as Record<string, unknown>, sharedGroups: [...new Set(shared as string[])],
  };
}

/** `/filter`: Camunda 7's task filters (Tasklist's saved task lists) and their OPTIONS discovery. */
export function makeFilterRoutes(deps: { filters: FilterService }): Router {
  const router = new Router();
  const { filters } = deps;

  /** How a filter's stored query becomes the caller's task query: extended by a POST's body (GET has none), paged. */
  const queryFor = (ctx: Context, paging: { firstResult?: number | undefined; maxResults?: number | undefined }, counting = false) => {
    const extending = ctx.method === 'POST' ? bodyObject(ctx) : {};
    return (stored: Record<string, unknown>): TaskFilter => {
      const { sorting, ...query } = filterTaskQuery(stored, extending, principalOf(ctx), paging);
      return counting ? query : { ...query, sorting };
    };
  };
  const countFor = (ctx: Context, row: FilterRow) => filters.countTasks(row.id, principalOf(ctx), queryFor(ctx, {}, true));

  router.get('/filter', async (ctx) => {
    onlyParams(ctx, LIST_PARAMS);
    const q = queryOf(ctx);
    const principal = principalOf(ctx);
    const rows = await filters.list({ ...criteriaOf(ctx), sorting: q.sorting(filterSortColumns) as FilterQuery['sorting'], ...pagingOf(ctx) }, principal);
    const withCount = q.bool('itemCount') === true;
    ctx.body = await Promise.all(rows.map(async (r) => dto(r, withCount ? await countFor(ctx, r) : undefined)));
  });
  router.get('/filter/count', async (ctx) => {
    onlyParams(ctx, LIST_PARAMS.filter((k) => !['itemCount', 'sortBy', 'sortOrder', 'firstResult', 'maxResults'].includes(k)));
    ctx.body = { count: await filters.count(criteriaOf(ctx), principalOf(ctx)) };
  });
  router.post('/filter/create', async (ctx) => {
    ctx.body = dto(await filters.create(inputOf(ctx, true), principalOf(ctx)));
  });
  router.get('/filter/:id', async (ctx) => {
    onlyParams(ctx, ['itemCount']);
    const principal = principalOf(ctx);
    const row = await filters.get(ctx.params.id, principal);
    ctx.body = dto(row, queryOf(ctx).bool('itemCount') === true ? await countFor(ctx, row) : undefined);
  });
  router.put('/filter/:id', async (ctx) => {
    await filters.update(ctx.params.id, inputOf(ctx, false), principalOf(ctx));
    ctx.status = 204;
  });
  router.delete('/filter/:id', async (ctx) => {
    await filters.delete(ctx.params.id, principalOf(ctx));
    ctx.status = 204;
  });
  const list = async (ctx: Context) => {
    onlyParams(ctx, ['firstResult', 'maxResults']);
    ctx.body = (await filters.listTasks(ctx.params.id, principalOf(ctx), queryFor(ctx, pagingOf(ctx)))).map(taskDto);
  };
  router.get('/filter/:id/list', list).post('/filter/:id/list', list);
  const count = async (ctx: Context) => {
    onlyParams(ctx, []);
    ctx.body = { count: await filters.countTasks(ctx.params.id, principalOf(ctx), queryFor(ctx, {}, true)) };
  };
  router.get('/filter/:id/count', count).post('/filter/:id/count', count);
  // Camunda: the one task, none (204), or 400 when the filter matches more than one.
  const single = async (ctx: Context) => {
    onlyParams(ctx, []);
    const found = await filters.listTasks(ctx.params.id, principalOf(ctx), queryFor(ctx, { maxResults: 2 }));
    if (found.length > 1) throw new ValidationError('过滤器匹配多个任务 / Filter does not returns a valid single result: it matches more than one task');
    if (found.length === 0) ctx.status = 204;
    else ctx.body = taskDto(found[0]);
  };
  router.get('/filter/:id/singleResult', single).post('/filter/:id/singleResult', single);

  router.options('/filter', (ctx) => {
    ctx.body = optionsDto(ctx, [['GET', '/filter', 'list'], ['GET', '/filter/count', 'count'], ['POST', '/filter/create', 'create']]);
  });
  router.options('/filter/:id', async (ctx) => {
    const principal = principalOf(ctx);
    const base = `/filter/${encodeURIComponent(ctx.params.id)}`;
    // What the caller may do with it: nothing, for a filter they cannot see (whether it exists stays unsaid).
    const row = await filters.get(ctx.params.id, principal).catch((err: unknown) => {
      if (err instanceof NotFoundError) return undefined;
      throw err;
    });
    const seen = row && canSeeFilter(row, principal);
    const changes = row && canChangeFilter(row, principal);
    ctx.body = optionsDto(ctx, [
      ...(seen ? [
        ['GET', base, 'self'], ['GET', `${base}/singleResult`, 'singleResult'], ['POST', `${base}/singleResult`, 'singleResult'],
        ['GET', `${base}/list`, 'list'], ['POST', `${base}/list`, 'list'], ['GET', `${base}/count`, 'count'], ['POST', `${base}/count`, 'count'],
      ] as const : []),
      ...(changes ? [['DELETE', base, 'delete'], ['PUT', base, 'update']] as const : []),
    ]);
  });
  return router;
}

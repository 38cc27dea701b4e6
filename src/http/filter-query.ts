import { ValidationError } from '../errors.ts';
import type { TaskFilter } from '../services/tasks.ts';
import type { Principal } from '../types.ts';
import { OR_QUERY_KEYS, TASK_QUERY_KEYS, taskFilterOfBody } from './routes/tasks.ts';

/*
 * A filter's stored task query: Camunda's JSON task query (POST /task's body),
 * read by the same reader POST /task uses, so a filter cannot hold what the
 * task list refuses; the expressions Camunda's filters allow are checked here.
 */

/**
 * Camunda's expressions a filter may use, resolved for whoever lists through
 * it: `${currentUser()}` and `${currentUserGroups()}`, on the keys Camunda's
 * Tasklist puts them. Any other expression is refused.
 */
const EXPRESSIONS: Record<string, { key: string; expression: string; value: (p: Principal) => string | string[] }> = {
  assigneeExpression: { key: 'assignee', expression: '${currentUser()}', value: (p) => p.userId },
  candidateUserExpression: { key: 'candidateUser', expression: '${currentUser()}', value: (p) => p.userId },
  candidateGroupsExpression: { key: 'candidateGroups', expression: '${currentUserGroups()}', value: (p) => p.groups },
};

const isObject = (v: unknown): v is Record<string, unknown> => v != null && typeof v === 'object' && !Array.isArray(v);

/** Refuses a query key taskFilterOfBody would not read, and an expression other than the supported ones, naming it. */
function checkKeys(query: Record<string, unknown>, where: string): void {
  for (const [k, v] of Object.entries(query)) {
    const expression = EXPRESSIONS[k];
    if (expression) {
      if (v !== expression.expression) {
        throw new ValidationError(`${where}${k} 只支持 ${expression.expression} / ${where}${k}: only ${expression.expression} is supported, got ${JSON.stringify(v)}`, { key: k });
      }
      if (query[expression.key] != null) throw new ValidationError(`${where}${k} 与 ${expression.key} 不能同时给出 / ${where}${k} and ${expression.key} cannot both be given`, { key: k });
    } else if (!TASK_QUERY_KEYS.has(k)) {
      throw new ValidationError(`任务查询不支持 ${where}${k} / task query key not supported: ${where}${k}`, { key: k });
    } else if (typeof v === 'string' && v.includes('${')) {
      throw new ValidationError(`${where}${k} 不支持表达式 / ${where}${k}: expressions are supported only in ${Object.keys(EXPRESSIONS).join(', ')}`, { key: k });
    }
  }
  if (query.orQueries != null) {
    if (!Array.isArray(query.orQueries) || !query.orQueries.every(isObject)) throw new ValidationError('orQueries 必须是对象数组 / orQueries must be an array of objects');
    query.orQueries.forEach((or, i) => {
      const bad = Object.keys(or).find((k) => !OR_QUERY_KEYS.has(k));
      if (bad) throw new ValidationError(`或查询不支持 orQueries[${i}].${bad} / or-query key not supported: orQueries[${i}].${bad}`, { key: `orQueries[${i}].${bad}` });
    });
  }
}

/** The query with its expressions replaced by the caller's values. */
function resolved(query: Record<string, unknown>, principal: Principal): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    const expression = EXPRESSIONS[k];
    if (expression) out[expression.key] = expression.value(principal);
    else out[k] = v;
  }
  return out;
}

/**
 * A stored query as given at create or update, checked: known keys only,
 * supported expressions only, and every value as POST /task would take it.
 */
export function checkFilterQuery(query: unknown): Record<string, unknown> {
  if (query == null) return {};
  if (!isObject(query)) throw new ValidationError('query 必须是 JSON 对象 / query must be a JSON object (a task query)');
  checkKeys(query, 'query.');
  // Read as POST /task reads it, expressions stood in for by a caller's values, so a bad value is refused now.
  taskFilterOfBody(resolved(query, { userId: 'x', groups: ['x'], isAdmin: false }), {});
  return query;
}

/**
 * The task query a filter runs for `principal`: its stored query with the
 * expressions resolved to the caller, extended by the request's query (its
 * criteria replace the filter's of the same key; its sorting comes after the
 * filter's and its or-queries narrow further, as Camunda extends a filter).
 */
export function filterTaskQuery(stored: Record<string, unknown>, extending: Record<string, unknown>, principal: Principal, paging: { firstResult?: number | undefined; maxResults?: number | undefined }): TaskFilter {
  checkKeys(extending, '');
  const base = { ...stored };
  for (const k of Object.keys(extending)) {
    if (k === 'sorting' || k === 'orQueries') continue;
    delete base[k];
    delete base[`${k}Expression`];
    if (EXPRESSIONS[k]) delete base[EXPRESSIONS[k].key];
  }
  const merged = resolved({ ...base, ...extending }, principal);
  const list = (v: unknown) => (Array.isArray(v) ? v : []);
  const sorting = [...list(base.sorting), ...list(extending.sorting)];
  merged.sorting = sorting.filter((s, i) => sorting.findIndex((x) => JSON.stringify(x) === JSON.stringify(s)) === i);
  merged.orQueries = [...list(base.orQueries), ...list(extending.orQueries)];
  return taskFilterOfBody(merged, paging);
}

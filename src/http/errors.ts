import type { Context, Next } from 'koa';
import type { Logger } from 'pino';
import {
  AppError, AuthenticationError, ConflictError, ForbiddenError, IntegrityError, NotAcceptableError, NotFoundError, NotImplementedError, ParseError, RateLimitedError, TooManyAttemptsError,
  UnavailableError, UnsupportedMediaTypeError, ValidationError,
} from '../errors.ts';
import { isDatabaseUnavailable, isTooManyParameters } from '../store/errors.ts';

/** The one place where error classes become HTTP statuses. */
function statusOf(err: AppError): number {
  if (err instanceof ValidationError || err instanceof ParseError) return 400;
  if (err instanceof AuthenticationError) return 401;
  if (err instanceof TooManyAttemptsError || err instanceof RateLimitedError) return 429;
  if (err instanceof ForbiddenError) return 403;
  if (err instanceof NotFoundError) return 404;
  if (err instanceof NotAcceptableError) return 406;
  if (err instanceof ConflictError) return 409;
  if (err instanceof UnsupportedMediaTypeError) return 415;
  if (err instanceof UnavailableError) return 503;
  if (err instanceof NotImplementedError) return 501;
  if (err instanceof IntegrityError) return 500;
  if (err.type === 'ProcessEngineException') return 400;
  return 500;
}

/**
 * Answers every error with Camunda's body `{ type, message, code }` (plus
 * `details` where there are any). Client mistakes get 4xx with a message
 * naming what is wrong; unknown errors are logged and answered 500 without
 * leaking their text.
 */
export function makeErrorMiddleware(log: Logger) {
  return async function errors(ctx: Context, next: Next): Promise<void> {
    try {
      await next();
      if (ctx.status === 404 && ctx.body == null) {
        ctx.status = 404;
        ctx.body = { type: 'NotFound', message: `未找到 / no route for ${ctx.method} ${ctx.path}`, code: 0 };
      } else if (ctx.status === 405 && ctx.body == null) {
        ctx.body = { type: 'MethodNotAllowed', message: `方法不允许 / method ${ctx.method} not allowed on ${ctx.path}`, code: 0 };
      }
    } catch (caught) {
      // Not the server's bug nor the client's: the database is down or restarting, so "try again later".
      const err = !(caught instanceof AppError) && isDatabaseUnavailable(caught)
        ? new UnavailableError('数据库暂时无法访问，请稍后重试 / the database cannot be reached now, try again later')
        : isTooManyParameters(caught)
          ? new ValidationError('请求中的值过多，一条语句容纳不下 / the request holds more values than one statement can take')
          : caught;
      if (err instanceof AppError) {
        // Tampering, or a key missing from the keyring: the operators must hear of it. The error names
        // the variable and instance only (see IntegrityError), so it is safe to log and to answer.
        if (err instanceof IntegrityError) log.error({ err, method: ctx.method, path: ctx.path }, 'integrity check failed');
        ctx.status = statusOf(err);
        ctx.body = { type: err.type, message: err.message, code: 0, ...(err.details !== undefined ? { details: err.details } : {}) };
        if (err instanceof AuthenticationError) ctx.set('WWW-Authenticate', 'Basic realm="engine-rest", charset="UTF-8"');
        if (err instanceof TooManyAttemptsError || err instanceof RateLimitedError || err instanceof UnavailableError) ctx.set('Retry-After', String(err.retryAfterSeconds));
        return;
      }
      const e = err as { status?: number; expose?: boolean; message?: string; type?: string };
      // Errors raised by Koa middleware for a bad request (malformed JSON, body too large, bad encoding).
      if (typeof e.status === 'number' && e.status >= 400 && e.status < 500) {
        ctx.status = e.status;
        const what = err instanceof SyntaxError || e.type === 'entity.parse.failed'
          ? `请求体不是有效的 JSON / request body is not valid JSON: ${e.message}`
          : e.type === 'entity.too.large'
            ? '请求体过大 / request body too large'
            : e.expose && e.message ? e.message : '请求无效 / bad request';
        ctx.body = { type: 'InvalidRequestException', message: what, code: 0 };
        return;
      }
      log.error({ err, method: ctx.method, path: ctx.path }, 'unhandled error');
      ctx.status = 500;
      ctx.body = { type: 'ServerError', message: '服务器内部错误 / internal server error', code: 0 };
    }
  };
}

/**
 * Sends JSON as exactly `application/json`: camunda-external-task-client-js
 * parses only that, and Koa would add `; charset=utf-8`.
 */
export async function exactJsonType(ctx: Context, next: Next): Promise<void> {
  await next();
  if (ctx.body != null && typeof ctx.body === 'object' && !Buffer.isBuffer(ctx.body) && typeof (ctx.body as { pipe?: unknown }).pipe !== 'function') {
    ctx.body = JSON.stringify(ctx.body);
    ctx.set('Content-Type', 'application/json');
  }
}

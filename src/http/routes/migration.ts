import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type { BatchService } from '../../services/batches.ts';
import { MigrationValidationError, type MigrationService } from '../../services/migration.ts';
import { principalOf } from '../auth.ts';
import { bodyObject } from '../params.ts';
import { batchDto } from './batches.ts';

/**
 * Camunda's validation exceptions carry `validationReport` beside the
 * message (not under `details`): Cockpit and clients read it there.
 */
async function withValidationReport(ctx: Context, next: Next): Promise<void> {
  try {
    await next();
  } catch (err) {
    if (!(err instanceof MigrationValidationError)) throw err;
    ctx.status = 400;
    ctx.body = { type: err.type, message: err.message, code: 0, validationReport: err.validationReport };
  }
}

/** `/migration/...`: generate, validate, execute (one transaction per instance) and executeAsync (a batch). */
export function makeMigrationRoutes(deps: { migration: MigrationService; batches: BatchService }): Router {
  const router = new Router();
  router.post('/migration/generate', async (ctx) => {
    ctx.body = await deps.migration.generate(bodyObject(ctx), principalOf(ctx));
  });
  router.post('/migration/validate', async (ctx) => {
    ctx.body = await deps.migration.validate(bodyObject(ctx), principalOf(ctx));
  });
  router.post('/migration/execute', withValidationReport, async (ctx) => {
    await deps.migration.execute(bodyObject(ctx), principalOf(ctx));
    ctx.status = 204;
  });
  router.post('/migration/executeAsync', withValidationReport, async (ctx) => {
    ctx.body = batchDto(await deps.batches.migrateAsync(bodyObject(ctx), principalOf(ctx)));
  });
  return router;
}

import Router from '@koa/router';
import type { Backup, BackupService } from '../../services/backups.ts';
import { principalOf } from '../auth.ts';
import { formatDate } from '../format.ts';

const dto = (b: Backup) => ({ id: b.id, time: formatDate(b.time), size: b.size, heads: b.heads });

/**
 * Ours (Camunda 7 has no backup resource): the embedded database's backups.
 * `GET /backup` lists them, newest first; `POST /backup` takes one now,
 * while the server runs. Administrators only; each backup is traced.
 */
export function makeBackupRoutes(deps: { backups: BackupService }): Router {
  const router = new Router();
  router.get('/backup', (ctx) => {
    ctx.body = deps.backups.list(principalOf(ctx)).map(dto);
  });
  router.post('/backup', async (ctx) => {
    ctx.body = dto(await deps.backups.take(principalOf(ctx)));
  });
  return router;
}

import Router from '@koa/router';
import { NotAcceptableError } from '../../errors.ts';
import type { TaskReportService } from '../../services/task-reports.ts';
import { principalOf } from '../auth.ts';

/** `GET /task/report/candidate-group-count`: JSON, or CSV when asked for (Camunda's variants). */
export function makeTaskReportRoutes(deps: { taskReports: TaskReportService }): Router {
  const router = new Router();
  router.get('/task/report/candidate-group-count', async (ctx) => {
    const type = ctx.accepts('application/json', 'application/csv', 'text/csv');
    if (!type) throw new NotAcceptableError();
    const rows = await deps.taskReports.countByCandidateGroup(principalOf(ctx));
    if (type === 'application/json') {
      ctx.body = rows;
      return;
    }
    ctx.type = type;
    ctx.set('Content-Disposition', 'attachment; filename="task-count-by-candidate-group.csv"');
    ctx.body = ['CANDIDATE_GROUP_NAME,TASK_COUNT', ...rows.map((r) => `${r.groupName},${r.taskCount}`)].join('\n');
  });
  return router;
}

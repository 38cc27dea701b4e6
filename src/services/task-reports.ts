import type { Knex } from 'knex';
import { ForbiddenError } from '../errors.ts';
import { countTasksByCandidateGroup } from '../store/tasks.ts';
import type { Principal } from '../types.ts';
import { isOfficeOrAdmin } from './approval-rights.ts';

/**
 * Reports over all open tasks. They count tasks nobody else may see, so
 * only those who oversee the work ask for them: administrators and the
 * office (领导小组办公室). The read is traced by the read trace.
 */
export function makeTaskReportService(db: Knex) {
  return {
    async countByCandidateGroup(principal: Principal): Promise<{ groupName: string | null; taskCount: number }[]> {
      if (!isOfficeOrAdmin(principal)) throw new ForbiddenError('只有管理员和办公室可以查看任务统计 / only administrators and the office may read task reports');
      return (await countTasksByCandidateGroup(db)).map((r) => ({ groupName: r.group_name, taskCount: Number(r.task_count) }));
    },
  };
}

export type TaskReportService = ReturnType<typeof makeTaskReportService>;

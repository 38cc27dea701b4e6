/**
 * Which migrations `npm run migrate:down` may undo, and what undoing each
 * one loses. A migration is reversible here when, after its down, the
 * release before it runs correctly on the data: only what that older release
 * never knew is dropped. Migrations that change the meaning of kept data
 * (a suspended job or instance would run again, a decision's history would
 * be rewritten) are not listed and are undone by restoring the backup taken
 * before the upgrade. A new migration may say it itself: `export const downLoses = '…'`.
 */
export const DOWN_LOSES: Record<string, string> = {
  '20261125000020_trace_read_instances.ts': '一个索引 / an index only',
  '20261207000025_task_variables.ts': '任务局部变量 / task-local variables',
  '20261207000034_carbon_copies.ts': '抄送记录 / carbon copies',
  '20261207000036_notification_reminders.ts': '通知偏好与待发提醒 / notification preferences and pending reminders',
  '20261207000037_filters.ts': '保存的任务筛选 / saved task filters',
  '20261207000038_task_attachments.ts': '任务附件 / task attachments',
  '20261207000039_incident_annotation.ts': '事故注释 / incident annotations',
  '20261207000042_history_logs.ts': '历史详情、身份链接日志与外部任务日志 / history details, identity-link and external-task logs',
  '20261207000043_statistics.ts': '统计用的索引 / the statistics indexes only',
  '20261207000044_history_cleanup.ts': '历史清理作业的状态 / the history cleanup job state',
  '20261207000045_job_log.ts': '作业日志 / the job log',
  '20261207000047_incident_execution.ts': '事故所在的执行；手工创建的事故在旧版本中不再随执行结束 / the execution a hand-made incident names; the older release no longer ends such incidents with their execution',
};

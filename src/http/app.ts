import cors from '@koa/cors';
import Router from '@koa/router';
import Koa from 'koa';
import type { Logger } from 'pino';
import type { DecisionService } from '../services/decisions.ts';
import type { DefinitionService } from '../services/definitions.ts';
import type { DeploymentService } from '../services/deployments.ts';
import type { HealthService } from '../services/health.ts';
import type { Metrics } from '../services/metrics.ts';
import type { HistoryService } from '../services/history.ts';
import type { HistoryDeletionService } from '../services/history-deletion.ts';
import type { HistoryDetailService } from '../services/history-details.ts';
import type { IdentityLinkLogService } from '../services/identity-link-log.ts';
import type { ExternalTaskLogService } from '../services/external-task-log.ts';
import type { JobLogService } from '../services/job-log.ts';
import type { VariableInstanceService } from '../services/variable-instances.ts';
import type { IdentityService } from '../services/identity.ts';
import type { InstanceService } from '../services/instances.ts';
import type { CommentService } from '../services/comments.ts';
import type { ExternalTaskService } from '../services/external-tasks.ts';
import type { IncidentService } from '../services/incidents.ts';
import type { ExecutionService } from '../services/executions.ts';
import type { MessageService } from '../services/messages.ts';
import type { ConditionStartService } from '../services/condition-starts.ts';
import type { StartTimerService } from '../services/start-timers.ts';
import type { TimerService } from '../services/timers.ts';
import type { BackupService } from '../services/backups.ts';
import type { SchemaLogService } from '../services/schema-log.ts';
import type { EngineMetricsService } from '../services/engine-metrics.ts';
import type { SuspensionService } from '../services/suspension.ts';
import type { TaskService } from '../services/tasks.ts';
import type { LocalVariableService } from '../services/local-variables.ts';
import type { TokenService } from '../services/tokens.ts';
import type { TraceService } from '../services/trace.ts';
import type { MigrationService } from '../services/migration.ts';
import type { BatchService } from '../services/batches.ts';
import type { ModificationService } from '../services/modification.ts';
import type { SendBackService } from '../services/send-back.ts';
import type { TransferService } from '../services/transfers.ts';
import type { SignerService } from '../services/signers.ts';
import { ForbiddenError } from '../errors.ts';
import { WORKERS_GROUP, type Principal } from '../types.ts';
import { makeAuthMiddleware } from './auth.ts';
import { makeBodyReader } from './body.ts';
import { makeReadTrace } from './read-trace.ts';
import { makeClientAddress } from './client-address.ts';
import { exactJsonType, makeErrorMiddleware } from './errors.ts';
import { makeDecisionHistoryRoutes } from './routes/decision-history.ts';
import { makeDecisionRoutes } from './routes/decisions.ts';
import { makeDefinitionRoutes } from './routes/definitions.ts';
import { makeDeploymentRoutes } from './routes/deployments.ts';
import { makeExternalTaskRoutes } from './routes/external-tasks.ts';
import type { ExternalTaskChangeService } from '../services/external-task-changes.ts';
import { makeIncidentRoutes } from './routes/incidents.ts';
import { makeExecutionRoutes } from './routes/executions.ts';
import { makeJobRoutes } from './routes/jobs.ts';
import { makeBackupRoutes } from './routes/backups.ts';
import { makeSchemaLogRoutes } from './routes/schema-log.ts';
import { makeEngineMetricsRoutes } from './routes/engine-metrics.ts';
import { makeMessageRoutes } from './routes/messages.ts';
import { makeConditionRoutes } from './routes/conditions.ts';
import { makeHistoryRoutes } from './routes/history.ts';
import { makeStatisticsRoutes } from './routes/statistics.ts';
import type { StatisticsService } from '../services/statistics.ts';
import { makeHistoryActivityRoutes } from './routes/history-activities.ts';
import { makeHistoryDetailRoutes } from './routes/history-details.ts';
import { makeIdentityLinkLogRoutes } from './routes/identity-link-log.ts';
import { makeExternalTaskLogRoutes } from './routes/external-task-log.ts';
import { makeJobLogRoutes } from './routes/job-log.ts';
import { makeHistoryVariableRoutes } from './routes/history-variables.ts';
import { makeVariableInstanceRoutes } from './routes/variable-instances.ts';
import { makeIdentityRoutes } from './routes/identity.ts';
import { makeInstanceRoutes } from './routes/instances.ts';
import { makeTaskCollaborationRoutes } from './routes/task-collaboration.ts';
import { makeCommentRoutes } from './routes/comments.ts';
import { makeAttachmentRoutes } from './routes/attachments.ts';
import type { AttachmentService } from '../services/attachments.ts';
import { makeVariableDataRoutes } from './routes/variable-data.ts';
import { makeTaskReportRoutes } from './routes/task-reports.ts';
import type { TaskReportService } from '../services/task-reports.ts';
import { makeApprovalRoutes } from './routes/approvals.ts';
import { makeTaskRoutes } from './routes/tasks.ts';
import { makeFormRoutes } from './routes/forms.ts';
import type { FormService } from '../services/form-access.ts';
import { makeTaskIdentityLinkRoutes } from './routes/task-identity-links.ts';
import type { TaskIdentityLinks } from '../services/task-identity-links.ts';
import { makeTaskErrorRoutes } from './routes/task-errors.ts';
import type { TaskErrors } from '../services/task-errors.ts';
import { makeLocalVariableRoutes } from './routes/local-variables.ts';
import { makeTokenRoutes } from './routes/tokens.ts';
import { makeNotificationRoutes } from './routes/notifications.ts';
import { makeNotificationWebhookRoutes } from './routes/notification-webhooks.ts';
import { makeUrgeRoutes } from './routes/urges.ts';
import { makeCarbonCopyRoutes } from './routes/carbon-copies.ts';
import type { CarbonCopyService } from '../services/carbon-copies.ts';
import type { FilterService } from '../services/filters.ts';
import { makeFilterRoutes } from './routes/filters.ts';
import { makeIdentityOptionRoutes } from './routes/identity-options.ts';
import { makeAuthorizationRoutes } from './routes/authorizations.ts';
import type { AuthorizationService } from '../services/authorizations.ts';
import type { UrgeService } from '../services/urges.ts';
import type { NotificationService } from '../services/notifications.ts';
import type { NotificationWebhookService } from '../services/notification-webhooks.ts';
import type { NotificationPreferenceService } from '../services/notification-preferences.ts';
import { makeTraceRoutes } from './routes/trace.ts';
import { makeSuspensionRoutes } from './routes/suspension.ts';
import { makeMigrationRoutes } from './routes/migration.ts';
import { makeBatchRoutes } from './routes/batches.ts';
import { makeHistoryCleanupRoutes } from './routes/history-cleanup.ts';
import type { HistoryCleanupService } from '../services/history-cleanup.ts';
import type { CleanableReportService } from '../services/cleanable-reports.ts';
import type { HistoryBatchService } from '../services/history-batches.ts';
import { makeModificationRoutes } from './routes/modification.ts';
import { makeInstanceBatchRoutes } from './routes/instance-batches.ts';
import { makeDefinitionSettingsRoutes } from './routes/definition-settings.ts';
import type { DefinitionSettings } from '../services/definition-settings.ts';
import type { DefinitionDeletionService } from '../services/definition-deletion.ts';
import type { InstanceBatchService } from '../services/instance-batches.ts';
import { makeSendBackRoutes } from './routes/send-back.ts';
import { makeWebApp } from './web.ts';
import { makeMetricsEndpoint, makeRequestMetrics } from './metrics.ts';
import { wellFormedRequestLine } from './well-formed.ts';
import { engineList, engineNamePrefix, unknownEngine } from './engine-prefix.ts';
import { refuseNotImplemented } from './not-implemented.ts';

export interface AppDeps {
  log: Logger;
  bodyLimit: number;
  /** Browser origins allowed besides Camunda Modeler's `null`. */
  corsOrigins: string[];
  /** Reverse proxies whose X-Forwarded-For is believed (TRUSTED_PROXIES). */
  trustedProxies?: string[];
  health: HealthService;
  identity: IdentityService;
  definitions: DefinitionService;
  decisions: DecisionService;
  deployments: DeploymentService;
  instances: InstanceService;
  tasks: TaskService;
  forms: FormService;
  taskIdentityLinks: TaskIdentityLinks;
  taskErrors: TaskErrors;
  localVariables: LocalVariableService;
  comments: CommentService;
  taskReports: TaskReportService;
  attachments: AttachmentService;
  transfers: TransferService;
  signers: SignerService;
  externalTasks: ExternalTaskService;
  externalTaskChanges: ExternalTaskChangeService;
  incidents: IncidentService;
  executions: ExecutionService;
  messages: MessageService;
  conditionStarts: ConditionStartService;
  timers: TimerService;
  startTimers: StartTimerService;
  schemaLog: SchemaLogService;
  backups: BackupService;
  engineMetrics: EngineMetricsService;
  tokens: TokenService;
  history: HistoryService;
  statistics: StatisticsService;
  historyDeletion: HistoryDeletionService;
  historyDetails: HistoryDetailService;
  identityLinkLog: IdentityLinkLogService;
  externalTaskLog: ExternalTaskLogService;
  jobLog: JobLogService;
  variableInstances: VariableInstanceService;
  trace: TraceService;
  notifications: NotificationService;
  notificationWebhooks: NotificationWebhookService;
  notificationPreferences: NotificationPreferenceService;
  urges: UrgeService;
  carbonCopies: CarbonCopyService;
  filters: FilterService;
  /** Read-only authorizations derived from the roles. */
  authorizations: AuthorizationService;
  suspension: SuspensionService;
  migration: MigrationService;
  batches: BatchService;
  /** Process instance modification, send back and withdraw (optional: tests building the app without it). */
  modification?: ModificationService | undefined;
  /** The asynchronous instance operations (optional as modification). */
  instanceBatches?: InstanceBatchService | undefined;
  /** History time to live, diagrams, static calls, registered deployments (optional as modification). */
  definitionSettings?: DefinitionSettings | undefined;
  definitionDeletion?: DefinitionDeletionService | undefined;
  /** History cleanup, cleanable reports, deletion of historic instances in batches (optional as modification). */
  historyCleanup?: HistoryCleanupService | undefined;
  cleanableReports?: CleanableReportService | undefined;
  historyBatches?: HistoryBatchService | undefined;
  sendBack?: SendBackService | undefined;
  /** The built web app's folder (default dist/web). */
  webRoot?: string;
  /** Request counting and GET /metrics (served here only with `metricsToken`); absent: neither. */
  metrics?: Metrics | undefined;
  metricsToken?: string | undefined;
}

/** What a machine account (the `workers` group) may call: its external tasks, messages, signals, tokens. */
const WORKER_PATHS = /^\/engine-rest\/(external-task(\/.*)?|message|signal|version|engine|token(\/.*)?)$/i;
/** A worker loads a File variable of the instance of a task it holds (services/local-variables.ts checks the lock). */
const WORKER_READS = /^\/engine-rest\/execution\/[^/]+\/localVariables\/[^/]+\/data$/i;

/** The routes that read a multipart/form-data body themselves; every other body must be JSON. */
const MULTIPART_PATHS = new Set(['/engine-rest/deployment/create']);
/** Multipart routes with ids in their paths: binary variable uploads and task attachments (lower-cased, as the body reader asks). */
const MULTIPART_PATTERN = /^\/engine-rest\/(task\/[^/]+\/(variables|localvariables)\/[^/]+\/data|process-instance\/[^/]+\/variables\/[^/]+\/data|execution\/[^/]+\/localvariables\/[^/]+\/data|task\/[^/]+\/attachment\/create)$/;
const isMultipartPath = (path: string) => MULTIPART_PATHS.has(path) || MULTIPART_PATTERN.test(path);

/** What /health and a database-less API call tell a client to wait before trying again. */
const RETRY_AFTER_SECONDS = 5;

/** Deny by default for machines: a worker that is not also an administrator reaches nothing else. */
async function workersOnlyWork(ctx: Koa.Context, next: Koa.Next): Promise<void> {
  const p = ctx.state.principal as Principal | undefined;
  if (p && !p.isAdmin && p.groups.includes(WORKERS_GROUP) && !WORKER_PATHS.test(ctx.path) && !(ctx.method === 'GET' && WORKER_READS.test(ctx.path))) {
    throw new ForbiddenError(`外部任务执行程序只能处理外部任务和发送消息 / workers may only work external tasks and send messages (${ctx.method} ${ctx.path})`);
  }
  await next();
}

/** Camunda 7 reports its own version here; clients use it to pick features. */
export const ENGINE_REST_VERSION = '7.22.0';

/** The Koa application: `/health` open, everything under `/engine-rest` authenticated. */
export function makeApp(deps: AppDeps): Koa {
  const app = new Koa();
  app.proxy = false;
  // First: it times the whole answer and sees the status the error middleware settled on.
  if (deps.metrics) app.use(makeRequestMetrics(deps.metrics));
  // A client hanging up mid-request ends its response with an error that Koa would print to stderr, past the
  // logger. Only the code and message: a parse error carries the raw request bytes, Authorization included.
  app.on('error', (err: Error & { code?: string }) => deps.log.debug({ code: err.code, message: err.message }, 'request stream error'));
  app.use(makeClientAddress(deps.trustedProxies ?? []));
  app.use(exactJsonType);
  app.use(makeErrorMiddleware(deps.log));
  // Before authentication: a browser's preflight carries no credentials.
  // The desktop Camunda Modeler sends `Origin: null`.
  const origins = new Set(['null', ...deps.corsOrigins]);
  app.use(cors({
    origin: (ctx) => (origins.has(ctx.get('Origin')) ? ctx.get('Origin') : ''),
    allowMethods: ['GET', 'POST', 'PUT', 'DELETE'],
    allowHeaders: ['Authorization', 'Accept', 'Content-Type'],
    exposeHeaders: ['Content-Disposition'],
    maxAge: 600,
  }));
  app.use(wellFormedRequestLine);
  // Before anything reads the path: /engine-rest/engine/default/x is /engine-rest/x for every later step.
  app.use(engineNamePrefix);

  const open = new Router();
  open.get('/health', async (ctx) => {
    const result = await deps.health.check();
    ctx.status = result.ok ? 200 : 503;
    if (!result.ok) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    // Unauthenticated: the driver's message (host, port, role) goes to the log, not to whoever asks.
    if (!result.ok) deps.log.warn({ error: result.error }, 'health: database does not answer');
    ctx.body = result.ok ? { status: 'UP', database: 'UP' } : { status: 'DOWN', database: 'DOWN', error: '数据库无响应 / the database does not answer' };
  });
  // Liveness: this process answers; the database is not asked (a restart would not bring it back).
  open.get('/health/live', (ctx) => {
    ctx.body = { status: 'UP' };
  });
  // Readiness: send it work (database answers, schema current, scheduler running), or 503 saying why not.
  open.get('/health/ready', async (ctx) => {
    const { ok, reason, detail, ...parts } = await deps.health.ready();
    if (detail) deps.log.warn({ detail }, `health/ready: ${reason}`);
    ctx.status = ok ? 200 : 503;
    if (!ok) ctx.set('Retry-After', String(RETRY_AFTER_SECONDS));
    ctx.body = { status: ok ? 'UP' : 'DOWN', ...parts, ...(reason ? { reason } : {}) };
  });
  app.use(open.routes());
  // Before the web app, whose page would otherwise answer GET /metrics; before user authentication, on purpose (see http/metrics.ts).
  if (deps.metrics) app.use(makeMetricsEndpoint(deps.metrics, { token: deps.metricsToken, openWithoutToken: false, log: deps.log }));
  // The staff web app at `/`, before authentication: it signs in through the API itself.
  app.use(makeWebApp(deps.webRoot));

  // One test for "this is the API", used by authentication and routing alike: the router matches
  // paths without regard to case, so this test must too, or /ENGINE-REST/... would be routed unauthenticated.
  const isApi = (path: string) => /^\/engine-rest(\/|$)/i.test(path);
  // HEAD would run a GET route's handler (which reads, and decrypts) and send its headers (a
  // file's name and size) with no trace row: the API has no use for it, so nothing runs.
  app.use((ctx, next) => {
    if (ctx.method !== 'HEAD' || !isApi(ctx.path)) return next();
    ctx.status = 405;
    ctx.set('Allow', 'GET, POST, PUT, DELETE');
    return undefined;
  });
  // Authentication runs before routing, so an unknown path under /engine-rest
  // answers 401 to a stranger rather than revealing which routes exist.
  const authenticate = makeAuthMiddleware(deps.identity, deps.tokens);
  app.use((ctx, next) => (isApi(ctx.path) ? authenticate(ctx, next) : next()));

  app.use(workersOnlyWork);
  // After authentication, as for any unknown path: a stranger learns nothing of which engines exist.
  app.use((ctx, next) => (isApi(ctx.path) ? unknownEngine(ctx, next) : next()));
  // After authentication: a stranger's body is never read, whatever its size or type.
  const readBody = makeBodyReader({ limit: deps.bodyLimit, multipartPaths: isMultipartPath });
  app.use((ctx, next) => (isApi(ctx.path) ? readBody(ctx, next) : next()));
  // After authentication and around routing: it reads the matched route once the handler is done.
  app.use(makeReadTrace(deps.trace, (taskId, principal) => deps.tasks.visibleTask(taskId, principal).then((t) => t.process_instance_id, () => null)));

  const api = new Router({ prefix: '/engine-rest' });
  api.get('/version', (ctx) => {
    ctx.body = { version: ENGINE_REST_VERSION };
  });
  api.get('/engine', engineList);
  for (const router of [
    // Before the history and batch routes, whose /history/batch/:id would take the batch report's path.
    makeHistoryCleanupRoutes(deps),
    makeDefinitionSettingsRoutes(deps),
    makeDeploymentRoutes(deps),
    makeStatisticsRoutes(deps),
    makeDefinitionRoutes(deps),
    makeDecisionRoutes(deps),
    makeSuspensionRoutes(deps),
    makeInstanceRoutes(deps),
    makeTaskReportRoutes(deps),
    makeTaskRoutes(deps),
    makeTaskCollaborationRoutes(deps),
    makeCommentRoutes(deps),
    makeAttachmentRoutes(deps),
    makeVariableDataRoutes(deps),
    makeFormRoutes(deps),
    makeTaskIdentityLinkRoutes(deps),
    makeTaskErrorRoutes(deps),
    makeApprovalRoutes(deps),
    makeLocalVariableRoutes(deps),
    makeHistoryRoutes(deps),
    makeHistoryActivityRoutes(deps),
    makeHistoryVariableRoutes(deps),
    makeHistoryDetailRoutes(deps),
    makeIdentityLinkLogRoutes(deps),
    makeExternalTaskLogRoutes(deps),
    makeJobLogRoutes(deps),
    makeVariableInstanceRoutes(deps),
    makeDecisionHistoryRoutes(deps),
    makeExternalTaskRoutes(deps),
    makeIncidentRoutes(deps),
    makeExecutionRoutes(deps),
    makeMessageRoutes(deps),
    makeConditionRoutes(deps),
    makeJobRoutes(deps),
    makeSchemaLogRoutes(deps),
    makeBackupRoutes(deps),
    makeEngineMetricsRoutes(deps),
    makeIdentityRoutes(deps),
    makeIdentityOptionRoutes(),
    makeAuthorizationRoutes(deps),
    makeTokenRoutes(deps),
    makeNotificationRoutes(deps),
    makeNotificationWebhookRoutes(deps),
    makeUrgeRoutes(deps),
    makeCarbonCopyRoutes(deps),
    makeFilterRoutes(deps),
    makeTraceRoutes(deps),
    makeMigrationRoutes(deps),
    makeBatchRoutes(deps),
    makeModificationRoutes(deps),
    makeInstanceBatchRoutes(deps),
    makeSendBackRoutes(deps),
  ]) {
    api.use(router.routes(), router.allowedMethods());
  }
  // Only what authentication took for the API is routed as the API.
  const routes = api.routes() as Koa.Middleware;
  const methods = api.allowedMethods() as Koa.Middleware;
  // Around routing: a Camunda endpoint no route answers is a 501 saying so (not-implemented.ts).
  const apiRoutes: Koa.Middleware = (ctx, next) => (isApi(ctx.path) ? refuseNotImplemented(ctx, () => routes(ctx, () => methods(ctx, next))) : next());
  // `router`, as @koa/router's own middleware carries it: the route-table tests list the routes through it.
  app.use(Object.assign(apiRoutes, { router: api }));
  return app;
}

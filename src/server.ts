import path from 'node:path';
import fs from 'node:fs';
import { makeConditionStartService } from './services/condition-starts.ts';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Knex } from 'knex';
import type { Logger } from 'pino';
import type { Config, HistoryCleanupConfig } from './config.ts';
import type Koa from 'koa';
import type { Keyring } from './crypto/keyring.ts';
import { makeApp } from './http/app.ts';
import { setDateZone } from './http/format.ts';
import { makePublicApp } from './http/public-app.ts';
import { makeMetricsApp } from './http/metrics.ts';
import { makeMetrics, type Metrics } from './services/metrics.ts';
import { makeDecisionService } from './services/decisions.ts';
import { makeDefinitionService } from './services/definitions.ts';
import { makeExternalTaskService } from './services/external-tasks.ts';
import { makeExternalTaskChangeService } from './services/external-task-changes.ts';
import { makeIncidentService } from './services/incidents.ts';
import { makeExecutionService } from './services/executions.ts';
import { makeOutboxService } from './services/outbox.ts';
import { makeTraceService } from './services/trace.ts';
import { makeMessageService } from './services/messages.ts';
import { makeExecution } from './services/execution.ts';
import { makeDeploymentService } from './services/deployments.ts';
import { makeHealthService } from './services/health.ts';
import { makeHistoryService } from './services/history.ts';
import { makeStatisticsService } from './services/statistics.ts';
import { makeHistoryDeletionService } from './services/history-deletion.ts';
import { makeHistoryCleanupService } from './services/history-cleanup.ts';
import { makeCleanableReportService } from './services/cleanable-reports.ts';
import { makeHistoryBatchService } from './services/history-batches.ts';
import { makeHistoryDetailService } from './services/history-details.ts';
import { makeIdentityLinkLogService } from './services/identity-link-log.ts';
import { makeExternalTaskLogService } from './services/external-task-log.ts';
import { makeJobLogService } from './services/job-log.ts';
import { makeVariableInstanceService } from './services/variable-instances.ts';
import { makeIdentityService } from './services/identity.ts';
import { makeLoginGuard } from './services/login-guard.ts';
import { makeLogger } from './log.ts';
import { makeInstanceService } from './services/instances.ts';
import { makeCommentService } from './services/comments.ts';
import { makeTaskReportService } from './services/task-reports.ts';
import { makeAttachmentService } from './services/attachments.ts';
import { makeModificationService } from './services/modification.ts';
import { makeSendBackService } from './services/send-back.ts';
import { makeTaskService } from './services/tasks.ts';
import { makeFormService } from './services/form-access.ts';
import { makeTaskIdentityLinks } from './services/task-identity-links.ts';
import { makeTaskErrors } from './services/task-errors.ts';
import { makeTransferService } from './services/transfers.ts';
import { makeSignerService } from './services/signers.ts';
import { makeLocalVariableService } from './services/local-variables.ts';
import { makeTokenService } from './services/tokens.ts';
import { makePublicRequestService } from './services/public-requests.ts';
import { acquireDataDirLock, type DataDirLock } from './store/data-dir-lock.ts';
import { isEmbedded, makeDb, migrateLatest } from './store/db.ts';
import { makeTopicNotifier } from './store/notify.ts';
import { makeDbClock, type Clock } from './clock.ts';
import { makeTimerScheduler, type TimerScheduler } from './scheduler/timers.ts';
import { makeTimerService } from './services/timers.ts';
import { makeBackupService, type BackupSettings } from './services/backups.ts';
import { makeSchemaLogService } from './services/schema-log.ts';
import { makeEngineMetricsService } from './services/engine-metrics.ts';
import { makeSuspensionService } from './services/suspension.ts';
import { makeTaskTimeouts } from './services/task-timeouts.ts';
import { makeStartTimerService } from './services/start-timers.ts';
import { assertKeyConfigured, prepareKeyring, type KeySource } from './services/keys.ts';
import { makeVariableVault } from './services/sealed-variables.ts';
import { makeMigrationService } from './services/migration.ts';
import { makeBatchService } from './services/batches.ts';
import { makeInstanceBatchService } from './services/instance-batches.ts';
import { makeDefinitionSettings } from './services/definition-settings.ts';
import { makeDefinitionDeletion } from './services/definition-deletion.ts';
import { setEngineLimits } from './engine/limits.ts';
import type { MailConfig } from './config.ts';
import { makeNotificationService } from './services/notifications.ts';
import { makeUrgeService } from './services/urges.ts';
import { makeCarbonCopyService, makeCarbonCopyWriter } from './services/carbon-copies.ts';
import { makeFilterService } from './services/filters.ts';
import { makeAuthorizationService } from './services/authorizations.ts';
import { makeChannelSend, makeNotificationSender, makeSmtpSend } from './services/notification-sender.ts';
import { makeNotificationWebhookService } from './services/notification-webhooks.ts';
import { makeWebhookSend } from './services/webhook-send.ts';

/** The outside channels of notifications, from the configuration (each optional). */
export interface NotifyChannels {
  mail?: MailConfig | undefined;
  /** Where links in mail and webhook messages point. */
  publicBaseUrl?: string | undefined;
  /** NOTIFY_WEBHOOK_URL: every event as JSON. */
  webhookUrl?: string | undefined;
}
import { loadTemplates } from './services/notification-templates.ts';
import { makeReminderSource } from './services/reminders.ts';
import { makeNotificationPreferenceService } from './services/notification-preferences.ts';

export interface Server {
  url: string;
  /** The internet zone's listener, when PUBLIC_PORT is set. */
  publicUrl: string | undefined;
  /** The metrics listener's URL, when METRICS_PORT is set. */
  metricsUrl: string | undefined;
  /** What /metrics reports (tests read it without a listener). */
  metrics: Metrics;
  db: Knex;
  log: Logger;
  services: ReturnType<typeof makeServices>;
  scheduler: TimerScheduler;
  close(): Promise<void>;
}

/** Wires the services on one database handle (also used by tests and benchmarks). */
/** History cleanup without a window, as a server started without HISTORY_CLEANUP_* has it. */
const NO_CLEANUP_WINDOW: HistoryCleanupConfig = { window: undefined, enabled: true, batchSize: 500 };

/** The housekeeping a server's configuration sets: its own backups, history cleanup. Tests mostly leave both at their defaults. */
export interface Housekeeping {
  backup?: BackupSettings;
  cleanup?: HistoryCleanupConfig;
}

export function makeServices(db: Knex, keyring: Keyring, clock: Clock = makeDbClock(db), zone = 'Asia/Shanghai', log?: Logger, notify: NotifyChannels = {}, housekeeping: Housekeeping = {}) {
  const backup = housekeeping.backup ?? { dir: undefined, embedded: isEmbedded(db), intervalHours: 0, keepDays: 14 };
  const cleanup = housekeeping.cleanup ?? NO_CLEANUP_WINDOW;
  const { mail, publicBaseUrl, webhookUrl } = notify;
  const definitions = makeDefinitionService(db);
  const notifier = makeTopicNotifier(db);
  const trace = makeTraceService(db);
  const vault = makeVariableVault(keyring);
  const execution = makeExecution(db, definitions, notifier, clock, zone, vault, trace, { email: !!mail, publicBaseUrl, webhook: !!webhookUrl });
  const notificationWebhooks = makeNotificationWebhookService(db, clock, keyring, trace);
  const carbonCopyWriter = makeCarbonCopyWriter(clock, trace, execution.events);
  const tasks = makeTaskService(db, definitions, execution, trace, carbonCopyWriter);
  const instances = makeInstanceService(db, definitions, execution, trace);
  const messages = makeMessageService(db, execution, instances, trace);
  const migration = makeMigrationService(db, definitions, vault, trace);
  const modification = makeModificationService(db, definitions, execution, trace, instances);
  const batches = makeBatchService(db, migration, modification, trace, notifier);
  const suspension = makeSuspensionService(db, trace);
  const historyDeletion = makeHistoryDeletionService(db, trace);
  return {
    migration,
    batches,
    instanceBatches: makeInstanceBatchService(db, batches, instances, suspension, messages, vault),
    definitionSettings: makeDefinitionSettings(db, trace),
    definitionDeletion: makeDefinitionDeletion(db, clock, zone, notifier, trace),
    notifier,
    trace,
    health: makeHealthService(db),
    identity: makeIdentityService(db, makeLoginGuard(db, clock, { log, trace }), trace),
    deployments: makeDeploymentService(db, clock, zone, notifier, trace),
    definitions,
    decisions: makeDecisionService(db, clock, trace, keyring, zone),
    instances,
    messages,
    conditionStarts: makeConditionStartService(db, instances, { now: () => execution.engineNow() ?? new Date(), zone }),
    outbox: makeOutboxService(db, messages, clock, vault),
    timers: makeTimerService(db, execution, clock, notifier, trace, makeTaskTimeouts(db, definitions, execution, clock, notifier, trace)),
    startTimers: makeStartTimerService(db, instances, clock, zone),
    schemaLog: makeSchemaLogService(db),
    backups: makeBackupService(db, clock, trace, backup, log),
    engineMetrics: makeEngineMetricsService(db),
    tasks,
    forms: makeFormService(db, definitions, tasks, instances),
    taskIdentityLinks: makeTaskIdentityLinks(db, tasks),
    taskErrors: makeTaskErrors(db, tasks, execution, definitions),
    localVariables: makeLocalVariableService(db, definitions, instances, tasks, trace, execution),
    comments: makeCommentService(db, tasks, trace, instances),
    taskReports: makeTaskReportService(db),
    attachments: makeAttachmentService(db, tasks, keyring),
    transfers: makeTransferService(db, tasks),
    signers: makeSignerService(db, definitions, execution),
    externalTasks: makeExternalTaskService(db, definitions, execution, notifier, trace),
    externalTaskChanges: makeExternalTaskChangeService(db, notifier, trace),
    incidents: makeIncidentService(db, trace),
    executions: makeExecutionService(db, execution, trace),
    history: makeHistoryService(db, definitions, vault),
    statistics: makeStatisticsService(db, definitions, zone),
    historyDeletion,
    historyCleanup: makeHistoryCleanupService(db, clock, trace, notifier, cleanup, zone),
    cleanableReports: makeCleanableReportService(db, clock),
    historyBatches: makeHistoryBatchService(batches, instances, historyDeletion),
    historyDetails: makeHistoryDetailService(db, definitions, vault),
    identityLinkLog: makeIdentityLinkLogService(db),
    externalTaskLog: makeExternalTaskLogService(db),
    jobLog: makeJobLogService(db),
    variableInstances: makeVariableInstanceService(db, definitions, vault),
    tokens: makeTokenService(db, trace),
    publicRequests: makePublicRequestService(db, instances, trace),
    notifications: makeNotificationService(db, clock, trace),
    notificationPreferences: makeNotificationPreferenceService(db, clock, trace),
    urges: makeUrgeService(db, clock, trace, execution.events),
    carbonCopies: makeCarbonCopyService(db, clock, trace, tasks, carbonCopyWriter),
    filters: makeFilterService(db, tasks, trace),
    authorizations: makeAuthorizationService(db),
    notificationWebhooks,
    /** Deadline reminders (due soon, overdue) falling due: a scheduler source. */
    reminders: makeReminderSource(db, clock, execution.events),
    /** Sends queued notification mail and webhook messages (role webhooks may be added at any time, so always present). */
    notificationSender: makeNotificationSender(db, clock, makeChannelSend({
      email: mail ? makeSmtpSend(mail) : undefined, webhook: makeWebhookSend(notificationWebhooks, webhookUrl),
    })),
    suspension,
    modification,
    sendBack: makeSendBackService(db, { definitions, tasks, instances, modification, events: execution.events }),
  };
}

/** Listens with the timeouts both zones share; resolves with the server and its URL. */
async function listen(app: Koa, port: number, host: string): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer(app.callback());
  // Below the Modeler's 5 s timeout a slow client must not hold sockets forever.
  server.requestTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return { server, url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${actual}` };
}

async function closeListener(server: http.Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  // Idle keep-alive sockets would hold close() open until they time out.
  server.closeIdleConnections();
  await closed;
}

/**
 * Start-up in order: database, migrations, the encryption keyring,
 * first-start identity, the processes folder, then the HTTP listener, and
 * the internet zone's one when PUBLIC_PORT is set. `db` may be passed in (tests).
 */
export interface StartOptions {
  /** A database handle to use instead of opening one (tests). */
  db?: Knex;
  log?: Logger;
  /** Where "now" comes from; the database's clock unless a test injects one. */
  clock?: Clock;
  /** Run the timer scheduler loop (default). Tests turn it off and drive `scheduler.runDue()`. */
  runScheduler?: boolean;
}

export async function startServer(config: Config, options: StartOptions = {}): Promise<Server> {
  // Errors are logged without the values a statement was given, secrets are censored (log.ts).
  const log = options.log ?? makeLogger(config.logLevel);
  const embedded = options.db ? isEmbedded(options.db) : !config.databaseUrl;
  setEngineLimits(config.engineLimits);
  const keys: KeySource = { keyring: config.sm4Keyring, keyFile: config.sm4KeyFile, generateIn: embedded ? config.dataDir : undefined };
  // Before connecting: PostgreSQL without a key is refused outright.
  assertKeyConfigured(keys);
  let lock: DataDirLock | undefined;
  if (!options.db && !config.databaseUrl) lock = acquireDataDirLock(config.dataDir);
  const db = options.db ?? makeDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolMax: config.databasePoolMax, log });
  try {
    await migrateLatest(db);
    const keyring = await prepareKeyring(db, keys, (message) => log.warn(message));
    log.info({ currentKeyId: keyring.current, keyIds: keyring.ids }, 'encryption at rest: SM4-CTR + HMAC-SM3');
    loadTemplates();
    const services = makeServices(db, keyring, options.clock, config.timezone, log, { mail: config.mail, publicBaseUrl: config.publicBaseUrl, webhookUrl: config.notifyWebhookUrl }, {
      backup: {
        // A test's database (options.db) has no folder of its own: backups only where BACKUP_DIR says.
        dir: config.backup.dir ?? (options.db ? undefined : path.join(config.dataDir, 'backups')),
        embedded, intervalHours: config.backup.intervalHours, keepDays: config.backup.keepDays,
      },
      cleanup: config.historyCleanup,
    });
    await services.notifier.start(log);
    // PGlite is one connection in this thread: firing side by side gains nothing there. On
    // PostgreSQL two lanes keep the CPU busy while the other waits for the database; more
    // only add contention (bench/timers.ts: 2 000 timers on 3 servers, 2 lanes of 40 fastest).
    const concurrency = isEmbedded(db) ? 1 : Math.min(2, config.databasePoolMax - 1);
    const sources = [
      services.timers, services.startTimers, services.outbox, services.batches.source, services.reminders, services.notificationSender,
      services.historyCleanup.source, services.backups.source,
    ];
    const scheduler = makeTimerScheduler(sources, services.notifier, log, { concurrency });
    if (options.runScheduler !== false) {
      scheduler.start();
      services.health.setSchedulerStarted(true);
    }
    const admin = await services.identity.bootstrap({ user: config.adminUser, password: config.adminPassword });
    if (admin?.generatedPassword) {
      announceInitialPassword(config.dataDir, admin.user, admin.generatedPassword, log);
    } else if (admin) {
      log.info({ user: admin.user }, 'administrator created from ADMIN_USER / ADMIN_PASSWORD');
    }
    const fromFiles = await services.deployments.deployDirectory(config.processesDir, config.processesOverride);
    for (const r of fromFiles.deployed) {
      for (const d of r.definitions) log.info({ key: d.key, version: d.version, id: d.id }, 'process deployed');
    }
    for (const y of fromFiles.yielded) {
      log.warn({ key: y.key, file: y.resource, kept: y.kept },
        `流程文件 ${y.resource} 已改动，但流程 ${y.key} 的最新版本 ${y.kept.version}（${y.kept.id}）来自 ${y.kept.source ?? 'REST API'}：保留该版本，未部署文件；`
        + `如要以文件为准，设置 PROCESSES_OVERRIDE=true / the file ${y.resource} changed, but the latest version ${y.kept.version} of ${y.key} `
        + `(${y.kept.id}) came from ${y.kept.source ?? 'the REST API'}: that version is kept and the file not deployed; set PROCESSES_OVERRIDE=true to let the file win`);
    }
    setDateZone(config.timezone);
    const metrics = makeMetrics(db, options.clock ?? makeDbClock(db), { cacheMs: config.metrics.cacheMs });
    // The last verification's outcome, for /metrics: this process keeps it, the trace service stays as it is.
    const verify = services.trace.verify;
    services.trace.verify = async () => {
      const report = await verify();
      metrics.recordVerification(report);
      return report;
    };
    const app = makeApp({
      ...services, log, bodyLimit: config.bodyLimit, corsOrigins: config.corsOrigins, trustedProxies: config.trustedProxies,
      metrics, metricsToken: config.metrics.token,
    });
    const { server, url } = await listen(app, config.port, config.host);
    log.info({ url, database: isEmbedded(db) ? `PGlite ${config.dataDir}` : 'PostgreSQL' }, 'server listening');
    // The internet zone gets an app of its own, not a filter in front of the private one:
    // what it does not route does not exist there.
    let publicListener: { server: http.Server; url: string } | undefined;
    let metricsListener: { server: http.Server; url: string } | undefined;
    const closeListeners = () => Promise.all([server, publicListener?.server, metricsListener?.server].map((s) => s && closeListener(s)));
    try {
      if (config.publicPort !== undefined) {
        publicListener = await listen(makePublicApp({ log, publicRequests: services.publicRequests, trustedProxies: config.publicTrustedProxies }), config.publicPort, config.publicHost);
        log.info({ url: publicListener.url }, 'public listener (internet zone) listening');
      }
      if (config.metrics.port !== undefined) {
        metricsListener = await listen(makeMetricsApp(metrics, { token: config.metrics.token, log }), config.metrics.port, config.metrics.host);
        log.info({ url: metricsListener.url }, 'metrics listener listening');
      }
    } catch (err) {
      // Nothing half-started may outlive the failed start (the caller destroys the database).
      await closeListeners();
      await scheduler.stop();
      await services.notifier.stop();
      throw err;
    }
    return {
      url, publicUrl: publicListener?.url, metricsUrl: metricsListener?.url, metrics, db, log, services, scheduler,
      async close() {
        services.health.setSchedulerStarted(false);
        await closeListeners();
        await scheduler.stop();
        await services.notifier.stop();
        if (!options.db) await db.destroy();
        lock?.release();
      },
    };
  } catch (err) {
    if (!options.db) await db.destroy().catch(() => undefined);
    lock?.release();
    throw err;
  }
}

/**
 * The generated administrator password, once, on the first start only (there
 * is no default password). On a terminal it is printed; otherwise stdout is
 * a log (journald, a container's), which must never hold a password: it goes
 * to a file only the server's user can read, and the log names the file.
 */
function announceInitialPassword(dataDir: string, user: string, password: string, log: Logger): void {
  if (process.stdout.isTTY) {
    process.stdout.write(`\n初始管理员 / initial administrator: ${user}\n密码 / password: ${password}\n请妥善保存，此密码不会再次显示 / store it safely; it is not shown again\n\n`);
    return;
  }
  fs.mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const file = path.join(dataDir, INITIAL_PASSWORD_FILE);
  fs.writeFileSync(file, `${user}\n${password}\n`, { mode: 0o600, flag: 'w' });
  fs.chmodSync(file, 0o600);
  log.warn({ user, file }, `初始管理员密码已写入 ${file}（仅本用户可读），登录改密后请删除该文件 / the initial administrator password is in ${file} (readable by this user only): sign in, change it, delete the file`);
}

/** Where a first start without a terminal leaves the generated administrator password, in DATA_DIR. */
export const INITIAL_PASSWORD_FILE = 'initial-admin-password.txt';

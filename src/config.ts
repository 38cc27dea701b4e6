import path from 'node:path';
import { z } from 'zod';
import { KeyringFormatError, parseKeySpec, type Keyring } from './crypto/keyring.ts';
import type { EngineLimits } from './engine/limits.ts';

/**
 * Server configuration, read once from the environment at start-up.
 * A bad value stops the server with a message naming the variable,
 * rather than surfacing later as a confusing runtime error.
 */
const HH_MM = /^([01]\d|2[0-3]):[0-5]\d$/;

const schema = z.object({
  PORT: z.coerce.number().int().min(0).max(65535).default(8080),
  HOST: z.string().default('0.0.0.0'),
  /** The internet zone's listener (public processes only); unset: none. */
  PUBLIC_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  PUBLIC_HOST: z.string().default('0.0.0.0'),
  /** Reverse proxies (IP addresses, comma-separated) whose X-Forwarded-For names the client, on the private listener. */
  TRUSTED_PROXIES: z.string().default(''),
  /** The same for the public listener: the internet zone's proxies, a list of its own. */
  PUBLIC_TRUSTED_PROXIES: z.string().default(''),
  DATA_DIR: z.string().default('./data'),
  /** Where the embedded database's backups go; default DATA_DIR/backups (put it on another disk). */
  BACKUP_DIR: z.string().optional(),
  /** Hours between scheduled backups of the embedded database; 0: none scheduled. */
  BACKUP_INTERVAL_HOURS: z.coerce.number().min(0).max(24 * 366).default(24),
  /** Days a backup is kept; the newest one is always kept. */
  BACKUP_KEEP_DAYS: z.coerce.number().min(1).max(3660).default(14),
  DATABASE_URL: z.string().url().optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(2).max(100).default(10),
  ADMIN_USER: z.string().min(1).optional(),
  ADMIN_PASSWORD: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  PROCESSES_DIR: z.string().default('./processes'),
  /**
   * `true`: a changed file in PROCESSES_DIR is deployed even over a newer version made in the
   * web modeler or through the API; otherwise that version is kept and a warning logged.
   */
  PROCESSES_OVERRIDE: z.enum(['true', 'false']).default('false'),
  /** Server processes sharing the port (PostgreSQL only; the engine is single-threaded). */
  WORKERS: z.coerce.number().int().min(1).max(64).default(1),
  /** Web origins allowed to call the API from a browser (comma-separated); the Modeler's `null` origin is always allowed. */
  CORS_ORIGINS: z.string().default(''),
  /**
   * The server's time zone (IANA name): cron expressions, timer dates without an offset,
   * calendar arithmetic of durations and cycles, API dates. Not the host's TZ, on purpose.
   */
  TIMEZONE: z.string().refine((z) => { try { new Intl.DateTimeFormat('en', { timeZone: z }); return true; } catch { return false; } }, 'unknown time zone').default('Asia/Shanghai'),
  /** Largest JSON request body accepted, in bytes. */
  BODY_LIMIT: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** CPU time of one diagram script run (QuickJS sandbox), in milliseconds. */
  SCRIPT_TIMEOUT_MS: z.coerce.number().int().min(10).max(60_000).default(1000),
  /** Memory of one diagram script run, in megabytes. */
  SCRIPT_MEMORY_MB: z.coerce.number().int().min(4).max(1024).default(32),
  /** Threads that run diagram scripts, each one at a time (see engine/limits.ts). */
  SCRIPT_THREADS: z.coerce.number().int().min(1).max(16).default(2),
  /** Elements one engine run may start before it is stopped (a cycle that never waits). */
  ENGINE_RUN_STEPS: z.coerce.number().int().min(10).default(5000),
  /** Wall-clock time of one engine run, in milliseconds. */
  ENGINE_RUN_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /** A keyring file for encryption at rest (SM4_KEY itself is read apart, so no message can quote it). */
  SM4_KEY_FILE: z.string().optional(),
  /** Where notifications are mailed through (smtp://user:pass@host:587, smtps://…); unset: no email. Its password is never logged. */
  SMTP_URL: z.string().regex(/^smtps?:\/\/[^\s]+$/, 'must be smtp://… or smtps://…').optional(),
  /** The sender of notification mail (`通知 <bpm@example.org>`); required with SMTP_URL. */
  SMTP_FROM: z.string().min(3).optional(),
  /** A generic JSON webhook receiving every notification event (http(s) URL); its address is never logged. */
  NOTIFY_WEBHOOK_URL: z.string().url().regex(/^https?:\/\//i, 'must be http://… or https://…').optional(),
  /** The web app's address as users reach it, for links in mail (https://bpm.example.org). */
  PUBLIC_BASE_URL: z.string().url().optional(),
  /** A listener of its own for GET /metrics (Prometheus); unset: none. */
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).optional(),
  /** Where the metrics listener binds: the host itself unless a scraper elsewhere needs it. */
  METRICS_HOST: z.string().default('127.0.0.1'),
  /** Bearer token for /metrics; set, it is required on both listeners, and /metrics is served on the main port too. */
  METRICS_TOKEN: z.string().min(16, 'at least 16 characters').optional(),
  /** How long one read of the database's figures serves scrapes, in milliseconds. */
  METRICS_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(5000),
  /** Camunda's history cleanup window, server time zone, `HH:mm` each (22:00 and 06:00: overnight); unset: cleanup runs only when asked (POST /history/cleanup). */
  HISTORY_CLEANUP_BATCH_WINDOW_START_TIME: z.string().regex(HH_MM, 'must be HH:mm (00:00–23:59)').optional(),
  HISTORY_CLEANUP_BATCH_WINDOW_END_TIME: z.string().regex(HH_MM, 'must be HH:mm (00:00–23:59)').optional(),
  /** Camunda's historyCleanupEnabled: `false` stops the cleanup job, scheduled and asked for alike. */
  HISTORY_CLEANUP_ENABLED: z.enum(['true', 'false']).default('true'),
  /** Camunda's historyCleanupBatchSize: finished instances removed per transaction (at most 500, as Camunda). */
  HISTORY_CLEANUP_BATCH_SIZE: z.coerce.number().int().min(1).max(500).default(500),
  /**
   * How long the trace (the SM3-chained audit) must be kept, in days: at least 180, only ever more.
   * History cleanup never touches the trace; this is the promise any future pruning of it must keep.
   */
  TRACE_RETENTION_DAYS: z.coerce.number().int().min(180, '留存期不得少于 180 天 / must be at least 180 days').default(180),
});

export interface Config {
  port: number;
  host: string;
  /** Port of the internet zone's listener; undefined when there is none. */
  publicPort: number | undefined;
  publicHost: string;
  trustedProxies: string[];
  publicTrustedProxies: string[];
  dataDir: string;
  /** The embedded database's backups (services/backups.ts); dir undefined: DATA_DIR/backups. */
  backup: { dir: string | undefined; intervalHours: number; keepDays: number };
  databaseUrl: string | undefined;
  databasePoolMax: number;
  adminUser: string | undefined;
  adminPassword: string | undefined;
  logLevel: z.infer<typeof schema>['LOG_LEVEL'];
  processesDir: string;
  /** PROCESSES_OVERRIDE: files in processesDir win over versions from the modeler or the API. */
  processesOverride: boolean;
  bodyLimit: number;
  workers: number;
  corsOrigins: string[];
  timezone: string;
  /** What a diagram's scripts and one engine run may spend (see src/engine/limits.ts). */
  engineLimits: EngineLimits;
  /**
   * The keyring given in SM4_KEY, if any. Its key material is unreachable
   * from outside (see Keyring), so logging a Config cannot print a key.
   */
  sm4Keyring: Keyring | undefined;
  /** SM4_KEY_FILE, resolved; read at start-up. */
  sm4KeyFile: string | undefined;
  /** Email notifications (SMTP_URL, SMTP_FROM, PUBLIC_BASE_URL); undefined: none are mailed. */
  mail: MailConfig | undefined;
  publicBaseUrl: string | undefined;
  /** NOTIFY_WEBHOOK_URL: every notification event posted as JSON; undefined: none. */
  notifyWebhookUrl: string | undefined;
  /** GET /metrics: its own listener (port undefined: none), its bearer token, its cache period. */
  metrics: { port: number | undefined; host: string; token: string | undefined; cacheMs: number };
  /** History cleanup (HISTORY_CLEANUP_*): its window (undefined: none), whether it runs at all, its batch size. */
  historyCleanup: HistoryCleanupConfig;
  /** TRACE_RETENTION_DAYS: how long the trace is kept at least (≥ 180). */
  traceRetentionDays: number;
}

/** History cleanup settings (Camunda's historyCleanupBatchWindowStartTime / EndTime, historyCleanupEnabled, historyCleanupBatchSize). */
export interface HistoryCleanupConfig {
  window: { start: string; end: string } | undefined;
  enabled: boolean;
  batchSize: number;
}

/** SMTP settings; `url` holds the password, so a Config is never logged whole (log.ts censors it too). */
export interface MailConfig {
  url: string;
  from: string;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `env` into a {@link Config}; throws ConfigError naming every bad variable. */
/** A comma-separated setting as its non-empty items. */
const commaList = (value: string): string[] => value.split(',').map((s) => s.trim()).filter(Boolean);

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const { SM4_KEY: sm4Key, ...cleaned } = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = schema.safeParse(cleaned);
  const lines = parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
  let sm4Keyring: Keyring | undefined;
  try {
    sm4Keyring = sm4Key === undefined ? undefined : parseKeySpec(sm4Key);
  } catch (err) {
    if (!(err instanceof KeyringFormatError)) throw err;
    lines.push(`SM4_KEY: ${err.message}`);
  }
  if (sm4Key !== undefined && cleaned.SM4_KEY_FILE !== undefined) lines.push('SM4_KEY, SM4_KEY_FILE: 只能设置其一 / set one of them, not both');
  if (parsed.success && parsed.data.SMTP_URL && (!parsed.data.SMTP_FROM || !parsed.data.PUBLIC_BASE_URL)) {
    lines.push('SMTP_URL: 需同时设置 SMTP_FROM 和 PUBLIC_BASE_URL / needs SMTP_FROM and PUBLIC_BASE_URL too (the sender, and where mail links point)');
  }
  if (parsed.success && parsed.data.NOTIFY_WEBHOOK_URL && !parsed.data.PUBLIC_BASE_URL) {
    lines.push('NOTIFY_WEBHOOK_URL: 需同时设置 PUBLIC_BASE_URL / needs PUBLIC_BASE_URL too (where links in the messages point)');
  }
  if (parsed.success && (parsed.data.HISTORY_CLEANUP_BATCH_WINDOW_START_TIME === undefined) !== (parsed.data.HISTORY_CLEANUP_BATCH_WINDOW_END_TIME === undefined)) {
    lines.push('HISTORY_CLEANUP_BATCH_WINDOW_START_TIME, HISTORY_CLEANUP_BATCH_WINDOW_END_TIME: 需同时设置 / set both or neither');
  }
  if (parsed.success && parsed.data.HISTORY_CLEANUP_BATCH_WINDOW_START_TIME !== undefined
    && parsed.data.HISTORY_CLEANUP_BATCH_WINDOW_START_TIME === parsed.data.HISTORY_CLEANUP_BATCH_WINDOW_END_TIME) {
    lines.push('HISTORY_CLEANUP_BATCH_WINDOW_END_TIME: 不能等于开始时间 / must differ from the start time (an empty window)');
  }
  if (!parsed.success || lines.length) throw new ConfigError(`配置错误 / invalid configuration: ${lines.join('; ')}`);
  const c = parsed.data;
  // One port cannot be both zones; the second listen would fail with a less helpful message.
  if (c.PUBLIC_PORT !== undefined && c.PUBLIC_PORT !== 0 && c.PUBLIC_PORT === c.PORT) {
    throw new ConfigError(`配置错误 / invalid configuration: PUBLIC_PORT: must differ from PORT (${c.PORT})`);
  }
  if (c.METRICS_PORT !== undefined && c.METRICS_PORT !== 0 && (c.METRICS_PORT === c.PORT || c.METRICS_PORT === c.PUBLIC_PORT)) {
    throw new ConfigError(`配置错误 / invalid configuration: METRICS_PORT: must differ from PORT and PUBLIC_PORT (${c.METRICS_PORT})`);
  }
  return {
    port: c.PORT,
    host: c.HOST,
    publicPort: c.PUBLIC_PORT,
    publicHost: c.PUBLIC_HOST,
    trustedProxies: commaList(c.TRUSTED_PROXIES),
    publicTrustedProxies: commaList(c.PUBLIC_TRUSTED_PROXIES),
    dataDir: path.resolve(c.DATA_DIR),
    backup: { dir: c.BACKUP_DIR === undefined ? undefined : path.resolve(c.BACKUP_DIR), intervalHours: c.BACKUP_INTERVAL_HOURS, keepDays: c.BACKUP_KEEP_DAYS },
    databaseUrl: c.DATABASE_URL,
    databasePoolMax: c.DATABASE_POOL_MAX,
    adminUser: c.ADMIN_USER,
    adminPassword: c.ADMIN_PASSWORD,
    logLevel: c.LOG_LEVEL,
    processesDir: path.resolve(c.PROCESSES_DIR),
    processesOverride: c.PROCESSES_OVERRIDE === 'true',
    bodyLimit: c.BODY_LIMIT,
    workers: c.WORKERS,
    timezone: c.TIMEZONE,
    corsOrigins: commaList(c.CORS_ORIGINS),
    engineLimits: { scriptTimeoutMs: c.SCRIPT_TIMEOUT_MS, scriptMemoryMb: c.SCRIPT_MEMORY_MB, scriptThreads: c.SCRIPT_THREADS, runSteps: c.ENGINE_RUN_STEPS, runWallMs: c.ENGINE_RUN_TIMEOUT_MS },
    sm4Keyring,
    sm4KeyFile: c.SM4_KEY_FILE === undefined ? undefined : path.resolve(c.SM4_KEY_FILE),
    mail: c.SMTP_URL ? { url: c.SMTP_URL, from: c.SMTP_FROM! } : undefined,
    publicBaseUrl: c.PUBLIC_BASE_URL,
    notifyWebhookUrl: c.NOTIFY_WEBHOOK_URL,
    metrics: { port: c.METRICS_PORT, host: c.METRICS_HOST, token: c.METRICS_TOKEN, cacheMs: c.METRICS_CACHE_MS },
    historyCleanup: {
      window: c.HISTORY_CLEANUP_BATCH_WINDOW_START_TIME && c.HISTORY_CLEANUP_BATCH_WINDOW_END_TIME
        ? { start: c.HISTORY_CLEANUP_BATCH_WINDOW_START_TIME, end: c.HISTORY_CLEANUP_BATCH_WINDOW_END_TIME } : undefined,
      enabled: c.HISTORY_CLEANUP_ENABLED === 'true',
      batchSize: c.HISTORY_CLEANUP_BATCH_SIZE,
    },
    traceRetentionDays: c.TRACE_RETENTION_DAYS,
  };
}

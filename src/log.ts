import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * The server's logger. A log goes to operators, files and collectors that
 * the data's protection does not reach, so what it may hold is kept short
 * here, at the logger, rather than trusted to every call site:
 *
 * - an error is logged with a fixed set of fields (`safeError`): never a
 *   database driver's `params` / `bindings`, `detail` ("Key (id)=(…)",
 *   "Failing row contains (…)"), `where` or `query`, which carry the values
 *   a statement was given (a password hash, a citizen's form fields);
 * - a database error's message keeps its SQL (placeholders only) and its
 *   reason, with any quoted value in the reason blanked out;
 * - fields named like secrets are censored wherever they appear one level
 *   down (`redact`), should a call site ever pass one.
 */
export function makeLogger(level: string, destination?: DestinationStream): Logger {
  const options = {
    level,
    base: undefined,
    serializers: { err: safeError, error: safeError },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

const SECRET_FIELDS = [
  'SM4_KEY', 'password', 'passwordHash', 'password_hash', 'authorization', 'Authorization', 'token', 'secret',
  'params', 'bindings', 'parameters', 'variables', 'value', 'SMTP_URL', 'smtpUrl', 'mail',
  'NOTIFY_WEBHOOK_URL', 'notifyWebhookUrl', 'webhookUrl',
];
const REDACTED_PATHS = [
  ...SECRET_FIELDS, ...SECRET_FIELDS.map((f) => `*.${f}`),
  'env.SM4_KEY', 'req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie',
];

/** What of an error may be logged: its class, message, stack and these. */
const KEPT_FIELDS = ['type', 'code', 'status', 'statusCode', 'errno', 'syscall', 'severity', 'schema', 'table', 'column', 'constraint', 'dataType', 'routine'];
/** Names a database error gives about itself: identifiers of the schema, never values. */
const NAME_FIELDS = ['schema', 'table', 'column', 'constraint', 'dataType'];
/** Knex prefixes a failed statement to its error's message; the statement is kept (store/db.ts gives it placeholders only). */
export const FAILED_SQL = Symbol('failed SQL');

/** An error as the log may show it: see makeLogger. */
export function safeError(err: unknown, depth = 0): unknown {
  if (!(err instanceof Error)) return typeof err === 'string' ? blank(err, new Set()) : '[not an Error]';
  const e = err as Error & Record<string | symbol, unknown>;
  const out: Record<string, unknown> = { type: e.constructor?.name ?? 'Error', message: safeMessage(e) };
  for (const f of KEPT_FIELDS) if (typeof e[f] === 'string' || typeof e[f] === 'number') out[f] = e[f];
  if (typeof e.stack === 'string') {
    // The stack's first lines repeat the message as it was when the stack was read: keep only the frames.
    const frames = e.stack.split('\n').filter((l) => /^\s+at /.test(l));
    out.stack = [`${e.name}: ${out.message}`, ...frames].join('\n');
  }
  // An AppError's details name what is wrong (fields, a variable's name), as its answer to the client does.
  if (e.details !== undefined && !isDatabaseError(e)) out.details = e.details;
  if (depth < 5 && e.cause !== undefined) out.cause = safeError(e.cause, depth + 1);
  if (depth < 5 && Array.isArray(e.errors)) out.errors = e.errors.slice(0, 10).map((x) => safeError(x, depth + 1));
  return out;
}

/** A failure of the model's own code: EngineRunError, or the ProcessEngineException made of one. */
function isModelFailure(e: Error & Record<string | symbol, unknown>): boolean {
  return e.name === 'EngineRunError' || e.name === 'ScriptFailure' || e.type === 'ProcessEngineException';
}

function isDatabaseError(e: Record<string | symbol, unknown>): boolean {
  return (typeof e.code === 'string' && /^[0-9A-Z]{5}$/.test(e.code) && typeof e.severity === 'string')
    || 'params' in e || 'bindings' in e || 'query' in e || FAILED_SQL in e;
}

/** The message; for a database error, the reason with every quoted value blanked (quoted names the error gives are kept). */
function safeMessage(e: Error & Record<string | symbol, unknown>): string {
  const message = String(e.message ?? '');
  if (isModelFailure(e)) {
    // A script's or an expression's own words can quote a variable (`throw new Error(secret)`,
    // a JSON.parse of one): they go to the incident, which is read under the instance's rights.
    const at = typeof (e.activityId ?? (e.details as { activityId?: unknown } | undefined)?.activityId) === 'string'
      ? String(e.activityId ?? (e.details as { activityId: string }).activityId) : 'unknown element';
    return `模型在 ${at} 处运行失败，原文不写入日志（可能含变量值），见事件 / the model failed at ${at}; its message is kept out of the log (it may quote variable values): see the incident`;
  }
  if (!isDatabaseError(e)) return message;
  const names = new Set(NAME_FIELDS.map((f) => e[f]).filter((v): v is string => typeof v === 'string'));
  const sql = typeof e[FAILED_SQL] === 'string' ? e[FAILED_SQL] as string : typeof e.query === 'string' ? e.query : undefined;
  if (sql && message.startsWith(`${sql} - `)) return `${sql} - ${blank(message.slice(sql.length + 3), names)}`;
  return blank(message, names);
}

/** `"…"` and `'…'` spans blanked, unless one of `names`. */
function blank(text: string, names: Set<string>): string {
  return text.replace(/"([^"]*)"|'([^']*)'/g, (span, dq?: string, sq?: string) => (names.has(dq ?? sq ?? '') ? span : `${span[0]}…${span[0]}`));
}

/**
 * Knex's own log hooks. Knex logs warnings and deprecations as text, and in
 * `debug` mode whole query objects with their bindings: text goes to the
 * server's log, objects never do.
 */
export function knexLog(log: Logger | undefined) {
  const text = (level: 'warn' | 'error') => (message: unknown) => {
    const line = typeof message === 'string' ? message : 'knex logged an object (not shown: it may hold bindings)';
    // Without the server's logger (tests, command-line tools), as Knex would: to standard error.
    if (log) log[level]({ from: 'knex' }, line);
    else process.stderr.write(`knex ${level}: ${line}\n`);
  };
  return { warn: text('warn'), error: text('error'),
    deprecate: (method: string, alternative: string) => text('warn')(`${method} is deprecated; use ${alternative}`),
    debug: (_message: unknown) => undefined, enableColors: false };
}

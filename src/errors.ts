/**
 * Typed errors of the domain. Services throw these; the one HTTP error
 * middleware (http/errors.ts) maps each class to a status code and the
 * Camunda error body `{ type, message, code }`. Nothing here knows HTTP.
 */
export class AppError extends Error {
  /** Camunda-style exception type name shown to clients. */
  readonly type: string;
  readonly details: unknown;
  constructor(type: string, message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    this.type = type;
    this.details = details;
  }
}

/** The request is malformed or violates a rule (400). */
export class ValidationError extends AppError {
  constructor(message: string, details?: unknown, type = 'InvalidRequestException') {
    super(type, message, details);
  }
}

/** The entity does not exist, or the caller may not know it exists (404). */
export class NotFoundError extends AppError {
  constructor(message: string, details?: unknown) {
    super('InvalidRequestException', message, details);
  }
}

/** No or bad credentials (401). */
export class AuthenticationError extends AppError {
  constructor(message = '需要登录 / authentication required') {
    super('AuthenticationException', message);
  }
}

/** Too many failed attempts: locked out until `retryAfterSeconds` have passed (429). */
export class TooManyAttemptsError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('AuthenticationException', message);
  }
}

/** Done too often: allowed again after `retryAfterSeconds` (429), e.g. a second 催办 of a task within the hour. */
export class RateLimitedError extends AppError {
  constructor(message: string, readonly retryAfterSeconds: number) {
    super('RateLimitedException', message);
  }
}

/** Authenticated but not allowed (403). */
export class ForbiddenError extends AppError {
  constructor(message: string, details?: unknown) {
    super('AuthorizationException', message, details);
  }
}

/** The state changed under the caller: a concurrent update, a duplicate (409). */
export class ConflictError extends AppError {
  constructor(message: string, details?: unknown, type = 'OptimisticLockingException') {
    super(type, message, details);
  }
}

/**
 * A deployed resource cannot be parsed or executed. The message starts with
 * Camunda's ENGINE-09005 text because Camunda Modeler shows it verbatim.
 */
export class ParseError extends AppError {
  constructor(message: string, details: ParseDetails) {
    super('ParseException', message, details);
  }
}

/** One problem in a resource, in the shape of Camunda 7's ParseException details. */
export interface ParseProblem {
  message: string;
  line: number | null;
  column: number | null;
  mainElementId: string | null;
  elementIds: string[];
}

/** Problems keyed by resource name, as Camunda 7 reports them. */
export type ParseDetails = Record<string, { errors: ParseProblem[]; warnings: ParseProblem[] }>;

/** A Camunda 7 endpoint or feature this server does not have (501): said plainly rather than a 404 that reads like a typo. */
export class NotImplementedError extends AppError {
  constructor(message: string, details?: unknown) {
    super('RestException', message, details);
  }
}

/** The database could not be reached (503, with Retry-After: a client should try again later). */
export class UnavailableError extends AppError {
  constructor(message: string, readonly retryAfterSeconds = 5) {
    super('ServiceUnavailable', message);
  }
}

/** The body comes in a media type or content coding the route does not read (415). */
export class UnsupportedMediaTypeError extends AppError {
  constructor(message: string) {
    super('UnsupportedMediaTypeException', message);
  }
}

/** None of the media types the client accepts can be given (406, Camunda's "No acceptable content-type found"). */
export class NotAcceptableError extends AppError {
  constructor(message = '没有可接受的内容类型 / no acceptable content-type found') {
    super('InvalidRequestException', message);
  }
}

/**
 * A sealed variable failed its check: altered in the database, moved from
 * another row, written under a key this server does not hold, or found in
 * plain text where it must be sealed (500).
 * It names the variable and the instance, never a key or any plaintext.
 */
export class IntegrityError extends AppError {
  constructor(
    readonly processInstanceId: string,
    readonly variableName: string,
    readonly reason: 'malformed' | 'unknown-key' | 'integrity' | 'unsealed',
    readonly keyId: string | null,
  ) {
    const [zh, en] = {
      'unknown-key': [`密钥 ${keyId} 不在密钥环中`, `it was encrypted under key id ${keyId}, which the keyring lacks`],
      malformed: ['存储格式已损坏', 'the stored envelope is malformed'],
      integrity: ['数据已被篡改或不属于此处', 'the stored value was altered or belongs to another variable'],
      unsealed: ['应加密的变量以明文存储（升级后请运行 npm run reencrypt）', 'it must be stored encrypted but is plain (after an upgrade, run npm run reencrypt)'],
    }[reason];
    super(
      'IntegrityException',
      `流程实例 ${processInstanceId} 的变量 ${variableName} 完整性校验失败：${zh} / integrity check failed for variable ${variableName} of process instance ${processInstanceId}: ${en}`,
      { processInstanceId, variableName, reason },
    );
  }
}

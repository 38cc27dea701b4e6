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

/** The database could not be reached (503). */
export class UnavailableError extends AppError {
  constructor(message: string) {
    super('ServiceUnavailable', message);
  }
}

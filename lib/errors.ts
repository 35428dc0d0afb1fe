/**
 * The one error family of execution-archive. Every error a caller may branch on is one of these;
 * foreign errors (pop-core, ali-oss, node) are wrapped once, at the lib boundary, and kept as `cause`.
 */

export interface AppErrorOptions {
  cause?: unknown;
}

/** Base class: `code` is a stable machine-readable string, `message` is for people. */
export class AppError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
  }
}

/** The deployment is misconfigured (a missing or malformed environment variable). */
export class ConfigError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('InvalidConfiguration', message, options);
  }
}

/**
 * The caller's input is wrong: a bad payload, an unknown id, a conflicting state.
 * `status` is the HTTP status an HTTP trigger answers with.
 */
export class InputError extends AppError {
  readonly status: 400 | 404 | 405 | 409 | 413 | 415;
  constructor(
    code: string,
    message: string,
    status: 400 | 404 | 405 | 409 | 413 | 415 = 400,
    options: AppErrorOptions = {},
  ) {
    super(code, message, options);
    this.status = status;
  }
}

export interface ApiErrorDetails {
  service: string;
  action: string;
  /** The API's `Code`, or a transport code (`RequestTimeout`, `ECONNRESET`, `NonJsonResponse`, ...). */
  code: string;
  /** The API's `Message` (without pop-core's ", URL: ..." suffix). */
  apiMessage: string;
  requestId?: string | undefined;
  httpStatus?: number | undefined;
  /** Whether this error class is retryable under the retry policy. */
  retryable: boolean;
  /** How many attempts were made before giving up (1 = not retried). */
  attempts: number;
}

/** A call to an Alibaba Cloud API failed (after whatever retries the policy allowed). */
export class ApiError extends AppError {
  readonly service: string;
  readonly action: string;
  readonly apiMessage: string;
  readonly requestId: string | undefined;
  readonly httpStatus: number | undefined;
  readonly retryable: boolean;
  readonly attempts: number;
  constructor(details: ApiErrorDetails, options: AppErrorOptions = {}) {
    const where = `${details.service}:${details.action}`;
    const rid = details.requestId ? ` (RequestId ${details.requestId})` : '';
    super(details.code, `${where} failed: ${details.code}: ${details.apiMessage}${rid}`, options);
    this.service = details.service;
    this.action = details.action;
    this.apiMessage = details.apiMessage;
    this.requestId = details.requestId;
    this.httpStatus = details.httpStatus;
    this.retryable = details.retryable;
    this.attempts = details.attempts;
  }
  /** Whether a retry happened before this error was given up on. */
  get retried(): boolean {
    return this.attempts > 1;
  }
}

/** The API's pagination misbehaved (a repeated NextToken, too many pages). */
export class PaginationError extends AppError {
  constructor(message: string, options: AppErrorOptions = {}) {
    super('PaginationError', message, options);
  }
}

/** Reading or writing the archive store failed. `code` is the store's code (`NoSuchKey`, `ObjectAlreadyExists`, ...). */
export class StorageError extends AppError {
  readonly key: string | undefined;
  readonly status: number | undefined;
  constructor(code: string, message: string, details: { key?: string; status?: number } = {}, options: AppErrorOptions = {}) {
    super(code, message, options);
    this.key = details.key;
    this.status = details.status;
  }
}

/** The invocation's time budget ran out before the work could be finished. */
export class DeadlineError extends AppError {
  constructor(message = 'the invocation deadline was reached', options: AppErrorOptions = {}) {
    super('DeadlineExceeded', message, options);
  }
}

/** True for the store's "the object already exists" answer to a forbid-overwrite write. */
export function isAlreadyExists(err: unknown): boolean {
  return err instanceof StorageError && err.code === 'ObjectAlreadyExists';
}

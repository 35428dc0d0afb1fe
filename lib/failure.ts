/**
 * How a failure presents to whoever asked: the one place that decides, for HTTP answers and event rejection, whether
 * an error is the caller's fault (4xx), a dependency that is down (503), or ours (500). Retryability is the retry
 * classifier's (lib/cloud/retry.ts); the error family is lib/errors.ts.
 */
import { AppError, ApiError, DeadlineError, InputError, StorageError } from './errors';
import { isRetryable } from './cloud/retry';

/**
 * API error codes that describe the caller's input (a region, an id, a parameter the API does not accept), as opposed
 * to our own credentials or signing (`InvalidAccessKeyId.*`, `InvalidSecurityToken.*`, `SignatureDoesNotMatch`), which
 * are faults of the deployment.
 */
const CALLER_API_CODE = /^(?:Invalid|MissingParameter|EntityNotExists|IncorrectInstanceStatus|InvalidParam)/;
const OWN_API_CODE = /^(?:InvalidAccessKey|InvalidSecurityToken|InvalidTimeStamp|SignatureDoesNotMatch|SignatureNonceUsed|Forbidden|NoPermission)/;

/** True when an API answer says the request's input was wrong (not retryable, not our credentials). */
export function isCallerApiError(err: unknown): err is ApiError {
  return err instanceof ApiError && !err.retryable && CALLER_API_CODE.test(err.code) && !OWN_API_CODE.test(err.code);
}

/** Who is at fault for a failure, and how a caller sees it. */
export interface FailureView {
  /** `caller`: bad input (4xx, never retried); `unavailable`: a dependency is down, retry later (503); `internal`: our fault (500). */
  fault: 'caller' | 'unavailable' | 'internal';
  /** The HTTP status an HTTP trigger answers with. */
  status: number;
  code: string;
  /** A message safe to show the caller (no internals, no stack). */
  message: string;
  /** Whether the same request may succeed later. */
  retryable: boolean;
}

/**
 * The one place that classifies a failure for callers (HTTP answers, event rejection): `InputError`s and API answers
 * that describe the caller's input are 4xx with their code and message; a dependency that still fails after the
 * retry policy (an API, OSS) or a deadline is 503 with a clear code; anything else is ours, 500.
 * @example describeFailure(new InputError('InvalidParameter', 'regionId …')).status // 400
 */
export function describeFailure(err: unknown): FailureView {
  if (err instanceof InputError) return { fault: 'caller', status: err.status, code: err.code, message: err.message, retryable: false };
  if (isCallerApiError(err)) {
    const s = err.httpStatus;
    const status = s !== undefined && s >= 400 && s < 500 && s !== 401 && s !== 403 && s !== 429 ? s : /NotFound|NotExist/.test(err.code) ? 404 : 400;
    return { fault: 'caller', status, code: err.code, message: `${err.service}:${err.action}: ${err.apiMessage}`, retryable: false };
  }
  if (err instanceof ApiError && err.retryable) {
    return {
      fault: 'unavailable',
      status: 503,
      code: 'UpstreamUnavailable',
      message: `the ${err.service.toUpperCase()} API kept failing (${err.code} after ${err.attempts} attempt${err.attempts === 1 ? '' : 's'}); try again later`,
      retryable: true,
    };
  }
  if (err instanceof StorageError && isRetryable(err)) {
    return {
      fault: 'unavailable',
      status: 503,
      code: 'StorageUnavailable',
      message: `the archive store kept failing (${err.code}${err.status ? ` ${err.status}` : ''}); nothing was lost, try again later`,
      retryable: true,
    };
  }
  if (err instanceof DeadlineError || (err instanceof AppError && err.code === 'DeadlineExceeded')) {
    return { fault: 'unavailable', status: 503, code: 'DeadlineExceeded', message: 'the invocation ran out of time; try again', retryable: true };
  }
  return {
    fault: 'internal',
    status: 500,
    code: 'InternalError',
    message: 'the request failed on the server; see the function logs for this request id',
    retryable: false,
  };
}

/**
 * Transient store failures (an OSS 5xx, a dropped connection, a timeout) retried with the project's one retry
 * policy, so a blip in OSS does not cost a collection its invocation. The stores themselves stay retry-free.
 */
import { StorageError } from '../errors';
import type { Logger } from '../log';
import { isRetryable, retryPolicy, withRetry, type RetryDeadline, type RetryPolicy } from '../cloud/retry';
import type { ObjectStore } from './store';

/**
 * Whether a store failure is worth another attempt: the project's one classifier (lib/cloud/retry.ts) on the
 * StorageError's code and status (a 5xx or 429 answer, or a network failure without an answer).
 */
export function isTransientStorageError(err: unknown): boolean {
  return err instanceof StorageError && isRetryable(err);
}

export interface StoreRetryOptions {
  /** @default DEFAULT_RETRY_POLICY (6 attempts, 200 ms base, 5 s cap) */
  policy?: Partial<RetryPolicy>;
  /** No retry sleeps past it; its signal cuts a sleep short. */
  deadline?: RetryDeadline;
  logger?: Logger;
  /** Injected in tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * `store` with its single-request operations retried on transient failures. `list` is passed through: its pages
 * come from an iterator the caller drives, and the callers that list (cleanup, summaries) are themselves re-run.
 * A retried forbid-overwrite put whose first attempt did land answers `ObjectAlreadyExists`, which callers already
 * handle as "someone committed".
 */
export function withStoreRetries(store: ObjectStore, options: StoreRetryOptions = {}): ObjectStore {
  const policy = retryPolicy(options.policy);
  const retry = <T>(operation: string, key: string, fn: () => Promise<T>): Promise<T> =>
    withRetry(fn, {
      policy,
      deadline: options.deadline,
      classify: isTransientStorageError,
      sleep: options.sleep,
      onRetry: ({ error, attempt, delayMs }) =>
        options.logger?.warn('store operation retry', { operation, key, code: (error as StorageError).code, attempt, delayMs }),
    });
  return {
    url: store.url,
    put: (key, body, putOptions) => retry('put', key, () => store.put(key, body, putOptions)),
    get: (key) => retry('get', key, () => store.get(key)),
    getStream: (key, options) => retry('getStream', key, () => store.getStream(key, options)),
    head: (key) => retry('head', key, () => store.head(key)),
    delete: (key) => retry('delete', key, () => store.delete(key)),
    list: (prefix) => store.list(prefix),
    ...(store.abortUploads ? { abortUploads: (prefix: string) => retry('abortUploads', prefix, () => store.abortUploads?.(prefix) ?? Promise.resolve(0)) } : {}),
    locate: (key) => store.locate(key),
  };
}

/** FC 3.0 HTTP trigger events (version v1) as the runtime hands them to a handler, for tests. */
import type { HttpTriggerEvent } from '../../lib/triggers';

export interface HttpEventOptions {
  method?: string;
  path?: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** A string is sent as is; a Buffer is sent Base64-encoded (`isBase64Encoded: true`). */
  body?: string | Buffer;
}

export function httpTriggerEvent(opts: HttpEventOptions = {}): HttpTriggerEvent {
  const path = opts.path ?? '/collect';
  const binary = Buffer.isBuffer(opts.body);
  return {
    version: 'v1',
    rawPath: path,
    body: binary ? (opts.body as Buffer).toString('base64') : ((opts.body as string | undefined) ?? ''),
    isBase64Encoded: binary,
    headers: opts.headers ?? {},
    queryParameters: opts.query ?? {},
    requestContext: { requestId: 'req-test', http: { method: opts.method ?? 'POST', path, sourceIp: '127.0.0.1' } },
  };
}

/** The JSON bytes FC passes as `event`. */
export function httpEventBytes(opts: HttpEventOptions = {}): Buffer {
  return Buffer.from(JSON.stringify(httpTriggerEvent(opts)));
}

/**
 * The local cloud's POP RPC endpoint: one HTTP server that speaks OOS 2019-06-01 and ECS 2014-05-26 as the official
 * clients send them: `@alicloud/pop-core` 1.8.0 (GET query or POST form at `/`, V1 HMAC-SHA1 signature) and
 * `@alicloud/openapi-core` with the generated product SDKs (`@alicloud/ecs20140526`; V3 `ACS3-HMAC-SHA256` by
 * default, `x-acs-action`/`x-acs-version` headers, V1 with `signatureAlgorithm: 'v2'`). JSON bodies, documented error
 * codes and statuses, plus a loopback-only admin API under `/__admin/`.
 *
 * This is the other side of the wire: it never imports from `lib/`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from '../listen';
import { DEMO_KEYS, type DemoKey } from '../credentials';
import { Datasets, KNOWN_REGION_IDS } from '../datasets';
import { DEFAULT_SLOW_MS, FAULT_KINDS, FaultInjector, transportFault, type FaultKind, type FaultSpec } from '../faults';
import type { Handler } from './context';
import { ECS_HANDLERS, ECS_VERSION } from './ecs';
import { Errors, RpcError, errorBody, type Product } from './errors';
import { OOS_HANDLERS, OOS_VERSION } from './oos';
import { CountCache, TokenCodec } from './pagination';
import { stringifyAnswer } from './json-text';
import { Params } from './params';
import { NonceStore } from '../nonces';
import { authenticate, authenticateV3 } from './protocol';
import { MalformedQueryError, parseUrlEncoded } from './signature';

/** Options of {@link startRpcEmulator}. */
export interface RpcEmulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0 (an ephemeral port). */
  port?: number;
  /** Dataset seed, default 1. */
  seed?: number;
  /** Accepted keys, default {@link DEMO_KEYS}. */
  keys?: readonly DemoKey[];
  /** Emulator clock (ms since epoch), default Date.now; used for Timestamp checks and simulated tasks. */
  now?: () => number;
  /** Accepted Timestamp skew, default 900 000 ms (±15 min). */
  timestampSkewMs?: number;
}

/** Request counters (RPC requests only; admin calls are not counted). */
export interface RpcStats {
  requests: number;
  byAction: Record<string, number>;
  reset(): void;
}

/** A running emulator. */
export interface RpcEmulator {
  /** `http://127.0.0.1:PORT`; one endpoint serves both OOS and ECS (dispatch on `Version`). */
  url: string;
  data: Datasets;
  faults: FaultInjector;
  stats: RpcStats;
  close(): Promise<void>;
}

/** Options of {@link createRpcHandler}. */
export interface RpcHandlerOptions {
  data: Datasets;
  faults?: FaultInjector;
  keys?: readonly DemoKey[];
  now?: () => number;
  timestampSkewMs?: number;
  /** Keys the NextToken HMAC; default `data.seed`. */
  seed?: number;
}

/** A node:http request listener with its state, for mounting in a composed local cloud. */
export interface RpcHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  readonly data: Datasets;
  readonly faults: FaultInjector;
  readonly stats: RpcStats;
  /** Cancels pending delayed answers (slow faults, latency). */
  dispose(): void;
}

interface ProductDef {
  product: Product;
  host: string;
  handlers: Readonly<Record<string, Handler>>;
}

const PRODUCTS: Readonly<Record<string, ProductDef>> = {
  [OOS_VERSION]: { product: 'Oos', host: 'oos', handlers: OOS_HANDLERS },
  [ECS_VERSION]: { product: 'Ecs', host: 'ecs', handlers: ECS_HANDLERS },
};

const MAX_BODY_BYTES = 1 << 20;

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n<center><h1>502 Bad Gateway</h1></center>\r\n' +
  '<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

/** Real request ids are upper-case UUIDs (`473469C7-AA6F-4DC5-B3DB-A3DC0DE…`). */
function newRequestId(): string {
  return randomUUID().toUpperCase();
}

function isLoopback(addr: string | undefined): boolean {
  if (!addr) return false;
  const a = addr.startsWith('::ffff:') ? addr.slice(7) : addr;
  return a === '::1' || a.startsWith('127.');
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** Answers `body`: one text, or pieces of text sent one after another (the body is their concatenation). */
function send(res: ServerResponse, status: number, contentType: string, body: string | readonly string[], requestId?: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const pieces = typeof body === 'string' ? [body] : body;
  const headers: Record<string, string | number> = {
    'content-type': contentType,
    'content-length': pieces.reduce((n, piece) => n + Buffer.byteLength(piece), 0),
    ...extra,
  };
  if (requestId) headers['x-acs-request-id'] = requestId;
  res.writeHead(status, headers);
  if (pieces.length === 1) {
    res.end(pieces[0]);
    return;
  }
  res.cork();
  for (const piece of pieces) if (piece.length > 0) res.write(piece);
  res.end();
  res.uncork();
}

function sendJson(res: ServerResponse, status: number, body: unknown, requestId?: string, extra?: Record<string, string>): void {
  send(res, status, 'application/json;charset=utf-8', JSON.stringify(body), requestId, extra);
}

function headerOf(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(',') : v;
}

/**
 * Creates the request listener. Serves `GET /?…` and `POST /` (form body) for both products, and `/__admin/*` on the
 * loopback only. Everything else is a JSON 404.
 */
export function createRpcHandler(opts: RpcHandlerOptions): RpcHandler {
  const data = opts.data;
  const faults = opts.faults ?? new FaultInjector();
  const keys = opts.keys ?? DEMO_KEYS;
  const now = opts.now ?? data.now;
  const skewMs = opts.timestampSkewMs ?? 900_000;
  const tokens = new TokenCodec(opts.seed ?? data.seed);
  const counts = new CountCache();
  const nonces = new NonceStore();
  const timers = new Set<NodeJS.Timeout>();
  const stats: RpcStats = {
    requests: 0,
    byAction: {},
    reset() {
      stats.requests = 0;
      stats.byAction = {};
    },
  };

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  async function rpc(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const requestId = newRequestId();
    let product: Product = 'Ecs';
    let hostId = 'ecs.aliyuncs.com';
    const fail = (err: RpcError, extra?: Record<string, string>) =>
      sendJson(res, err.status, errorBody(err, requestId, hostId, product), requestId, extra);
    try {
      const bodyBytes = await readBody(req);
      const body = bodyBytes.toString('utf8');
      const method = (req.method ?? 'GET').toUpperCase();
      const rawUrl = req.url ?? '/';
      const q = rawUrl.indexOf('?');
      const rawQuery = q < 0 ? '' : rawUrl.slice(q + 1);
      // Query and form body are merged, as the gateway does (pop-core's lower-case 'post' quirk sends a POST with the
      // parameters in the URL and signs it with POST).
      const pairs = parseUrlEncoded(url.search.slice(1));
      const ctype = String(req.headers['content-type'] ?? '');
      if (body.length > 0) {
        if (!ctype.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
          throw Errors.invalidParameter('Content-Type', 'POST bodies must be application/x-www-form-urlencoded.');
        }
        pairs.push(...parseUrlEncoded(body));
      }
      const all: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [k, v] of pairs) all[k] = v;

      // A V3 request carries the signature in Authorization and names the API in headers; a V1 request carries
      // Action, Version and Signature as parameters (pop-core also sends x-acs-action, which is not authoritative).
      const v3 = req.headers.authorization !== undefined;
      const action = (v3 ? headerOf(req, 'x-acs-action') : all.Action) ?? '';
      stats.requests++;
      stats.byAction[action || '(none)'] = (stats.byAction[action || '(none)'] ?? 0) + 1;
      data.tick();

      const version = (v3 ? headerOf(req, 'x-acs-version') : (all.Version ?? headerOf(req, 'x-acs-version'))) ?? '';
      const def = PRODUCTS[version];
      if (def) product = def.product;
      else if (action in OOS_HANDLERS) product = 'Oos';
      const region = all.RegionId && KNOWN_REGION_IDS.includes(all.RegionId) ? `.${all.RegionId}` : '';
      hostId = `${product.toLowerCase()}${region}.aliyuncs.com`;

      if (faults.latency > 0) await sleep(faults.latency);
      const headerFault = String(req.headers['x-local-cloud-fault'] ?? '');
      const fault: { kind: FaultKind; delayMs: number; retryAfterMs?: number } | undefined = FAULT_KINDS.includes(headerFault as FaultKind)
        ? {
            kind: headerFault as FaultKind,
            delayMs: Number(req.headers['x-local-cloud-fault-delay-ms'] ?? DEFAULT_SLOW_MS) || DEFAULT_SLOW_MS,
          }
        : faults.take(action);
      if (fault) {
        if (await transportFault(fault, req, sleep)) return;
        switch (fault.kind) {
          case 'throttling':
            return fail(Errors.throttling(), fault.retryAfterMs === undefined ? undefined : { 'x-acs-retry-after': String(fault.retryAfterMs) });
          case 'internal-error':
            return fail(Errors.internalError());
          case 'service-unavailable':
            return fail(Errors.serviceUnavailable());
          case 'empty-5xx':
            return sendJson(res, 500, { RequestId: requestId }, requestId);
          case 'html-502':
            return send(res, 502, 'text/html', NGINX_502);
        }
      }

      if (method !== 'GET' && method !== 'POST') throw Errors.unsupportedMethod();
      if (!version) throw Errors.missingParameter(v3 ? 'x-acs-version' : 'Version');
      if (!def) throw Errors.noSuchVersion();
      if (!action) throw Errors.missingParameter(v3 ? 'x-acs-action' : 'Action');
      const handler = def.handlers[action];
      if (!handler) throw Errors.invalidAction();
      const at = now();
      const auth = { keys, now: at, skewMs, nonces };
      if (v3) {
        const bodySha256 = createHash('sha256').update(bodyBytes).digest('hex');
        authenticateV3({ method, rawPath: q < 0 ? rawUrl : rawUrl.slice(0, q), rawQuery, headers: req.headers, bodySha256 }, auth);
      } else {
        authenticate(method, all, auth);
      }
      if (all.Format !== undefined && all.Format.toUpperCase() !== 'JSON') {
        throw Errors.invalidParameter('Format', 'The local cloud answers JSON only.');
      }
      const result = await handler({ action, params: new Params(all), data, tokens, counts, now: at });
      // OSS output deliveries the answer reports as Finished are in OSS before it is sent.
      await data.settleDeliveries();
      send(res, 200, 'application/json;charset=utf-8', stringifyAnswer({ RequestId: requestId, ...result }), requestId);
    } catch (e) {
      if (e instanceof RpcError) return fail(e);
      if (e instanceof MalformedQueryError) return fail(Errors.incompleteSignature(e.message));
      if (e instanceof BodyTooLarge) return fail(new RpcError(413, 'RequestEntityTooLarge', 'The request body is too large.'));
      // A bug in the emulator: answer like the real service would, but keep the cause visible in the message.
      return fail(new RpcError(500, 'InternalError', `Emulator failure: ${(e as Error).message ?? String(e)}`));
    }
  }

  async function admin(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (!isLoopback(req.socket.remoteAddress)) {
      return sendJson(res, 403, { error: 'the admin API is only served on the loopback interface' });
    }
    try {
      const raw = (await readBody(req)).toString('utf8');
      const body = (raw ? JSON.parse(raw) : {}) as Record<string, unknown>;
      const route = `${req.method ?? 'GET'} ${url.pathname}`;
      switch (route) {
        case 'POST /__admin/faults':
          faults.inject(body as unknown as FaultSpec);
          return sendJson(res, 201, { pending: faults.pending() });
        case 'GET /__admin/faults':
          return sendJson(res, 200, { pending: faults.pending(), latencyMs: faults.latency });
        case 'DELETE /__admin/faults':
          faults.clear();
          return sendJson(res, 200, { pending: [] });
        case 'POST /__admin/latency':
          faults.setLatency(Number(body.ms));
          return sendJson(res, 200, { latencyMs: faults.latency });
        case 'GET /__admin/stats':
          return sendJson(res, 200, { requests: stats.requests, byAction: stats.byAction });
        case 'DELETE /__admin/stats':
          stats.reset();
          return sendJson(res, 200, { requests: 0, byAction: {} });
        case 'GET /__admin/demo':
          return sendJson(res, 200, data.demo);
        case 'POST /__admin/executions':
          return sendJson(res, 201, data.addExecution(body as never));
        case 'POST /__admin/invocations':
          return sendJson(res, 201, data.addInvocation(body as never));
        case 'POST /__admin/run-command':
          return sendJson(res, 201, data.simulateRunCommand(body as never));
        default:
          return sendJson(res, 404, { error: `no admin route ${route}` });
      }
    } catch (e) {
      return sendJson(res, 400, { error: (e as Error).message ?? String(e) });
    }
  }

  const listener = (req: IncomingMessage, res: ServerResponse): void => {
    const url = new URL(req.url ?? '/', 'http://local');
    let p: Promise<void>;
    if (url.pathname.startsWith('/__admin/')) p = admin(req, res, url);
    else if (url.pathname === '/') p = rpc(req, res, url);
    else {
      const requestId = newRequestId();
      sendJson(res, 404, errorBody(Errors.notFoundPath(), requestId, 'ecs.aliyuncs.com', 'Ecs'), requestId);
      return;
    }
    p.catch(() => {
      if (!res.headersSent) res.destroy();
    });
  };

  return Object.assign(listener, {
    data,
    faults,
    stats,
    dispose() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  });
}

/**
 * Starts the emulator on `host:port` with freshly seeded datasets. Close it with `close()` (also stops the dataset
 * timers and drops open keep-alive connections).
 */
export async function startRpcEmulator(opts: RpcEmulatorOptions = {}): Promise<RpcEmulator> {
  const now = opts.now ?? Date.now;
  const data = new Datasets({ seed: opts.seed ?? 1, now });
  const faults = new FaultInjector();
  const handler = createRpcHandler({ data, faults, keys: opts.keys, now, timestampSkewMs: opts.timestampSkewMs });
  const served = await listen(handler, opts);
  return {
    url: served.url,
    data,
    faults,
    stats: handler.stats,
    close: () => {
      handler.dispose();
      data.close();
      return served.close();
    },
  };
}

/**
 * A tiny HTTP server on 127.0.0.1 that answers from a queue of scripted responses and records every request, for
 * exercising the real pop-core client against faults (status codes, HTML 502, socket resets, slow answers).
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One scripted answer. `delayMs` waits before answering (for timeouts). */
export type ScriptedResponse =
  | { kind: 'json'; status?: number; body: unknown; delayMs?: number }
  | { kind: 'raw'; status: number; body: string; contentType?: string; delayMs?: number }
  | { kind: 'reset'; delayMs?: number }
  /** Announces the whole JSON body's Content-Length, sends its first `sendBytes`, then closes the socket or stalls. */
  | { kind: 'partial'; body: unknown; sendBytes: number; then: 'close' | 'stall'; delayMs?: number };

/** A recorded request; `params` is the decoded form body (or query string). */
export interface RecordedRequest {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  params: Record<string, string>;
  /** Epoch ms the request arrived. */
  at: number;
}

export interface ScriptedServer {
  /** `http://127.0.0.1:<port>`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** Appends answers to the queue. */
  enqueue(...responses: ScriptedResponse[]): void;
  /** Answers left in the queue. */
  pending(): number;
  /** Clears the queue and the recorded requests. */
  reset(): void;
  close(): Promise<void>;
}

/** `{ kind: 'json', status, body }` shorthand. */
export const json = (status: number, body: unknown, delayMs?: number): ScriptedResponse => ({ kind: 'json', status, body, delayMs });
/** An Alibaba Cloud error body. */
export const apiError = (status: number, code: string, message: string, requestId = `R-${code}`): ScriptedResponse =>
  json(status, { RequestId: requestId, HostId: 'oos.cn-hangzhou.aliyuncs.com', Code: code, Message: message, Recommend: `https://api.aliyun.com/troubleshoot?q=${code}` });
/** A gateway's HTML error page. */
export const html502: ScriptedResponse = { kind: 'raw', status: 502, body: '<html><body><h1>502 Bad Gateway</h1></body></html>', contentType: 'text/html' };
/** Drops the connection without answering. */
export const reset: ScriptedResponse = { kind: 'reset' };

/** Starts a server on an ephemeral port of 127.0.0.1. When the queue is empty it answers 500 `ScriptExhausted`. */
export async function startScriptedServer(): Promise<ScriptedServer> {
  const queue: ScriptedResponse[] = [];
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const answer = (req: IncomingMessage, res: ServerResponse, r: ScriptedResponse) => {
    if (r.kind === 'reset') {
      req.socket.destroy();
      return;
    }
    if (r.kind === 'partial') {
      const whole = Buffer.from(JSON.stringify(r.body));
      res.writeHead(200, { 'content-type': 'application/json;charset=utf-8', 'content-length': whole.length });
      res.write(whole.subarray(0, r.sendBytes), () => {
        if (r.then === 'close') req.socket.destroy();
      });
      return;
    }
    const status = r.kind === 'json' ? (r.status ?? 200) : r.status;
    const text = r.kind === 'json' ? JSON.stringify(r.body) : r.body;
    const type = r.kind === 'json' ? 'application/json;charset=utf-8' : (r.contentType ?? 'text/plain');
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
    res.end(text);
  };

  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const query = req.url?.includes('?') ? req.url.slice(req.url.indexOf('?') + 1) : '';
      requests.push({
        method: req.method ?? '',
        url: req.url ?? '',
        headers: { ...req.headers },
        body,
        params: Object.fromEntries(new URLSearchParams(body || query)),
        at: Date.now(),
      });
      const next = queue.shift() ?? { kind: 'json', status: 500, body: { RequestId: 'R-exhausted', Code: 'ScriptExhausted', Message: 'no scripted response left' } };
      if (next.delayMs) {
        const t = setTimeout(() => {
          timers.delete(t);
          if (!res.destroyed && !req.socket.destroyed) answer(req, res, next);
        }, next.delayMs);
        timers.add(t);
      } else {
        answer(req, res, next);
      }
    });
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    enqueue: (...r) => void queue.push(...r),
    pending: () => queue.length,
    reset: () => {
      queue.length = 0;
      requests.length = 0;
    },
    close: async () => {
      for (const t of timers) clearTimeout(t);
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

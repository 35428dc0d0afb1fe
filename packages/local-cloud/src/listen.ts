/**
 * Serving a request listener on the loopback: every service of the local cloud (RPC, OSS, FC, the FC host) listens
 * and closes the same way.
 */
import { createServer, type RequestListener, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Listening {
  server: Server;
  /** `http://127.0.0.1:PORT` (IPv6 hosts bracketed). */
  url: string;
  /** Stops accepting, drops keep-alive connections and resolves once the server is closed. */
  close(): Promise<void>;
}

export async function listen(handler: RequestListener, options: { host?: string | undefined; port?: number | undefined } = {}): Promise<Listening> {
  const server = createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return {
    server,
    url: `http://${host}:${addr.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

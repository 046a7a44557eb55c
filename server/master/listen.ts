/** Binding a master's HTTP server: requests to the handler, upgrades to the gateway. */
import type { RequestListener } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';
import type { MasterOptions } from './config.js';
import type { Gateway } from './gateway.js';
import {
  checkUpgrade,
  refusalResponse,
  type OriginPolicy,
} from './origin-check.js';
import { createListeningServer, type MasterServer } from './tls.js';

/** How long an idle kept-alive connection stays open: well past any client's own. */
export const KEEP_ALIVE_MS = 30_000;

/** The HTTP server: requests to `handler`, WebSocket upgrades to the gateway. */
export function createMasterServer(
  handler: RequestListener,
  gateway: Gateway,
  logger: Logger,
  options: MasterOptions & { originPolicy: OriginPolicy },
): MasterServer {
  const server = createListeningServer(
    { tls: options.tls, trustProxy: options.trustProxy, logger },
    handler,
  );
  server.maxConnections = options.maxConnections ?? 19_000;
  // A client that drips its headers (slowloris) or its body is cut off in bounded time.
  server.headersTimeout = options.headersTimeoutMs ?? 10_000;
  server.requestTimeout = options.requestTimeoutMs ?? 120_000;
  // An idle kept-alive connection is closed by the client first: Node's agent drops its
  // idle sockets after 5 s, which was also the server's default, so a request written
  // onto a reused socket could meet the master closing it (EPIPE, ECONNRESET).
  server.keepAliveTimeout = KEEP_ALIVE_MS;
  server.on('upgrade', (req, socket, head) => {
    // Browsers of other sites are refused before the gateway sees the socket.
    const refused = checkUpgrade(req, options.originPolicy);
    if (!refused) return gateway.handleUpgrade(req, socket, head);
    socket.on('error', () => socket.destroy());
    socket.end(refusalResponse(refused));
  });
  server.on('clientError', (_error, socket) => {
    if (socket.writable)
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
    else socket.destroy();
  });
  server.on('error', (error) => logger.error({ err: error }, 'server error'));
  // Out of descriptors: accept() fails; log and keep serving those already connected.
  server.on('drop', () =>
    logger.warn('connection dropped: maxConnections reached'),
  );
  return server;
}

export async function bind(
  server: MasterServer,
  host: string,
  port = 8080,
  scheme: 'http' | 'https' = 'http',
): Promise<{ url: string; port: number }> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const bound = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const shown = shownHost.includes(':') ? `[${shownHost}]` : shownHost;
  return { url: `${scheme}://${shown}:${bound}`, port: bound };
}

/**
 * Composition root of the master: config -> store -> runtime (scheduler) -> http -> ws
 * -> listen. Nothing else lives here.
 */
import { existsSync, mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../log.js';
import { resolveToken, type MasterOptions } from './config.js';
import { DashboardFeed } from './dashboard-feed.js';
import { Gateway } from './gateway.js';
import { createHttpHandler } from './http.js';
import { JobsService } from './jobs-service.js';
import { startEventLoopMonitor } from './metrics.js';
import { Runtime } from './runtime.js';
import { createListeningServer, type MasterServer } from './tls.js';
import { MemoryStore } from './store/memory-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';

export type { MasterOptions };

export interface RunningMaster {
  url: string;
  port: number;
  token: string;
  runtime: Runtime;
  gateway: Gateway;
  server: MasterServer;
  logger: Logger;
  /** Graceful: stop accepting, close sockets with 1001, commit, close the store. */
  close(): Promise<void>;
}

function defaultWebRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'web'),
    path.resolve(here, '../../dist/web'),
  ];
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[0] as string);
}

export async function startMaster(
  options: MasterOptions = {},
): Promise<RunningMaster> {
  const logger = createLogger('master', options.logLevel);
  startEventLoopMonitor();
  const dataDir = path.resolve(options.dataDir ?? './colony-data');
  mkdirSync(dataDir, { recursive: true });
  const token = resolveToken(options.token, dataDir);
  const store: Store =
    options.store === 'memory'
      ? new MemoryStore()
      : new SqliteStore({ dir: dataDir, fsync: options.fsync ?? 'normal' });

  const runtime = new Runtime({
    store,
    clock: { now: () => Date.now() },
    logger,
    scheduler: {
      leaseGraceMs: options.leaseGraceMs ?? 2_000,
      // Fencing tokens must not repeat across restarts: start past any earlier run's.
      firstLease: Date.now() * 1_000,
    },
  });
  // Rebuild from the store: leased tasks were not recorded, so they are queued again.
  const restored = store.loadJobs();
  for (const job of restored) {
    runtime.dispatch({
      type: 'job-restored',
      job: job.spec,
      state: job.state,
      finishedAt: job.finishedAt,
      marks: job.marks,
      at: runtime.now(),
    });
  }
  if (restored.length > 0)
    logger.info({ jobs: restored.length }, 'state restored');

  const jobs = new JobsService(
    runtime,
    restored.map((job) => job.spec.id),
  );
  const feed = new DashboardFeed(runtime, {
    publishMs: options.publishMs ?? 250,
  });
  const maxPayloadBytes = options.maxPayloadBytes ?? 64 * 1024 * 1024;
  const gateway = new Gateway({
    runtime,
    feed,
    logger,
    heartbeatMs: options.heartbeatMs ?? 10_000,
    maxPayloadBytes,
    maxBufferedBytes:
      options.maxBufferedBytes ?? Math.max(maxPayloadBytes, 64 * 1024 * 1024),
    handshakeMs: 10_000,
  });
  const handler = createHttpHandler({
    runtime,
    jobs,
    feed,
    gateway: () => gateway,
    logger,
    token,
    webRoot: options.webRoot ?? defaultWebRoot(),
    maxBodyBytes: options.maxBodyBytes ?? 64 * 1024 * 1024,
  });

  const server = createListeningServer(
    {
      tls: options.tls,
      trustProxy: options.trustProxy,
      logger,
    },
    handler,
  );
  server.maxConnections = options.maxConnections ?? 19_000;
  server.on('upgrade', (req, socket, head) =>
    gateway.handleUpgrade(req, socket, head),
  );
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

  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const shownHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  const url = `${options.tls ? 'https' : 'http'}://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${port}`;
  logger.info(
    { url, dataDir, store: options.store ?? 'sqlite' },
    'master listening',
  );

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      gateway.shutdown();
      server.close();
      const grace = setTimeout(() => gateway.terminateAll(), 1_000);
      grace.unref();
      runtime.close();
      feed.close();
      try {
        await store.commit();
      } finally {
        store.close();
      }
      server.closeAllConnections();
      logger.info('master stopped');
      logger.flush();
    })();
    return closing;
  };

  return { url, port, token, runtime, gateway, server, logger, close };
}

/**
 * Composition root of the master: config -> store -> runtime (scheduler) -> feed ->
 * gateway -> http. `buildMaster` wires the parts without a port; `listen` binds them.
 * Nothing else lives here.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLogger, type Logger } from '../log.js';
import type { MasterOptions } from './config.js';
import {
  prepareDataDir,
  prepareDatabaseFiles,
  resolveToken,
  type Warn,
} from './data-dir.js';
import { DashboardFeed } from './dashboard-feed.js';
import { Gateway } from './gateway.js';
import { ADDRESS_LIMIT_DEFAULTS } from './gateway-limits.js';
import { createHttpHandler } from './http.js';
import { JobsService } from './jobs-service.js';
import type { OriginPolicy } from './origin-check.js';
import { startRetention } from './purger.js';
import { Runtime } from './runtime.js';
import { bind, createMasterServer } from './listen.js';
import type { MasterServer } from './tls.js';
import { warmUp } from './warm-up.js';
import { rehearseJobs } from './warm-up-job.js';
import { MemoryStore } from './store/memory-store.js';
import { SqliteStore } from './store/sqlite-store.js';
import type { Store } from './store/store.js';
import type { Master, RunningMaster } from './master-types.js';

export type { Master, MasterOptions, RunningMaster };

function defaultWebRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'web'),
    path.resolve(here, '../../dist/web'),
  ];
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[0] as string);
}

/** A `postgres://` store: cluster mode (server/master/cluster). */
export function isClusterStore(store: string | undefined): boolean {
  return store !== undefined && /^postgres(ql)?:\/\//.test(store);
}

/** Builds a master and binds it: what `colony master` runs. */
export async function startMaster(
  options: MasterOptions = {},
): Promise<RunningMaster> {
  if (isClusterStore(options.store)) {
    const { startClusterMaster } = await import('./cluster/cluster-master.js');
    return startClusterMaster(options);
  }
  const master = buildMaster(options);
  // The first job should not pay for cold paths (esbuild's start above all).
  warmUp(master.logger);
  try {
    const { url, port } = await master.listen();
    // Whole jobs through a throwaway master, once this one is up (warm-up-job.ts).
    const rehearsal = rehearseJobs(buildMaster, options, (error) =>
      master.logger.warn({ err: error }, 'warm-up: job rehearsal failed'),
    );
    const close = async () => {
      rehearsal.stop();
      await rehearsal.done;
      await master.close();
    };
    return { ...master, url, port, close };
  } catch (error) {
    await master.close();
    throw error;
  }
}

/** Wires store, runtime, feed, gateway and HTTP handler; binds no port. */
export function buildMaster(options: MasterOptions = {}): Master {
  const logger = createLogger('master', options.logLevel);
  const dataDir = path.resolve(options.dataDir ?? './colony-data');
  if (isClusterStore(options.store))
    throw new Error('a postgres:// store is started with startMaster');
  const warn: Warn = (message, detail) => logger.warn(detail, message);
  prepareDataDir(dataDir, warn);
  const token = resolveToken(options.token, dataDir, warn);
  if (options.store !== 'memory') prepareDatabaseFiles(dataDir);
  const store: Store =
    options.store === 'memory'
      ? new MemoryStore()
      : new SqliteStore({
          dir: dataDir,
          fsync: options.fsync ?? 'normal',
          checkpoints: { logger },
          commitFailed: (err, failures) =>
            logger.error(
              { err, failures },
              'store commit failed; its results are kept and written on a retry',
            ),
        });
  const originPolicy: OriginPolicy = {
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHosts: options.allowedHosts,
  };
  const runtime = new Runtime({
    store,
    clock: { now: () => Date.now() },
    logger,
    scheduler: {
      leaseGraceMs: options.leaseGraceMs ?? 2_000,
      // Fencing tokens must not repeat across restarts: start past any earlier run's.
      firstLease: Date.now() * 1_000,
      distinctAddresses: options.distinctAddresses ?? true,
    },
  });
  const jobs = new JobsService(runtime, restore(runtime, store, logger));
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
    handshakeMs: options.handshakeMs ?? 10_000,
    addressLimits: {
      maxConnectionsPerAddress:
        options.maxConnectionsPerAddress ??
        ADDRESS_LIMIT_DEFAULTS.maxConnectionsPerAddress,
      maxHandshakesPerAddress:
        options.maxHandshakesPerAddress ??
        ADDRESS_LIMIT_DEFAULTS.maxHandshakesPerAddress,
    },
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
    serveSourceMaps: options.serveSourceMaps ?? false,
    originPolicy,
  });
  const server = createMasterServer(handler, gateway, logger, {
    ...options,
    originPolicy,
  });

  const listen: Master['listen'] = async (at = {}) => {
    const host = at.host ?? options.host ?? '127.0.0.1';
    const { port, url } = await bind(
      server,
      host,
      at.port ?? options.port,
      options.tls ? 'https' : 'http',
    );
    logger.info(
      { url, dataDir, store: options.store ?? 'sqlite' },
      'master listening',
    );
    return { url, port };
  };

  const stopRetention =
    options.retainMs === undefined
      ? () => undefined
      : startRetention({ runtime, jobs, retainMs: options.retainMs, logger });
  const closeParts = graceful({
    gateway,
    server,
    runtime,
    feed,
    store,
    logger,
  });
  const close = () => {
    stopRetention();
    return closeParts();
  };
  return {
    token,
    runtime,
    jobs,
    feed,
    gateway,
    handler,
    server,
    logger,
    listen,
    close,
  };
}

/** Stop accepting, close sockets with 1001, commit, close the store; once. */
function graceful(parts: {
  gateway: Gateway;
  server: MasterServer;
  runtime: Runtime;
  feed: DashboardFeed;
  store: Store;
  logger: Logger;
}): () => Promise<void> {
  const { gateway, server, runtime, feed, store, logger } = parts;
  let closing: Promise<void> | null = null;
  return () => {
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
}

/**
 * Rebuilds the scheduler from the store: leased tasks were not recorded, so they are
 * queued again. Returns the ids of the restored jobs.
 */
function restore(runtime: Runtime, store: Store, logger: Logger): string[] {
  const restored = store.loadJobs();
  for (const job of restored) {
    runtime.dispatch({
      type: 'job-restored',
      job: job.spec,
      state: job.state,
      finishedAt: job.finishedAt,
      marks: job.marks,
      checkpointed: job.checkpointed,
      at: runtime.now(),
    });
  }
  if (restored.length > 0)
    logger.info({ jobs: restored.length }, 'state restored');
  return restored.map((job) => job.spec.id);
}

/**
 * Composition root of a master in cluster mode (`--store postgres://...`): the shared
 * store, the runtime over claimed tasks (a synchronous face, so the single-master path
 * is untouched), the cluster node, the listener for hints, then the same feed, gateway
 * and HTTP handler as a single master, with the `/api` routes served from the store.
 */
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { AppError, ErrorCode } from '../../../shared/errors.js';
import { createLogger, type Logger } from '../../log.js';
import type { MasterOptions } from '../config.js';
import { DashboardFeed } from '../dashboard-feed.js';
import { Gateway } from '../gateway.js';
import { ADDRESS_LIMIT_DEFAULTS } from '../gateway-limits.js';
import { createHttpHandler } from '../http.js';
import { JobsService } from '../jobs-service.js';
import { bind, createMasterServer } from '../listen.js';
import type { RunningMaster } from '../master-types.js';
import type { OriginPolicy } from '../origin-check.js';
import { Runtime } from '../runtime.js';
import type { SchedulerEvent } from '../scheduler/types.js';
import { ClusterListener } from '../store/postgres/listener.js';
import { PgClusterStore } from '../store/postgres/pg-cluster-store.js';
import { ClaimedStore } from './claimed-store.js';
import { clusterApiRoutes } from './cluster-routes.js';
import { ClusterJobs } from './cluster-jobs.js';
import { ClusterNode } from './cluster-node.js';
import { startClusterRetention } from './cluster-retention.js';
import { RecordQueue } from './record-queue.js';
import { Fleet } from './fleet.js';
import { workersSummary } from './workers-summary.js';

/** How often the dashboard's view of the fleet is read from the store. */
const FLEET_REFRESH_MS = 1_000;
/** Masters shown: those heard from within the claim TTL. */
const FLEET_TTL_MS = 5_000;

/** Events after which the workers may want more tasks than are queued here. */
const DEMAND_EVENTS = new Set<SchedulerEvent['type']>([
  'credit-granted',
  'results-received',
  'worker-left',
  'tasks-lost',
  'job-completed',
  'job-cancelled',
]);

/** The runtime of a cluster master: every event that may raise demand asks for claims. */
class ClusterRuntime extends Runtime {
  node: ClusterNode | undefined;

  override dispatch(event: SchedulerEvent): void {
    super.dispatch(event);
    if (DEMAND_EVENTS.has(event.type)) this.node?.wantClaim();
  }
}

function defaultWebRoot(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'web'),
    path.resolve(here, '../../../dist/web'),
    path.resolve(here, '../../dist/web'),
  ];
  return candidates.find((dir) => existsSync(dir)) ?? (candidates[0] as string);
}

/** Masters of one cluster share the token: it is given, never generated per master. */
function clusterToken(options: MasterOptions): string {
  const token = options.token ?? process.env.COLONY_TOKEN;
  if (!token) {
    throw new AppError(
      ErrorCode.InvalidArgument,
      'several masters share one token: give --token or COLONY_TOKEN with --store postgres://...',
    );
  }
  return token;
}

export async function startClusterMaster(
  options: MasterOptions,
): Promise<RunningMaster> {
  const logger = createLogger('master', options.logLevel);
  const token = clusterToken(options);
  const url = options.store ?? '';
  const store = await PgClusterStore.open({
    url,
    onError: (err) => logger.warn({ err }, 'database connection lost'),
  });
  const master = `m-${randomBytes(6).toString('hex')}`;
  const parts = wire(options, { store, logger, token, master });
  try {
    const { url: shown, port } = await bind(
      parts.server,
      options.host ?? '127.0.0.1',
      options.port,
      options.tls ? 'https' : 'http',
    );
    await parts.node.start(shown);
    await parts.listener.start().catch((err: unknown) => {
      // Hints are only a speed-up: the poll and reconnects cover a late listener.
      logger.warn({ err }, 'LISTEN failed; polling until it reconnects');
    });
    logger.info({ url: shown, master, store: 'postgres' }, 'master listening');
    return {
      ...parts.master,
      url: shown,
      port,
      listen: () => Promise.resolve({ url: shown, port }),
    };
  } catch (error) {
    await parts.master.close();
    throw error;
  }
}

function wire(
  options: MasterOptions,
  base: {
    store: PgClusterStore;
    logger: Logger;
    token: string;
    master: string;
  },
) {
  const { store, logger, token, master } = base;
  const records = new RecordQueue({
    store,
    master,
    // The node is made below; no batch is written before it exists.
    onResult: (entries, result) => node.recorded(entries, result),
    onError: (err) => logger.error({ err }, 'record batch failed; retrying'),
  });
  const claimed = new ClaimedStore(records);
  const runtime = new ClusterRuntime({
    store: claimed,
    clock: { now: () => Date.now() },
    logger,
    scheduler: {
      leaseGraceMs: options.leaseGraceMs ?? 2_000,
      firstLease: Date.now() * 1_000,
      distinctAddresses: options.distinctAddresses ?? true,
      cluster: true,
    },
  });
  const fleet = new Fleet(store, runtime, master, FLEET_TTL_MS);
  const feed = new DashboardFeed(runtime, {
    publishMs: options.publishMs ?? 250,
    fleet,
  });
  // The dashboard's fleet view: jobs from the store, the other masters' workers.
  const fleetTimer = setInterval(() => {
    fleet
      .refresh()
      .catch((err: unknown) =>
        logger.warn({ err }, 'fleet view not refreshed'),
      );
  }, FLEET_REFRESH_MS);
  fleetTimer.unref();
  const node = new ClusterNode({
    store,
    claimed,
    runtime,
    master,
    logger,
    workersSummary: () => workersSummary(runtime, feed),
  });
  runtime.node = node;
  const listener = new ClusterListener({
    url: options.store ?? '',
    onHint: (hint) => node.hint(hint),
    onError: (err) => logger.warn({ err }, 'listener connection lost'),
  });
  const jobs = new ClusterJobs(store, runtime, () => node.wantClaim());
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
  const originPolicy: OriginPolicy = {
    allowedOrigins: options.allowedOrigins ?? [],
    allowedHosts: options.allowedHosts,
  };
  const maxBodyBytes = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const handler = createHttpHandler({
    runtime,
    // The single-master service is not used: the cluster routes replace /api.
    jobs: new JobsService(runtime, []),
    feed,
    gateway: () => gateway,
    logger,
    token,
    webRoot: options.webRoot ?? defaultWebRoot(),
    maxBodyBytes,
    serveSourceMaps: options.serveSourceMaps ?? false,
    originPolicy,
    loadModule: (hash) => store.getModule(hash),
    apiRoutes: clusterApiRoutes({
      runtime,
      jobs,
      store,
      feed,
      gateway: () => gateway,
      token,
      maxBodyBytes,
    }),
  });
  const server = createMasterServer(handler, gateway, logger, {
    ...options,
    originPolicy,
  });
  const stopRetention =
    options.retainMs === undefined
      ? () => undefined
      : startClusterRetention({
          store,
          jobs,
          retainMs: options.retainMs,
          logger,
        });
  let closing: Promise<void> | null = null;
  const close = () => {
    closing ??= (async () => {
      stopRetention();
      gateway.shutdown();
      server.close();
      const grace = setTimeout(() => gateway.terminateAll(), 1_000);
      grace.unref();
      clearInterval(fleetTimer);
      runtime.close();
      feed.close();
      try {
        await records.commit().catch(() => undefined);
        await node.stop();
      } catch (err) {
        logger.error({ err }, 'clean stop failed; claims go after the TTL');
      } finally {
        claimed.close();
        await listener.close();
        await store.close();
      }
      server.closeAllConnections();
      logger.info('master stopped');
      logger.flush();
    })();
    return closing;
  };
  return {
    node,
    listener,
    server,
    master: {
      token,
      runtime,
      jobs: new JobsService(runtime, []),
      feed,
      gateway,
      handler,
      server,
      logger,
      listen: () => Promise.reject(new Error('already listening')),
      close,
    },
  };
}

/** What a built master is made of, single or in a cluster (main.ts, cluster/). */
import type { RequestListener } from 'node:http';
import type { Logger } from '../log.js';
import type { DashboardFeed } from './dashboard-feed.js';
import type { Gateway } from './gateway.js';
import type { JobsService } from './jobs-service.js';
import type { Runtime } from './runtime.js';
import type { MasterServer } from './tls.js';

/** Every part of a master, wired, with its HTTP server not yet listening. */
export interface Master {
  token: string;
  runtime: Runtime;
  jobs: JobsService;
  feed: DashboardFeed;
  gateway: Gateway;
  /** The HTTP API, dashboard and /metrics as one request handler. */
  handler: RequestListener;
  /** Serves `handler` and WebSocket upgrades once `listen` is called. */
  server: MasterServer;
  logger: Logger;
  /** Binds the server (by default to the options' host and port). */
  listen(at?: {
    host?: string;
    port?: number;
  }): Promise<{ url: string; port: number }>;
  /** Graceful: stop accepting, close sockets with 1001, commit, close the store. */
  close(): Promise<void>;
}

export interface RunningMaster extends Master {
  url: string;
  port: number;
}

/** What the HTTP routes are built from (see createHttpHandler in ../http.ts). */
import type { Logger } from '../../log.js';
import type { DashboardFeed } from '../dashboard-feed.js';
import type { Gateway } from '../gateway.js';
import type { JobsService } from '../jobs-service.js';
import type { OriginPolicy } from '../origin-check.js';
import type { Runtime } from '../runtime.js';
import type { Route } from './router.js';

export interface HttpOptions {
  runtime: Runtime;
  jobs: JobsService;
  feed: DashboardFeed;
  gateway: () => Gateway;
  logger: Logger;
  token: string;
  /** Built pages (dist/web). */
  webRoot: string;
  /** Largest accepted request body. @defaultValue 64 MiB */
  maxBodyBytes: number;
  /** Serve the pages' `.map` files (a 404 otherwise). @defaultValue false */
  serveSourceMaps: boolean;
  /** `--allowed-hosts` (and origins, for the upgrade check). */
  originPolicy: OriginPolicy;
  /** Modules the runtime's store does not hold (cluster mode: the shared store). */
  loadModule?: (hash: string) => Promise<string | undefined>;
  /** The `/api` routes, when not the single master's (cluster mode). */
  apiRoutes?: Route[];
}

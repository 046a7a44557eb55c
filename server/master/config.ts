/** The master's settings (the token's origin and the data dir: data-dir.ts). */
import type { TrustedProxies } from './client-address.js';
import type { TlsFiles } from './tls.js';

export interface MasterOptions {
  /** @defaultValue '127.0.0.1' */
  host?: string;
  /** 0 picks a free port. @defaultValue 8080 */
  port?: number;
  /** @defaultValue './colony-data' */
  dataDir?: string;
  /** Else COLONY_TOKEN, else kept in `<dataDir>/token` (generated on first start). */
  token?: string;
  /** Or `postgres://USER@HOST:PORT/DB`: several masters on one database. @defaultValue 'sqlite' */
  store?: 'sqlite' | 'memory' | (string & {});
  /** 'full' also survives power loss, at a cost. @defaultValue 'normal' */
  fsync?: 'normal' | 'full';
  /** @defaultValue 10 000 */
  heartbeatMs?: number;
  /** @defaultValue 64 MiB */
  maxPayloadBytes?: number;
  /** @defaultValue 64 MiB */
  maxBodyBytes?: number;
  /** Unsent bytes a socket may hold before it is dropped as a slow consumer. @defaultValue max(maxPayloadBytes, 64 MiB) */
  maxBufferedBytes?: number;
  /** Dashboard delta cadence. @defaultValue 250 */
  publishMs?: number;
  /** Extra lease time before the master re-dispatches. @defaultValue 2 000 */
  leaseGraceMs?: number;
  /** Open sockets (HTTP + WebSocket) beyond which new ones are refused. @defaultValue 19 000 */
  maxConnections?: number;
  /** Time a new WebSocket has to send `hello` or `watch`. @defaultValue 10 000 */
  handshakeMs?: number;
  /** Open WebSocket connections from one client address. @defaultValue 256 */
  maxConnectionsPerAddress?: number;
  /** Connections from one address still before `hello`/`watch`. @defaultValue 32 */
  maxHandshakesPerAddress?: number;
  /** Time to receive a request's headers (slowloris). @defaultValue 10 000 */
  headersTimeoutMs?: number;
  /** Time to receive a whole request, body included. @defaultValue 120 000 */
  requestTimeoutMs?: number;
  /** Built pages. @defaultValue dist/web */
  webRoot?: string;
  /** Serve HTTPS and WSS with these PEM files (re-read on SIGHUP). @defaultValue plain HTTP */
  tls?: TlsFiles | undefined;
  /** Proxies whose `X-Forwarded-For` names the client. @defaultValue none */
  trustProxy?: TrustedProxies | undefined;
  /** Origins besides the master's own whose pages may open `/ws`. @defaultValue none */
  allowedOrigins?: readonly string[] | undefined;
  /** The only `Host` values served (against DNS rebinding). @defaultValue any */
  allowedHosts?: readonly string[] | undefined;
  /** Serve the pages' source maps. @defaultValue false */
  serveSourceMaps?: boolean;
  /** Ended jobs older than this are purged (`--retain`). @defaultValue kept forever */
  retainMs?: number | undefined;
  /**
   * Replicas of a task need distinct network addresses as well as distinct volunteers.
   * Off for a lab behind one NAT (or tests on loopback). @defaultValue true
   */
  distinctAddresses?: boolean;
  /** pino level. @defaultValue COLONY_LOG_LEVEL or 'info' */
  logLevel?: string;
}

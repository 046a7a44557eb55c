/** The master's settings and the token's origin (flag, environment, or the data dir). */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
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
  /** Built pages. @defaultValue dist/web */
  webRoot?: string;
  /** Serve HTTPS and WSS with these PEM files (re-read on SIGHUP). @defaultValue plain HTTP */
  tls?: TlsFiles | undefined;
  /** Proxies whose `X-Forwarded-For` names the client. @defaultValue none */
  trustProxy?: TrustedProxies | undefined;
  /** pino level. @defaultValue COLONY_LOG_LEVEL or 'info' */
  logLevel?: string;
}

/** Resolves the token and persists a generated one with owner-only permissions. */
export function resolveToken(
  explicit: string | undefined,
  dataDir: string,
): string {
  const given = explicit ?? process.env.COLONY_TOKEN;
  if (given) return given;
  const file = path.join(dataDir, 'token');
  if (existsSync(file)) {
    const kept = readFileSync(file, 'utf8').trim();
    if (kept) return kept;
  }
  mkdirSync(dataDir, { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600 });
  return token;
}

/**
 * Who may talk to the master from a browser. A WebSocket upgrade that carries an
 * `Origin` (browsers always send one; Node workers send none) is accepted only from the
 * master's own origin (the one in the request's `Host`) or one of `--allowed-origins`:
 * otherwise any page a visitor opens could run a worker, or read the dashboard feed,
 * from their browser. With `--allowed-hosts`, every request (HTTP and upgrade) must
 * name one of those hosts in `Host`, which defeats DNS rebinding (a hostile name that
 * resolves to the master's address carries its own name in `Host`).
 */
import type { IncomingMessage } from 'node:http';
import { AppError, ErrorCode } from '../../shared/errors.js';
import { statusOf } from './http-util.js';

export interface OriginPolicy {
  /** Origins besides the master's own, normalised (`https://example.org`). @defaultValue none */
  allowedOrigins: readonly string[];
  /** If set, the only accepted `Host` values (lower-case, port optional). @defaultValue any */
  allowedHosts?: readonly string[] | undefined;
}

/** Undefined if the request may pass, else the error that refuses it. */
export type CheckResult = AppError | undefined;

const OK: CheckResult = undefined;

/** `scheme://host[:port]` of a URL, default ports dropped; undefined if it is not one. */
export function normaliseOrigin(text: string): string | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
    return url.origin;
  } catch {
    return undefined;
  }
}

/** `host[:port]` lower-case, default ports (80, 443) dropped. */
function normaliseHost(host: string): string {
  return host
    .trim()
    .toLowerCase()
    .replace(/:(80|443)$/, '');
}

/** The `Host` check of `--allowed-hosts`, for HTTP requests and upgrades alike. */
export function checkHost(
  req: IncomingMessage,
  policy: OriginPolicy,
): CheckResult {
  const { allowedHosts } = policy;
  if (!allowedHosts) return OK;
  const host = normaliseHost(req.headers.host ?? '');
  const hostname = host.replace(/:\d+$/, '');
  const listed = allowedHosts.some(
    (allowed) => allowed === host || allowed === hostname,
  );
  if (listed) return OK;
  return new AppError(
    ErrorCode.MisdirectedRequest,
    `this master does not serve the host ${JSON.stringify(host.slice(0, 200))} (see --allowed-hosts)`,
  );
}

/** The check of a WebSocket upgrade: its `Host` (if limited), then its `Origin`. */
export function checkUpgrade(
  req: IncomingMessage,
  policy: OriginPolicy,
): CheckResult {
  const refused = checkHost(req, policy);
  if (refused) return refused;
  const origin = req.headers.origin;
  // Node workers and other non-browser clients send no Origin: nothing to protect.
  if (origin === undefined) return OK;
  const given = normaliseOrigin(origin);
  const own = normaliseHost(req.headers.host ?? '');
  if (given !== undefined) {
    // The master's own origin, by host: behind a TLS proxy the scheme differs.
    if (normaliseHost(new URL(given).host) === own) return OK;
    if (policy.allowedOrigins.includes(given)) return OK;
  }
  return new AppError(
    ErrorCode.Forbidden,
    `WebSocket from origin ${JSON.stringify(origin.slice(0, 200))} refused: only pages of this master or of --allowed-origins may connect`,
  );
}

/** Parses `--allowed-origins` (comma-separated origins); throws on one that is not. */
export function parseAllowedOrigins(list: string): string[] {
  return splitList(list).map((item) => {
    const origin = normaliseOrigin(item);
    if (origin === undefined || origin !== item.replace(/\/$/, ''))
      throw new AppError(
        ErrorCode.InvalidArgument,
        `--allowed-origins: ${JSON.stringify(item)} is not an origin like https://example.org or http://localhost:8080`,
      );
    return origin;
  });
}

/** Parses `--allowed-hosts` (comma-separated `host` or `host:port`). */
export function parseAllowedHosts(list: string): string[] {
  return splitList(list).map((item) => {
    if (!/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+)(:\d{1,5})?$/i.test(item))
      throw new AppError(
        ErrorCode.InvalidArgument,
        `--allowed-hosts: ${JSON.stringify(item)} is not a host like example.org or localhost:8080`,
      );
    return normaliseHost(item);
  });
}

function splitList(list: string): string[] {
  return list
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);
}

/** The raw HTTP reply that refuses an upgrade (the socket has no ServerResponse). */
export function refusalResponse(error: AppError): string {
  const status = statusOf(error.code);
  const reason = status === 403 ? 'Forbidden' : 'Misdirected Request';
  const body = JSON.stringify({
    error: { code: error.code, message: error.message },
  });
  return (
    `HTTP/1.1 ${status} ${reason}\r\n` +
    'Connection: close\r\n' +
    'Content-Type: application/json; charset=utf-8\r\n' +
    'X-Content-Type-Options: nosniff\r\n' +
    `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

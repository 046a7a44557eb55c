/**
 * Where a request really comes from. Behind a reverse proxy every TCP connection comes
 * from the proxy, so the client's address is read from `X-Forwarded-For`, but only when
 * the TCP peer is a proxy the operator named with `--trust-proxy`: anyone else could
 * write that header. Per-address limits and replica distinctness rely on this address.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import * as z from 'zod';
import { AppError, ErrorCode } from '../../shared/errors.js';

/** Hops of `X-Forwarded-For` looked at, from the right; a longer chain is cut there. */
const MAX_HOPS = 32;

/** The trusted proxies: single addresses and CIDR blocks, IPv4 and IPv6. */
export interface TrustedProxies {
  has(address: string): boolean;
  /** As given, for logs. */
  readonly spec: readonly string[];
}

const NOBODY: TrustedProxies = { has: () => false, spec: [] };

/** `::ffff:1.2.3.4` (an IPv4 peer on a dual-stack socket) is 1.2.3.4. */
export function normalizeAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return (mapped?.[1] ?? address).toLowerCase();
}

const Entry = z.string().refine(
  (entry) => {
    const [address, bits, extra] = entry.split('/');
    if (extra !== undefined || !address || net.isIP(address) === 0)
      return false;
    if (bits === undefined) return true;
    const max = net.isIPv4(address) ? 32 : 128;
    return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
  },
  {
    error: (issue) =>
      `--trust-proxy: ${JSON.stringify(issue.input)} is not an IP address or CIDR block (e.g. 127.0.0.1 or 10.0.0.0/8)`,
  },
);

/** Parses `ADDR[,ADDR...]` (each an IP or a CIDR block); throws a clear error on junk. */
export function parseTrustedProxies(spec: string): TrustedProxies {
  const entries = spec
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
  if (entries.length === 0)
    throw new AppError(
      ErrorCode.InvalidArgument,
      '--trust-proxy needs at least one address',
    );
  const list = new net.BlockList();
  for (const raw of entries) {
    const entry = Entry.safeParse(raw);
    if (!entry.success)
      throw new AppError(
        ErrorCode.InvalidArgument,
        entry.error.issues[0]?.message ?? 'bad --trust-proxy',
      );
    const [address, bits] = raw.split('/') as [string, string | undefined];
    const family = net.isIPv4(address) ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(normalizeAddress(address), family);
    else list.addSubnet(address, Number(bits), family);
  }
  return {
    has(address) {
      const plain = normalizeAddress(address);
      const family = net.isIPv4(plain)
        ? 'ipv4'
        : net.isIPv6(plain)
          ? 'ipv6'
          : null;
      return family !== null && list.check(plain, family);
    },
    spec: entries,
  };
}

/**
 * The client's address for a connection from `peer` carrying `forwarded` (the
 * `X-Forwarded-For` value): the peer itself unless it is trusted; else the right-most
 * hop that is not a trusted proxy (each proxy appends the address it saw, so the hops
 * right of it were written by proxies we trust; left of it, anyone). A malformed hop
 * ends the walk at the last address a trusted proxy vouched for.
 */
export function resolveClientAddress(
  peer: string,
  forwarded: string | string[] | undefined,
  trusted: TrustedProxies,
): string {
  let client = normalizeAddress(peer);
  if (!trusted.has(client) || forwarded === undefined) return client;
  const hops = (Array.isArray(forwarded) ? forwarded.join(',') : forwarded)
    .split(',')
    .map((hop) => hop.trim())
    .filter((hop) => hop !== '')
    .slice(-MAX_HOPS);
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i] as string);
    if (net.isIP(hop) === 0) return client;
    client = hop;
    if (!trusted.has(hop)) return client;
  }
  return client;
}

const addresses = new WeakMap<IncomingMessage, string>();

/** Resolves and remembers the client address of a request (the HTTP server calls it). */
export function noteClientAddress(
  req: IncomingMessage,
  trusted: TrustedProxies = NOBODY,
): string {
  const address = resolveClientAddress(
    req.socket.remoteAddress ?? '',
    req.headers['x-forwarded-for'],
    trusted,
  );
  addresses.set(req, address);
  return address;
}

/**
 * The client address of an HTTP request or WebSocket upgrade, `X-Forwarded-For` taken
 * into account only from trusted proxies. Empty when the socket is already gone.
 */
export function clientAddress(req: IncomingMessage): string {
  return addresses.get(req) ?? noteClientAddress(req);
}

/**
 * What a stranger's socket may cost before it has proved anything: a small frame size
 * until `hello`, a cap on open connections and on pending handshakes per client address.
 * A socket that completes `hello` as a worker gets the full frame size; a dashboard
 * never does (it only ever sends `watch`).
 */
import type { WebSocket } from 'ws';
import { ErrorCode } from '../../shared/errors.js';

/** Largest frame a socket may send before its handshake, and a dashboard ever. */
export const HANDSHAKE_MAX_PAYLOAD = 64 * 1024;

/** Defaults of the per-address caps (flags of `colony master`). */
export const ADDRESS_LIMIT_DEFAULTS = {
  /** Open WebSocket connections from one client address. */
  maxConnectionsPerAddress: 256,
  /** Of those, connections that have not yet sent `hello` or `watch`. */
  maxHandshakesPerAddress: 32,
} as const;

export interface AddressLimitOptions {
  maxConnectionsPerAddress: number;
  maxHandshakesPerAddress: number;
}

/** One counted connection; releasing it twice is harmless. */
export interface AddressTicket {
  readonly address: string;
  pending: boolean;
  released: boolean;
}

interface Count {
  open: number;
  pending: number;
}

/** Counts connections and pending handshakes per client address. */
export class AddressLimits {
  readonly #options: AddressLimitOptions;
  readonly #counts = new Map<string, Count>();

  constructor(options: AddressLimitOptions) {
    this.#options = options;
  }

  /** Counts a new connection, or says which cap it would break. */
  open(address: string): AddressTicket | 'connections' | 'handshakes' {
    const count = this.#counts.get(address) ?? { open: 0, pending: 0 };
    if (count.open >= this.#options.maxConnectionsPerAddress)
      return 'connections';
    if (count.pending >= this.#options.maxHandshakesPerAddress)
      return 'handshakes';
    count.open++;
    count.pending++;
    this.#counts.set(address, count);
    return { address, pending: true, released: false };
  }

  /** The connection completed its handshake. */
  admitted(ticket: AddressTicket): void {
    if (!ticket.pending || ticket.released) return;
    ticket.pending = false;
    const count = this.#counts.get(ticket.address);
    if (count) count.pending--;
  }

  /** The connection is gone. */
  release(ticket: AddressTicket): void {
    if (ticket.released) return;
    ticket.released = true;
    const count = this.#counts.get(ticket.address);
    if (!count) return;
    count.open--;
    if (ticket.pending) count.pending--;
    ticket.pending = false;
    if (count.open <= 0) this.#counts.delete(ticket.address);
  }

  /** Open connections from `address` (for tests and metrics). */
  openFrom(address: string): number {
    return this.#counts.get(address)?.open ?? 0;
  }
}

interface ReceiverInternals {
  _receiver?: { _maxPayload?: unknown } | null;
}

/**
 * Raises the largest frame one socket may send. `ws` has one `maxPayload` per server;
 * the per-socket limit is its receiver's private `_maxPayload` (ws 8). Throws if that
 * field is gone, so that a `ws` upgrade that moves it fails loudly (a test pins it)
 * instead of silently leaving workers at the handshake limit.
 */
export function raiseMaxPayload(socket: WebSocket, bytes: number): void {
  const receiver = (socket as unknown as ReceiverInternals)._receiver;
  if (!receiver || typeof receiver._maxPayload !== 'number')
    throw new Error('ws internals changed: cannot raise maxPayload per socket');
  receiver._maxPayload = bytes;
}

/** The HTTP answer to an upgrade refused by a per-address cap. */
export function tooManyResponse(cap: 'connections' | 'handshakes'): string {
  const body = JSON.stringify({
    error: {
      code: ErrorCode.TooManyRequests,
      message:
        cap === 'connections'
          ? 'too many connections from this address'
          : 'too many handshakes in progress from this address',
    },
  });
  return [
    'HTTP/1.1 429 Too Many Requests',
    'Connection: close',
    'Retry-After: 5',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    '',
    body,
  ].join('\r\n');
}

/** A hand-driven WebSocket peer for protocol tests: send anything, await replies or the close. */
import WebSocket from 'ws';
import { onTestFinished } from 'vitest';
import {
  PROTOCOL_VERSION,
  Tasks,
  type TaskFailure,
} from '../../shared/protocol.js';
import { newKeys, proof, type WireKeys } from './wire.js';
import type { Unbranded } from './ids.js';

export interface RawPeer {
  socket: WebSocket;
  /**
   * Sends a frame. A text `hello` of the current protocol without `volunteer` gets this
   * peer's proof for the master's challenge, as every worker signs it; use
   * `socket.send` to send one unsigned.
   */
  send(data: string | Buffer): void;
  /** The nonce of the master's `challenge` (its first frame, read by connectRaw). */
  nonce: string;
  /** The next frame from the master, decoded as JSON. */
  next(): Promise<{ type: string; [key: string]: unknown }>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

export interface RawOptions {
  /** The volunteer's keys. @defaultValue a new volunteer */
  keys?: WireKeys;
  /** Local address to connect from (127.0.0.x: another network address). */
  localAddress?: string;
}

export async function connectRaw(
  url: string,
  options: RawOptions = {},
): Promise<RawPeer> {
  const keys = options.keys ?? newKeys();
  const socket = new WebSocket(
    `${url.replace(/^http/, 'ws')}/ws`,
    options.localAddress ? { localAddress: options.localAddress } : {},
  );
  socket.on('error', () => undefined);
  const queue: unknown[] = [];
  const waiters: ((value: unknown) => void)[] = [];
  socket.on('message', (data) => {
    const value: unknown = JSON.parse(data.toString());
    const waiter = waiters.shift();
    if (waiter) waiter(value);
    else queue.push(value);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    socket.on('close', (code, reason) =>
      resolve({ code, reason: reason.toString() }),
    ),
  );
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('error', reject);
  });
  onTestFinished(() => socket.terminate());
  const next = () =>
    new Promise<{ type: string; [key: string]: unknown }>((resolve) => {
      if (queue.length > 0) resolve(queue.shift() as never);
      else waiters.push(resolve as (value: unknown) => void);
    });
  const challenge = await next();
  if (challenge.type !== 'challenge')
    throw new Error(`expected a challenge first, got ${challenge.type}`);
  const nonce = challenge.nonce as string;
  const host = new URL(url).host;
  const signed = (data: string | Buffer): string | Buffer => {
    if (typeof data !== 'string' || !data.startsWith('{"type":"hello"'))
      return data;
    const m = JSON.parse(data) as Record<string, unknown>;
    if (m.protocol !== PROTOCOL_VERSION || 'volunteer' in m) return data;
    return JSON.stringify({ ...m, volunteer: proof(keys, host, nonce) });
  };
  return {
    socket,
    nonce,
    send: (data) => socket.send(signed(data)),
    next,
    closed,
  };
}

export const hello = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'hello',
    protocol: PROTOCOL_VERSION,
    kind: 'node',
    slots: 1,
    ...extra,
  });

/** A `results` frame (protocol 2): successes in columns, failures apart. */
export const results = (
  leases: number[],
  outputs: unknown[],
  extra: { failures?: Unbranded<TaskFailure>[]; credit?: number } = {},
) => JSON.stringify({ type: 'results', leases, outputs, ...extra });

/** Checks that a frame from the master is a valid `tasks` frame and returns it typed. */
export const asTasks = (message: unknown): Tasks => Tasks.parse(message);

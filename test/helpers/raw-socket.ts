/** A hand-driven WebSocket peer for protocol tests: send anything, await replies or the close. */
import WebSocket from 'ws';
import { onTestFinished } from 'vitest';
import { Tasks, type TaskFailure } from '../../shared/protocol.js';
import type { Unbranded } from './ids.js';

export interface RawPeer {
  socket: WebSocket;
  send(data: string | Buffer): void;
  /** The next frame from the master, decoded as JSON. */
  next(): Promise<{ type: string; [key: string]: unknown }>;
  /** Resolves with the close code and reason. */
  closed: Promise<{ code: number; reason: string }>;
}

export async function connectRaw(url: string): Promise<RawPeer> {
  const socket = new WebSocket(`${url.replace(/^http/, 'ws')}/ws`);
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
  return {
    socket,
    send: (data) => socket.send(data),
    next: () =>
      new Promise((resolve) => {
        if (queue.length > 0) resolve(queue.shift() as never);
        else waiters.push(resolve as (value: unknown) => void);
      }),
    closed,
  };
}

export const hello = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    type: 'hello',
    protocol: 2,
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

/**
 * Warming the worker's socket path. The rehearsal (warm-up-session.ts) stands in for
 * the master in-process, so the `ws` code a real session runs (parsing large text
 * frames, the client masking what it sends, bytes to string) would otherwise first run
 * in the first job, cold: measured, the masking alone was compiled four times over in a
 * first job. Here a loopback pair of sockets, opened as the worker opens its own,
 * trades `tasks` and `results` frames of a job's sizes. Nothing leaves the machine.
 */
import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { rehearsalFrame } from './warm-up-session.js';

/** Frames each way: enough for the compiler to optimise the per-frame code. */
const ROUNDS = 200;
/** Tasks per frame, as the master deals them to a worker at full speed. */
const FRAME_TASKS = 1_024;
/** Past this the warm-up is cut short: a slow machine must not keep sockets open. */
const MAX_MS = 5_000;

/** A `results` frame as the worker session writes it, for `count` tasks. */
function resultsFrame(firstLease: number, count: number): string {
  const leases: number[] = [];
  const outputs: number[] = [];
  const busyMs: number[] = [];
  for (let i = 0; i < count; i++) {
    leases.push(firstLease + i);
    outputs.push(i + 1);
    busyMs.push(0.002);
  }
  return JSON.stringify({
    type: 'results',
    leases,
    outputs,
    busyMs,
    credit: count,
  });
}

/**
 * Trades `rounds` frames each way over loopback; resolves with the frames answered once
 * both sockets are closed. Never rejects: a failure costs the first job speed only.
 */
export function warmSocket(rounds = ROUNDS): Promise<number> {
  return new Promise((resolve) => {
    let answered = 0;
    let client: WebSocket | null = null;
    let finished = false;
    const server = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      perMessageDeflate: false,
    });
    const finish = () => {
      if (finished) return;
      finished = true;
      clearTimeout(limit);
      client?.terminate();
      for (const peer of server.clients) peer.terminate();
      server.close(() => resolve(answered));
    };
    const limit = setTimeout(finish, MAX_MS);
    limit.unref();
    server.on('error', finish);
    server.on('connection', (peer) => {
      const firstLease = Date.now() * 1_000;
      // Numbers and records in turn, as the worker takes a different path for each.
      const frames = [false, true].map((records, k) =>
        rehearsalFrame(firstLease + k * FRAME_TASKS, 0, FRAME_TASKS, records),
      );
      let sent = 0;
      const next = () => peer.send(frames[sent++ % frames.length] as string);
      peer.on('error', finish);
      peer.on('message', () => {
        if (++answered >= rounds) finish();
        else next();
      });
      next();
    });
    server.on('listening', () => {
      const { port } = server.address() as AddressInfo;
      const answer = resultsFrame(Date.now() * 1_000, FRAME_TASKS);
      // The options of the worker's own socket (node-worker.ts).
      client = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
        perMessageDeflate: false,
        maxPayload: 256 * 1024 * 1024,
      });
      client.on('error', finish);
      client.on('message', (data: Buffer) => {
        // Decoded as the worker's transport decodes a text frame.
        if (data.toString('utf8').length > 0) client?.send(answer);
      });
    });
  });
}

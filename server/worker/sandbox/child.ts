/**
 * Entry of the sandboxed child process: runs the worker's thread pool (threads with heap
 * limits, the lease watchdog, crash blame) and talks to the worker over the pipe on fd 3.
 * It has no network of its own: module texts come from the worker, already checked.
 * Built as a self-contained bundle (dist/sandbox/child.js) so it needs no node_modules.
 */
import net from 'node:net';
import type { Lease } from '../../../shared/protocol.js';
import type { Outcomes } from '../../../shared/worker-session.js';
import { ThreadPool } from '../thread-pool.js';
import { FrameReader, encodeFrame } from './frames.js';
import { DoneMerger } from './done-merge.js';
import {
  PIPE_FD,
  type ChildOptions,
  type FromChild,
  type ToChild,
} from './messages.js';

/** Most tasks a thread gets at once here (the worker's own pool: 256). */
const SANDBOX_MAX_BATCH = 1_024;

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const pipe = new net.Socket({ fd: PIPE_FD, readable: true, writable: true });
let corked = false;

function send(message: FromChild): void {
  // Messages of one tick leave in one write.
  if (!corked) {
    corked = true;
    pipe.cork();
    process.nextTick(() => {
      corked = false;
      pipe.uncork();
    });
  }
  pipe.write(encodeFrame(message));
}

const waiting = new Map<
  string,
  { resolve: (source: string) => void; reject: (error: Error) => void }
>();

const pool = new ThreadPool({
  threads: options.threads,
  ...(options.threadMemoryMb ? { threadMemoryMb: options.threadMemoryMb } : {}),
  loadModule: (hash) =>
    new Promise<string>((resolve, reject) => {
      waiting.set(hash, { resolve, reject });
      send({ t: 'need', hash });
    }),
  onLog: (message) => send({ t: 'log', message }),
  // The worker scans every output text this process sends (task code runs here).
  uncheckedTexts: true,
  // A whole batch from the pipe per thread message where tasks are tiny (still about
  // 2 ms of work, as measured): a thread message each way costs both ends wake-ups.
  maxBatch: SANDBOX_MAX_BATCH,
});

const merger = new DoneMerger();
let flushing = false;

/** Outcomes of one event-loop turn leave together, at its end (done-merge.ts). */
function report(outcomes: Outcomes): void {
  merger.add(outcomes);
  if (merger.full) return flush();
  if (flushing) return;
  flushing = true;
  setImmediate(flush);
}

function flush(): void {
  flushing = false;
  for (const message of merger.take()) send(message);
}
pool.onProgress = (lease, fraction) => send({ t: 'progress', lease, fraction });
pool.onCheckpoint = (lease, state) => send({ t: 'checkpoint', lease, state });

function onMessage(message: ToChild): void {
  switch (message.t) {
    case 'submit':
      pool.submit(message.batch, report);
      return;
    case 'cancel':
      // Task ids are this side's leases (the master's never reach the child).
      pool.cancel(message.leases as Lease[]);
      return;
    case 'cancel-all':
      pool.cancelAll();
      return;
    case 'share':
      pool.setShare(message.percent);
      return;
    case 'pause':
      pool.pause();
      return;
    case 'resume':
      pool.resume();
      return;
    case 'module':
      waiting.get(message.hash)?.resolve(message.source);
      waiting.delete(message.hash);
      return;
    case 'module-error':
      waiting.get(message.hash)?.reject(new Error(message.message));
      waiting.delete(message.hash);
      return;
  }
}

const reader = new FrameReader(
  (message) => onMessage(message as ToChild),
  (reason) => {
    process.stderr.write(`colony sandbox: ${reason}\n`);
    process.exit(70);
  },
);
pipe.on('data', (chunk: Buffer) => reader.push(chunk));
// The worker is gone (or closed the pipe to stop us): nothing left to do.
pipe.on('close', () => process.exit(0));
pipe.on('error', () => process.exit(0));
// A Ctrl-C reaches the whole process group: the worker stops this process itself.
process.on('SIGINT', () => undefined);

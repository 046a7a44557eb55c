/**
 * Entry of a task thread inside the sandboxed child. The thread has a pipe of its own
 * to the worker (fd `workerData.fd`): it reads the worker's `submit` frames and writes
 * its outcomes as `done` frames itself, so that the child's main thread (child.ts) does
 * no work per batch; the main thread keeps the watchdog, heap limits and crash blame,
 * and passes control messages (cancel, hold, share, modules) over the thread's port.
 *
 * The pipe's fd is read and written with blocking calls, never wrapped in a stream: a
 * thread that dies leaves the fd open with what it had not read in it, for the thread
 * that replaces it. Reads take exactly one frame at a time, and only while no task is
 * held here (all that was read is reported): then there is nothing to do but wait.
 *
 * Shared memory with the main thread (slots in routed.ts): the id running and its
 * start, timeout and lease end; the last id reported and the last id read.
 */
import { readSync, writeSync } from 'node:fs';
import {
  parentPort,
  receiveMessageOnPort,
  workerData,
} from 'node:worker_threads';
import { JsonText } from '../../../shared/json-text.js';
import type { Lease, TaskBatch } from '../../../shared/protocol.js';
import {
  Status,
  createTaskRunner,
  type FromThread,
  type ThreadOutcomes,
} from '../../../shared/task-runner.js';
import { warmUpThread } from '../warm-up-thread.js';
import { DoneMerger } from './done-merge.js';
import { MAX_FRAME_BYTES, decodeBody, encodeFrame } from './frames.js';
import { Slot, type ToThreadPort } from './routed.js';

/** Longest the first read waits for the warm-up. */
const WARM_UP_WAIT_MS = 2_000;

const port = parentPort;
if (!port) throw new Error('the sandbox thread must run in a worker thread');
const { fd, running } = workerData as {
  fd: number;
  running: SharedArrayBuffer;
};
const slot = new Float64Array(running);

const sources = new Map<string, string>();
const waiting = new Map<string, ((error: Error | null) => void)[]>();

/** A module's text: here already, or asked of the main thread (which asks the worker). */
async function source(hash: string): Promise<string> {
  if (!sources.has(hash)) {
    await new Promise<void>((resolve, reject) => {
      const done = (error: Error | null) => (error ? reject(error) : resolve());
      const list = waiting.get(hash);
      if (list) list.push(done);
      else {
        waiting.set(hash, [done]);
        port?.postMessage({ t: 'need', hash });
      }
    });
  }
  return sources.get(hash) as string;
}

/** Batches read and not fully reported: their last id, timeout and lease end. */
const ranges: {
  first: number;
  last: number;
  timeoutMs: number;
  deadline: number;
}[] = [];
let reported = 0;

function writeAll(bytes: Buffer): void {
  let at = 0;
  while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
}

function readExactly(n: number): Buffer {
  const out = Buffer.allocUnsafe(n);
  let at = 0;
  while (at < n) {
    const got = readSync(fd, out, at, n - at, null);
    // The worker closed the pipe: the child is going away.
    if (got === 0) process.exit(0);
    at += got;
  }
  return out;
}

const merger = new DoneMerger();

/** A runner's outcomes as the `done` frames the worker reads (ids as leases). */
function report(message: ThreadOutcomes): void {
  const { leases, status, values, busy } = message;
  const ok: Lease[] = [];
  const outputs: unknown[] = [];
  const busyMs: number[] = [];
  const failures: { lease: Lease; error: string; kind: 'error' }[] = [];
  const skipped: Lease[] = [];
  for (let k = 0; k < leases.length; k++) {
    const lease = leases[k] as Lease;
    const s = status[k];
    if (s === Status.ok || s === Status.json) {
      ok.push(lease);
      // The worker scans every text this process sends (task code runs here).
      outputs.push(
        s === Status.json ? new JsonText(values[k] as string) : values[k],
      );
      busyMs.push(busy?.[k] ?? 0);
    } else if (s === Status.error)
      failures.push({ lease, error: String(values[k]), kind: 'error' });
    else skipped.push(lease);
  }
  merger.add({ leases: ok, outputs, failures, skipped, busyMs });
  for (const done of merger.take()) writeAll(encodeFrame(done));
  const last = leases[leases.length - 1] as number;
  // After the write: a death from here on finds these reported (reported twice at
  // worst, which the worker ignores, rather than not at all).
  reported = last;
  slot[Slot.reported] = last;
  while (ranges.length > 0 && (ranges[0]?.last ?? 0) <= last) ranges.shift();
  if (ranges.length === 0) setImmediate(readMore);
}

const runner = createTaskRunner({
  importModule: async (hash) => {
    const text = await source(hash);
    sources.delete(hash); // imported once; the runner caches the module
    return import(
      `data:text/javascript;base64,${Buffer.from(text).toString('base64')}`
    );
  },
  post: (message: FromThread) => {
    if (message.type === 'outcomes') {
      if (message.leases.length > 0) report(message);
    } else if (message.type === 'progress')
      writeAll(encodeFrame({ t: 'progress', ...pick(message) }));
    else
      writeAll(
        encodeFrame({
          t: 'checkpoint',
          lease: message.lease,
          state: message.state,
        }),
      );
  },
  now: () => Date.now(),
  busyNow: () => performance.now(),
  onRunning: (lease, at) => {
    if (lease !== -1) {
      const range = ranges.find((r) => lease <= r.last);
      slot[Slot.timeout] = range?.timeoutMs ?? 0;
      slot[Slot.deadline] = range?.deadline ?? Infinity;
    }
    // The start before the id: the main thread reads the id, then the start.
    slot[Slot.started] = at;
    slot[Slot.running] = lease;
  },
});

const pick = (m: { lease: Lease; fraction: number }) => ({
  lease: m.lease,
  fraction: m.fraction,
});

/** Runs a batch whose leases are the worker's ids. */
function run(batch: TaskBatch): void {
  const n = batch.leases.length;
  if (n === 0) return;
  const last = batch.leases[n - 1] as number;
  const deadline = Date.now() + batch.timeoutMs;
  const first = batch.leases[0] as number;
  ranges.push({ first, last, timeoutMs: batch.timeoutMs, deadline });
  slot[Slot.read] = last;
  runner.handle({
    type: 'run',
    job: batch.job,
    module: batch.module,
    leases: batch.leases,
    indexes: batch.indexes,
    attempts: batch.attempts,
    inputs: batch.inputsJson ? [] : batch.inputs,
    deadline,
    // Input texts travel as one span: one parse here, which checks their count too.
    ...(batch.inputsJson
      ? {
          inputsJson: `[${batch.inputsSpan ?? (batch.inputs as string[]).join(',')}]`,
        }
      : {}),
    ...(batch.resumes ? { resumes: batch.resumes } : {}),
  });
}

/** Reads and runs frames while nothing read is left unreported. */
function readMore(): void {
  while (ranges.length === 0) {
    takeMessages();
    const length = readExactly(4).readUInt32LE(0);
    if (length > MAX_FRAME_BYTES) throw new Error('a frame is too large');
    const body = readExactly(length);
    // Controls that came while this thread waited apply before the batch.
    takeMessages();
    const message = decodeBody(body) as { t?: string; batch?: TaskBatch };
    if (message.t === 'submit' && message.batch) run(message.batch);
  }
}

/** Handles what the main thread posted, now (the thread may be about to block). */
function takeMessages(): void {
  for (;;) {
    const got = receiveMessageOnPort(port as never) as
      { message: ToThreadPort } | undefined;
    if (!got) return;
    onPortMessage(got.message);
  }
}

function onPortMessage(message: ToThreadPort): void {
  switch (message.t) {
    case 'module':
      sources.set(message.hash, message.source);
      for (const done of waiting.get(message.hash) ?? []) done(null);
      waiting.delete(message.hash);
      return;
    case 'module-error':
      for (const done of waiting.get(message.hash) ?? [])
        done(new Error(message.message));
      waiting.delete(message.hash);
      return;
    case 'cancel-all': {
      const ids: Lease[] = [];
      for (const r of ranges)
        for (let id = Math.max(r.first, reported + 1); id <= r.last; id++)
          ids.push(id as Lease);
      if (ids.length > 0) runner.handle({ type: 'cancel', leases: ids });
      return;
    }
    case 'control':
      runner.handle(message.message);
      return;
  }
}

port.on('message', onPortMessage);

// Reads start once the warm-up ran (its module loads asynchronously, and a thread
// waiting on its pipe runs nothing else), or after a while if it never ends.
let reading = false;
const startReading = (): void => {
  if (reading) return;
  reading = true;
  setImmediate(readMore);
};
setTimeout(startReading, WARM_UP_WAIT_MS).unref();
// Before the first real batch arrives: its tasks then run on warm code.
warmUpThread(undefined, startReading);

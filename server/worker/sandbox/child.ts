/**
 * Entry of the sandboxed child process: task threads with heap limits, the lease
 * watchdog and exact crash blame, each reading its batches from and writing its
 * outcomes to a pipe of its own (thread-entry.ts). This thread does no work per batch:
 * it passes control messages from the worker's pipe (fd 3) to the threads, asks the
 * worker for module texts (the child has no network of its own: they come checked),
 * kills a thread whose task outlives its timeout, and reports a thread's death with
 * the task it was running (the id is in memory shared with the thread).
 * Built as a self-contained bundle (dist/sandbox/child.js) so it needs no node_modules.
 */
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { FrameReader, encodeFrame } from './frames.js';
import {
  PIPE_FD,
  threadFd,
  type ChildOptions,
  type FromChild,
  type ToChild,
} from './messages.js';
import {
  SLOT_COUNT,
  Slot,
  type NeedModule,
  type ToThreadPort,
} from './routed.js';

const WATCHDOG_MS = 100;
/** Outcomes are written every few ms: a task that just made it may not be heard yet. */
const KILL_SLACK_MS = 200;
const MAX_MODULES = 32;

const options = JSON.parse(process.argv[2] ?? '{}') as ChildOptions;
const memoryMb = options.threadMemoryMb ?? 1_024;
const threadFile = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  'thread.js',
);
const pipe = new net.Socket({ fd: PIPE_FD, readable: true, writable: true });

function send(message: FromChild): void {
  pipe.write(encodeFrame(message));
}

interface Thread {
  k: number;
  worker: Worker;
  slot: Float64Array;
  dead: boolean;
}

const modules = new Map<string, string>();
let share = 100;
let held = false;
const threads: Thread[] = [];

function post(thread: Thread, message: ToThreadPort): void {
  if (!thread.dead) thread.worker.postMessage(message);
}

function spawn(k: number): Thread {
  const shared = new SharedArrayBuffer(SLOT_COUNT * 8);
  const slot = new Float64Array(shared);
  slot[Slot.running] = -1;
  const worker = new Worker(threadFile, {
    workerData: { fd: threadFd(k), running: shared },
    resourceLimits: { maxOldGenerationSizeMb: memoryMb },
  });
  const thread: Thread = { k, worker, slot, dead: false };
  worker.on('message', (message: NeedModule) => {
    const source = modules.get(message.hash);
    if (source !== undefined)
      post(thread, { t: 'module', hash: message.hash, source });
    else send({ t: 'need', hash: message.hash });
  });
  worker.on('error', (error: Error & { code?: string }) =>
    died(
      thread,
      error.code === 'ERR_WORKER_OUT_OF_MEMORY'
        ? `the task ran out of memory (thread heap limit ${memoryMb} MB)`
        : `the task crashed its thread: ${error.message}`,
    ),
  );
  worker.on('exit', (code) =>
    died(thread, `the task ended its thread (exit code ${code})`),
  );
  if (share !== 100)
    post(thread, { t: 'control', message: { type: 'share', percent: share } });
  if (held) post(thread, { t: 'control', message: { type: 'hold', on: true } });
  return thread;
}

/**
 * A dead thread: the worker learns what it had read and not reported, and the task it
 * ran (blamed unless it started past its lease); a new thread takes over its pipe.
 */
function died(thread: Thread, reason: string): void {
  if (thread.dead) return;
  thread.dead = true;
  void thread.worker.terminate().catch(() => undefined);
  const { slot } = thread;
  const running = slot[Slot.running] as number;
  const blamed =
    running !== -1 &&
    (slot[Slot.started] as number) <= (slot[Slot.deadline] as number);
  send({
    t: 'died',
    thread: thread.k,
    culprit: blamed ? running : -1,
    reported: slot[Slot.reported] as number,
    read: slot[Slot.read] as number,
    reason: reason.slice(0, 4_000),
  });
  send({ t: 'log', message: `thread replaced: ${reason}` });
  threads[thread.k] = spawn(thread.k);
}

/** Kills threads whose running task outlived its timeout since it started. */
function watchdog(): void {
  const now = Date.now();
  for (const thread of [...threads]) {
    const { slot } = thread;
    const timeoutMs = slot[Slot.timeout] as number;
    if (thread.dead || slot[Slot.running] === -1 || !(timeoutMs > 0)) continue;
    if (now - (slot[Slot.started] as number) > timeoutMs + KILL_SLACK_MS)
      died(
        thread,
        `the task exceeded its lease of ${timeoutMs} ms and its thread was terminated`,
      );
  }
}

function broadcast(message: ToThreadPort): void {
  for (const thread of threads) post(thread, message);
}

function onMessage(message: ToChild): void {
  switch (message.t) {
    case 'submit':
      // Batches come over each thread's own pipe, never this one.
      return;
    case 'cancel': {
      const cancel: ToThreadPort = {
        t: 'control',
        message: { type: 'cancel', leases: message.leases as never },
      };
      const thread =
        message.thread === undefined ? undefined : threads[message.thread];
      if (thread) post(thread, cancel);
      else broadcast(cancel);
      return;
    }
    case 'cancel-all':
      broadcast({ t: 'cancel-all' });
      return;
    case 'share':
      share = message.percent;
      broadcast({ t: 'control', message: { type: 'share', percent: share } });
      return;
    case 'pause':
    case 'resume':
      held = message.t === 'pause';
      broadcast({ t: 'control', message: { type: 'hold', on: held } });
      return;
    case 'module':
      modules.set(message.hash, message.source);
      if (modules.size > MAX_MODULES)
        modules.delete(modules.keys().next().value as string);
      broadcast(message);
      return;
    case 'module-error':
      broadcast(message);
      return;
  }
}

for (let k = 0; k < options.threads; k++) threads.push(spawn(k));
setInterval(watchdog, WATCHDOG_MS).unref();

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

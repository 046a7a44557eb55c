/**
 * The Node worker's executor: the shared {@link TaskExecutor} on `threads`
 * worker_threads running `task-thread.js`. This file only says how a Node thread is
 * started (with its heap limit and a SharedArrayBuffer slot where it writes the task it
 * runs), posted to and terminated, and how its deaths read.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import {
  TaskExecutor,
  type ExecutorClock,
  type SpawnThread,
} from '../../shared/executor/index.js';
import type { FromThread } from '../../shared/task-runner.js';

export interface ThreadPoolOptions {
  threads: number;
  /** Fetches a task module's source by hash (cached by the pool). */
  loadModule(hash: string): Promise<string>;
  /** Heap limit of each thread. @defaultValue 1 024 */
  threadMemoryMb?: number;
  /** Time one batch should take, to size batches from measured task time. @defaultValue 2 */
  targetBatchMs?: number;
  /** Most tasks a thread gets at once. @defaultValue 256 */
  maxBatch?: number;
  onLog?: (message: string) => void;
  /** Pass output texts on unchecked (the sandbox's parent checks them). */
  uncheckedTexts?: boolean;
}

function threadFile(): string {
  const here = path.dirname(fileURLToPath(import.meta.url));
  const candidates = [
    path.join(here, 'task-thread.js'),
    path.resolve(here, '../../dist/task-thread.js'),
  ];
  return (
    candidates.find((file) => existsSync(file)) ?? (candidates[0] as string)
  );
}

/** Wall time; the watchdog's timer does not keep the process alive. */
const nodeClock: ExecutorClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

function nodeSpawner(file: string, threadMemoryMb: number): SpawnThread {
  return (events) => {
    // [lease running now or -1, its start time], written by the thread.
    const shared = new SharedArrayBuffer(16);
    const running = new Float64Array(shared);
    running[0] = -1;
    const worker = new Worker(file, {
      workerData: { running: shared },
      resourceLimits: { maxOldGenerationSizeMb: threadMemoryMb },
    });
    worker.on('message', (message: FromThread) => events.onMessage(message));
    worker.on('error', (error: Error & { code?: string }) => {
      events.onError(
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the task ran out of memory (thread heap limit ${threadMemoryMb} MB)`
          : `the task crashed its thread: ${error.message}`,
      );
    });
    worker.on('exit', (code) => {
      events.onError(`the task ended its thread (exit code ${code})`);
    });
    return {
      post: (message) => worker.postMessage(message),
      terminate: () => worker.terminate(),
      running,
    };
  };
}

export class ThreadPool extends TaskExecutor {
  constructor(options: ThreadPoolOptions) {
    super({
      threads: options.threads,
      spawn: nodeSpawner(threadFile(), options.threadMemoryMb ?? 1_024),
      clock: nodeClock,
      loadModule: options.loadModule,
      ...(options.targetBatchMs !== undefined
        ? { targetBatchMs: options.targetBatchMs }
        : {}),
      ...(options.maxBatch !== undefined ? { maxBatch: options.maxBatch } : {}),
      ...(options.onLog ? { onLog: options.onLog } : {}),
      ...(options.uncheckedTexts ? { uncheckedTexts: true } : {}),
    });
  }
}

/**
 * What the shared task executor needs from its host: a way to start a thread, post to
 * it and terminate it, and a clock. Node (worker_threads) and the browser (Web Workers)
 * each provide these; everything else (batching, crash blame, watchdog, cancel,
 * progress) lives in {@link TaskExecutor}.
 */
import type { FromThread, ToThread } from '../task-runner.js';

/** A running thread, as the executor drives it. */
export interface ThreadHandle {
  post(message: ToThread): void;
  terminate(): void | Promise<unknown>;
  /**
   * Memory shared with the thread, where it writes [lease running now or -1, when it
   * started] (see `TaskRunnerOptions.onRunning`). With it, a crash or overrun is blamed
   * on exactly the running task; without it (a browser page that is not cross-origin
   * isolated), on the first task the thread has not answered yet.
   */
  readonly running: Float64Array | null;
}

export interface ThreadEvents {
  onMessage(message: FromThread): void;
  /**
   * The thread died or failed (uncaught error, exit, out of memory, unreadable
   * message); `reason` says how, for the crash report of the task it was running.
   */
  onError(reason: string): void;
}

/** Starts one thread that runs the shared task runner. */
export type SpawnThread = (events: ThreadEvents) => ThreadHandle;

/** Time as the executor sees it; tests pass a fake one. */
export interface ExecutorClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export interface TaskExecutorOptions {
  threads: number;
  spawn: SpawnThread;
  clock: ExecutorClock;
  /**
   * Fetches a task module's source by hash; the executor posts it to each thread once
   * (`{ type: 'module' }`). Without it, threads import modules themselves.
   */
  loadModule?(hash: string): Promise<string>;
  /** Most tasks handed to a thread in one batch. @defaultValue DEFAULT_MAX_BATCH (1 024) */
  maxBatch?: number;
  /** Time one batch should take, to size batches from measured task time. @defaultValue 2 */
  targetBatchMs?: number;
  /**
   * Slack past a task's `timeoutMs` (counted from when its thread started it) before
   * the watchdog kills the thread: outcomes are posted every few ms, so a task that
   * just made it may not have reported yet. @defaultValue 200
   */
  killSlackMs?: number;
  /** How often the watchdog looks at busy threads. @defaultValue 100 */
  watchdogMs?: number;
  onLog?: (message: string) => void;
  /**
   * Outputs the threads send as JSON text are passed on unchecked: only for a host
   * that checks them itself (the sandbox's process, whose parent scans them).
   * @defaultValue false: each is scanned, as task code could send any string
   */
  uncheckedTexts?: boolean;
}

/**
 * Runs tasks inside one thread (a Node worker thread or a browser Web Worker): loads a
 * task module once per hash, calls its default export with `(input, ctx)`, one task at
 * a time, and reports outcomes in batches so that tiny tasks do not cost one message
 * each. The host (thread pool) owns timeouts: it terminates a thread that stops talking.
 */

/** What the task module's default export receives as its second argument. */
export interface TaskContext {
  /** Aborted when the task is cancelled (job cancelled, done elsewhere, lease lost). */
  signal: AbortSignal;
  /** Optional progress report, 0..1. */
  progress(fraction: number): void;
  jobId: string;
  taskIndex: number;
  attempt: number;
}

export type TaskFunction = (input: unknown, ctx: TaskContext) => unknown;

/** One task as the host hands it to the thread. */
export interface ThreadTask {
  lease: number;
  job: string;
  index: number;
  attempt: number;
  module: string;
  input: unknown;
  /** Wall-clock deadline (ms since epoch) of the lease; skip the task past it. */
  deadline: number;
}

export type ThreadOutcome =
  | { lease: number; ok: true; output: unknown }
  | { lease: number; ok: false; error: string }
  /** Not run: its lease was already over or it was cancelled before it started. */
  | { lease: number; skipped: true };

/** Host -> thread messages. */
export type ToThread =
  | { type: 'run'; tasks: ThreadTask[] }
  | { type: 'cancel'; leases: number[] }
  | { type: 'module'; hash: string; source: string }
  /** Shared memory where the thread writes [lease running now or -1, its start time]. */
  | { type: 'slot'; buffer: SharedArrayBuffer };

/** Thread -> host messages. */
export type FromThread =
  | { type: 'outcomes'; outcomes: ThreadOutcome[] }
  | { type: 'progress'; lease: number; fraction: number };

const POST_EVERY_MS = 4;

/** Turns anything thrown into a bounded message. */
export function errorMessage(error: unknown): string {
  let text: string;
  if (error instanceof Error) text = error.message || error.name;
  else if (typeof error === 'string') text = error;
  else {
    try {
      text = JSON.stringify(error) ?? String(error);
    } catch {
      text = String(error);
    }
  }
  return text.slice(0, 4_000);
}

/** Rejects outputs that cannot cross the wire as JSON or bytes. */
function checkOutput(output: unknown): string | null {
  switch (typeof output) {
    case 'number':
      return Number.isFinite(output)
        ? null
        : `output ${output} is not a JSON number`;
    case 'string':
    case 'boolean':
      return null;
    case 'undefined':
      return 'the task returned undefined; return a JSON value or a Uint8Array';
    case 'bigint':
    case 'function':
    case 'symbol':
      return `the task returned a ${typeof output}; return a JSON value or a Uint8Array`;
    case 'object':
      return null;
  }
}

export interface TaskRunnerOptions {
  /** Imports a module by hash; called once per hash. */
  importModule(hash: string): Promise<unknown>;
  post(message: FromThread): void;
  now(): number;
  /**
   * Told as each task starts (lease, time) and ends (-1): lets a host that can see it
   * without a message (shared memory) blame exactly the task that killed the thread.
   */
  onRunning?(lease: number, at: number): void;
}

interface RunningTask {
  lease: number;
  controller: AbortController | null;
  aborted: boolean;
}

/** The thread-side engine: feed it `ToThread` messages. */
export function createTaskRunner(options: TaskRunnerOptions) {
  const modules = new Map<string, Promise<TaskFunction>>();
  const queue: ThreadTask[] = [];
  const cancelled = new Set<number>();
  /** The running task; its AbortController is made only if the task reads `signal`. */
  let current: RunningTask | null = null;
  let outbox: ThreadOutcome[] = [];
  let lastPostAt = 0;
  let running = false;

  /** Modules already imported: tasks of a loaded module run without a promise hop. */
  const ready = new Map<string, TaskFunction>();

  const load = (hash: string): Promise<TaskFunction> => {
    let loaded = modules.get(hash);
    if (!loaded) {
      loaded = options.importModule(hash).then((mod) => {
        const fn = (mod as { default?: unknown }).default;
        if (typeof fn !== 'function') {
          throw new Error('the task module has no default export function');
        }
        ready.set(hash, fn as TaskFunction);
        return fn as TaskFunction;
      });
      modules.set(hash, loaded);
    }
    return loaded;
  };

  const postOutcomes = (): void => {
    if (outbox.length === 0) return;
    options.post({ type: 'outcomes', outcomes: outbox });
    outbox = [];
    lastPostAt = options.now();
  };

  const settle = (
    task: ThreadTask,
    running: RunningTask,
    output: unknown,
  ): ThreadOutcome => {
    if (running.aborted) return { lease: task.lease, skipped: true };
    const problem = checkOutput(output);
    return problem
      ? { lease: task.lease, ok: false, error: problem }
      : { lease: task.lease, ok: true, output };
  };

  const fail = (
    task: ThreadTask,
    running: RunningTask,
    error: unknown,
  ): ThreadOutcome =>
    running.aborted
      ? { lease: task.lease, skipped: true }
      : { lease: task.lease, ok: false, error: errorMessage(error) };

  /** Calls the task; synchronous tasks of a loaded module return synchronously. */
  const invoke = (
    fn: TaskFunction,
    task: ThreadTask,
    running: RunningTask,
  ): ThreadOutcome | Promise<ThreadOutcome> => {
    let lastProgressAt = 0;
    let result: unknown;
    try {
      result = fn(task.input, {
        get signal(): AbortSignal {
          // Most tasks never look: an AbortController per task would cost more than they do.
          if (!running.controller) {
            running.controller = new AbortController();
            if (running.aborted) running.controller.abort();
          }
          return running.controller.signal;
        },
        jobId: task.job,
        taskIndex: task.index,
        attempt: task.attempt,
        progress: (fraction: number) => {
          const now = options.now();
          if (now - lastProgressAt < 250 || !(fraction >= 0 && fraction <= 1))
            return;
          lastProgressAt = now;
          options.post({ type: 'progress', lease: task.lease, fraction });
        },
      });
    } catch (error) {
      return fail(task, running, error);
    }
    if (
      result !== null &&
      typeof (result as Promise<unknown>)?.then === 'function'
    ) {
      return (result as Promise<unknown>).then(
        (output) => settle(task, running, output),
        (error: unknown) => fail(task, running, error),
      );
    }
    return settle(task, running, result);
  };

  const runOne = (task: ThreadTask): ThreadOutcome | Promise<ThreadOutcome> => {
    if (cancelled.delete(task.lease) || options.now() > task.deadline) {
      return { lease: task.lease, skipped: true };
    }
    const running: RunningTask = {
      lease: task.lease,
      controller: null,
      aborted: false,
    };
    current = running;
    options.onRunning?.(task.lease, options.now());
    const fn = ready.get(task.module);
    if (fn) return invoke(fn, task, running);
    return load(task.module).then(
      (loaded) => invoke(loaded, task, running),
      (error: unknown) => fail(task, running, error),
    );
  };

  const drain = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      while (queue.length > 0) {
        const task = queue.shift() as ThreadTask;
        let outcome = runOne(task);
        if (outcome instanceof Promise) outcome = await outcome;
        current = null;
        options.onRunning?.(-1, 0);
        outbox.push(outcome);
        if (queue.length === 0 || options.now() - lastPostAt >= POST_EVERY_MS) {
          postOutcomes();
        }
      }
      postOutcomes();
    } finally {
      running = false;
    }
  };

  return {
    handle(message: ToThread): void {
      switch (message.type) {
        case 'run':
          for (const task of message.tasks) queue.push(task);
          void drain();
          return;
        case 'cancel':
          for (const lease of message.leases) {
            if (current?.lease === lease) {
              current.aborted = true;
              current.controller?.abort();
            } else cancelled.add(lease);
          }
          return;
        case 'module':
        case 'slot':
          return; // handled by the host-specific thread entry
      }
    },
  };
}

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

/**
 * Tasks of one job as the host hands them to the thread, column by column (a structured
 * clone of one object per task costs more than a trivial task itself).
 */
export interface ThreadBatch {
  job: string;
  module: string;
  leases: number[];
  indexes: number[];
  attempts: number[];
  inputs: unknown[];
  /** Wall-clock deadline (ms since epoch) of the leases; a task past it is skipped. */
  deadline: number;
}

/** How a task ended in the thread, in `ThreadOutcomes.status`. */
export const Status = {
  /** `values[i]` is the output. */
  ok: 0,
  /** `values[i]` is the error message. */
  error: 1,
  /** Not run: its lease was over or it was cancelled before it started. */
  skipped: 2,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

/** Outcomes of the next tasks of the thread, in the order it was given them. */
export interface ThreadOutcomes {
  type: 'outcomes';
  leases: number[];
  status: Status[];
  values: unknown[];
}

/** Host -> thread messages. */
export type ToThread =
  | ({ type: 'run' } & ThreadBatch)
  | { type: 'cancel'; leases: number[] }
  | { type: 'module'; hash: string; source: string }
  /** Shared memory where the thread writes [lease running now or -1, its start time]. */
  | { type: 'slot'; buffer: SharedArrayBuffer };

/** Thread -> host messages. */
export type FromThread =
  ThreadOutcomes | { type: 'progress'; lease: number; fraction: number };

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

interface Outcome {
  status: Status;
  value: unknown;
}

const SKIPPED: Outcome = { status: Status.skipped, value: null };

/**
 * The `ctx` of one task, also the runner's record of it: a class, so that a task costs
 * one small object (an object literal with a getter and a closure costs several).
 */
class RunningTask implements TaskContext {
  aborted = false;
  #controller: AbortController | null = null;
  #progress: ((fraction: number) => void) | null = null;
  readonly lease: number;
  readonly jobId: string;
  readonly taskIndex: number;
  readonly attempt: number;
  readonly #options: TaskRunnerOptions;

  constructor(
    lease: number,
    jobId: string,
    taskIndex: number,
    attempt: number,
    options: TaskRunnerOptions,
  ) {
    this.lease = lease;
    this.jobId = jobId;
    this.taskIndex = taskIndex;
    this.attempt = attempt;
    this.#options = options;
  }

  get signal(): AbortSignal {
    // Most tasks never look: an AbortController per task would cost more than they do.
    if (!this.#controller) {
      this.#controller = new AbortController();
      if (this.aborted) this.#controller.abort();
    }
    return this.#controller.signal;
  }

  /** A bound function, so that `const { progress } = ctx` works too. */
  get progress(): (fraction: number) => void {
    if (!this.#progress) {
      let lastProgressAt = 0;
      this.#progress = (fraction: number) => {
        const now = this.#options.now();
        if (now - lastProgressAt < 250 || !(fraction >= 0 && fraction <= 1))
          return;
        lastProgressAt = now;
        this.#options.post({ type: 'progress', lease: this.lease, fraction });
      };
    }
    return this.#progress;
  }

  abort(): void {
    this.aborted = true;
    this.#controller?.abort();
  }
}

/** The thread-side engine: feed it `ToThread` messages. */
export function createTaskRunner(options: TaskRunnerOptions) {
  const modules = new Map<string, Promise<TaskFunction>>();
  /** Batches to run; `at` is the next task of the first one. */
  const queue: ThreadBatch[] = [];
  let at = 0;
  const cancelled = new Set<number>();
  /** The running task. */
  let current: RunningTask | null = null;
  let out: ThreadOutcomes = fresh();
  let lastPostAt = 0;
  let running = false;

  function fresh(): ThreadOutcomes {
    return { type: 'outcomes', leases: [], status: [], values: [] };
  }

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

  const postOutcomes = (now: number): void => {
    if (out.leases.length === 0) return;
    options.post(out);
    out = fresh();
    lastPostAt = now;
  };

  const record = (lease: number, status: Status, value: unknown): void => {
    out.leases.push(lease);
    out.status.push(status);
    out.values.push(value);
  };

  const settle = (task: RunningTask, output: unknown): Outcome => {
    if (task.aborted) return SKIPPED;
    const problem = checkOutput(output);
    return problem
      ? { status: Status.error, value: problem }
      : { status: Status.ok, value: output };
  };

  const fail = (task: RunningTask, error: unknown): Outcome =>
    task.aborted
      ? SKIPPED
      : { status: Status.error, value: errorMessage(error) };

  /**
   * Calls the task. A synchronous task of a loaded module is recorded at once (and
   * `null` returned); an asynchronous one returns the promise of its outcome.
   */
  const invoke = (
    fn: TaskFunction,
    batch: ThreadBatch,
    i: number,
    task: RunningTask,
  ): Promise<Outcome> | null => {
    let result: unknown;
    try {
      result = fn(batch.inputs[i], task);
    } catch (error) {
      const outcome = fail(task, error);
      record(task.lease, outcome.status, outcome.value);
      return null;
    }
    if (
      result !== null &&
      typeof (result as Promise<unknown>)?.then === 'function'
    ) {
      return (result as Promise<unknown>).then(
        (output) => settle(task, output),
        (error: unknown) => fail(task, error),
      );
    }
    if (task.aborted) record(task.lease, Status.skipped, null);
    else {
      const problem = checkOutput(result);
      if (problem) record(task.lease, Status.error, problem);
      else record(task.lease, Status.ok, result);
    }
    return null;
  };

  /** Runs task `i` of the batch: recorded at once, or a promise of its outcome. */
  const runOne = (
    batch: ThreadBatch,
    i: number,
    now: number,
  ): Promise<Outcome | null> | null => {
    const lease = batch.leases[i] as number;
    if (
      (cancelled.size > 0 && cancelled.delete(lease)) ||
      now > batch.deadline
    ) {
      record(lease, Status.skipped, null);
      return null;
    }
    const task = new RunningTask(
      lease,
      batch.job,
      batch.indexes[i] as number,
      batch.attempts[i] as number,
      options,
    );
    current = task;
    options.onRunning?.(lease, now);
    const fn = ready.get(batch.module);
    if (fn) return invoke(fn, batch, i, task);
    return load(batch.module).then(
      (loaded) => invoke(loaded, batch, i, task),
      (error: unknown) => fail(task, error),
    );
  };

  const drain = async (): Promise<void> => {
    if (running) return;
    running = true;
    try {
      let now = options.now();
      while (queue.length > 0) {
        const batch = queue[0] as ThreadBatch;
        const i = at;
        if (++at === batch.leases.length) {
          queue.shift();
          at = 0;
        }
        const pending = runOne(batch, i, now);
        if (pending) {
          const outcome = await pending;
          // null: the task turned out synchronous once its module loaded (recorded).
          if (outcome)
            record(batch.leases[i] as number, outcome.status, outcome.value);
        }
        current = null;
        options.onRunning?.(-1, 0);
        now = options.now();
        if (queue.length === 0 || now - lastPostAt >= POST_EVERY_MS) {
          postOutcomes(now);
        }
      }
      postOutcomes(now);
    } finally {
      running = false;
    }
  };

  return {
    handle(message: ToThread): void {
      switch (message.type) {
        case 'run':
          if (message.leases.length > 0) queue.push(message);
          void drain();
          return;
        case 'cancel':
          for (const lease of message.leases) {
            if (current?.lease === lease) current.abort();
            else cancelled.add(lease);
          }
          return;
        case 'module':
        case 'slot':
          return; // handled by the host-specific thread entry
      }
    },
  };
}

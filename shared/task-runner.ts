/**
 * Runs tasks inside one thread (a Node worker thread or a browser Web Worker): loads a
 * task module once per hash, calls its default export with `(input, ctx)`, one task at
 * a time, and reports outcomes in batches so that tiny tasks do not cost one message
 * each. The host (the executor) owns timeouts: it terminates a thread whose task
 * overruns, knowing which one from the slot this runner writes through `onRunning`.
 */
import {
  Status,
  type FromThread,
  type TaskFunction,
  type ThreadBatch,
  type ToThread,
} from './runner/messages.js';
import type { Lease } from './protocol.js';
import { TaskModules } from './runner/modules.js';
import {
  OutcomeBuffer,
  checkOutput,
  failureOf,
  outcomeOf,
  sendable,
  type Outcome,
} from './runner/outcomes.js';
import { Pacer } from './runner/pacer.js';
import { RunningTask, type ProgressPort } from './runner/running-task.js';

export * from './runner/messages.js';
export { errorMessage } from './runner/outcomes.js';

const POST_EVERY_MS = 4;

/** Stands for each input of a batch whose JSON text did not parse (never cloned in). */
const BAD_INPUT = Symbol('bad input');

export interface TaskRunnerOptions {
  /** Imports a module by hash; called once per hash. */
  importModule(hash: string): Promise<unknown>;
  post(message: FromThread): void;
  now(): number;
  /**
   * A monotonic clock in milliseconds (`performance.now`) for the busy time of each
   * task, credited to the volunteer. @defaultValue `now`
   */
  busyNow?(): number;
  /**
   * Told as each task starts (lease, time) and ends (-1, the same start time): lets a
   * host that can see it without a message (shared memory) blame exactly the task that
   * killed the thread. The time never goes back, so a host that reads the lease just
   * before a task ends and the time just after never sees a start older than the task's
   * (a 0 there once made the watchdog kill a thread for a task that ran microseconds).
   */
  onRunning?(lease: Lease | -1, at: number): void;
  /** Sleeps for the CPU share; `wake` ends it early. @defaultValue a timer */
  sleep?(ms: number, wake: Promise<void>): Promise<void>;
}

/** The thread-side engine: feed it `ToThread` messages. */
export function createTaskRunner(options: TaskRunnerOptions): {
  handle(message: ToThread): void;
} {
  const runner = new TaskRunner(options);
  return { handle: (message) => runner.handle(message) };
}

class TaskRunner {
  readonly #options: TaskRunnerOptions;
  readonly #modules: TaskModules;
  readonly #out: OutcomeBuffer;
  /** Batches to run; `#at` is the next task of the first one. */
  readonly #queue: ThreadBatch[] = [];
  #at = 0;
  /** Leases cancelled before they started. */
  readonly #cancelled = new Set<Lease>();
  /** The running task. */
  #current: RunningTask | null = null;
  #draining = false;
  /** Told to start no more tasks (the volunteer paused). */
  #held = false;
  readonly #pacer: Pacer;
  /** What each task's `ctx` reaches: posting, the clock, pacing. */
  readonly #port: ProgressPort;

  constructor(options: TaskRunnerOptions) {
    this.#options = options;
    this.#modules = new TaskModules(options.importModule);
    this.#out = new OutcomeBuffer(options.post);
    this.#pacer = new Pacer({
      now: options.now,
      ...(options.sleep ? { sleep: options.sleep } : {}),
      beforeRest: (now) => this.#out.post(now),
    });
    this.#port = {
      post: options.post,
      now: options.now,
      pace: this.#pacer.pace,
    };
  }

  handle(message: ToThread): void {
    switch (message.type) {
      case 'run':
        if (message.leases.length === 0) return;
        if (message.inputsJson !== undefined) parseInputs(message);
        this.#queue.push(message);
        void this.#drain();
        return;
      case 'share':
        this.#pacer.setShare(message.percent);
        return;
      case 'hold':
        this.#held = message.on;
        if (message.on) {
          this.#pacer.wake();
          // Idle: answer for whatever waits (nothing, unless a module is loading).
          if (!this.#draining) this.#skipQueued(this.#options.now());
        }
        return;
      case 'cancel':
        for (const lease of message.leases) {
          if (this.#current?.lease === lease) this.#current.abort();
          else this.#cancelled.add(lease);
        }
        return;
      case 'module':
      case 'slot':
        return; // handled by the host-specific thread entry
    }
  }

  /** Runs queued tasks one at a time until none is left (one loop at a time). */
  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    const options = this.#options;
    const queue = this.#queue;
    const busyNow = options.busyNow ?? options.now;
    const pacer = this.#pacer;
    let now = options.now();
    // Busy time: from one task's end to the next's, without the CPU share's rests.
    let startedAt = busyNow();
    let restedAt = pacer.restedMs;
    try {
      pacer.begin(now);
      while (queue.length > 0) {
        if (this.#held) {
          this.#skipQueued(now);
          break;
        }
        // The CPU share: rest before the next task once enough rest is owed.
        if (pacer.active) {
          const rest = pacer.due(now);
          if (rest > 0) {
            now = await pacer.rest(now, rest);
            continue;
          }
        }
        const batch = queue[0] as ThreadBatch;
        const i = this.#at;
        if (++this.#at === batch.leases.length) {
          queue.shift();
          this.#at = 0;
        }
        const pending = this.#runOne(batch, i, now);
        if (pending) {
          const outcome = await pending;
          // null: the task turned out synchronous once its module loaded (recorded).
          if (outcome)
            this.#out.record(
              batch.leases[i] as Lease,
              outcome.status,
              outcome.value,
            );
        }
        this.#current = null;
        options.onRunning?.(-1, now);
        const endedAt = busyNow();
        this.#out.busy(
          Math.max(0, endedAt - startedAt - (pacer.restedMs - restedAt)),
        );
        startedAt = endedAt;
        restedAt = pacer.restedMs;
        now = options.now();
        if (queue.length === 0 || now - this.#out.lastPostAt >= POST_EVERY_MS)
          this.#out.post(now);
      }
      this.#out.post(now);
    } finally {
      pacer.end(now);
      this.#draining = false;
    }
  }

  /** Answers every queued task `skipped` (the thread holds): none of them started. */
  #skipQueued(now: number): void {
    const queue = this.#queue;
    while (queue.length > 0) {
      const batch = queue.shift() as ThreadBatch;
      for (let i = this.#at; i < batch.leases.length; i++) {
        const lease = batch.leases[i] as Lease;
        this.#cancelled.delete(lease);
        this.#out.record(lease, Status.skipped, null);
      }
      this.#at = 0;
    }
    this.#out.post(now);
  }

  /** Runs task `i` of the batch: recorded at once, or a promise of its outcome. */
  #runOne(
    batch: ThreadBatch,
    i: number,
    now: number,
  ): Promise<Outcome | null> | null {
    const lease = batch.leases[i] as Lease;
    const cancelled = this.#cancelled;
    if (
      (cancelled.size > 0 && cancelled.delete(lease)) ||
      now > batch.deadline
    ) {
      this.#out.record(lease, Status.skipped, null);
      return null;
    }
    const task = new RunningTask(
      lease,
      batch.job,
      batch.indexes[i] as number,
      batch.attempts[i] as number,
      this.#port,
      batch.resumes?.[i],
    );
    this.#current = task;
    this.#options.onRunning?.(lease, now);
    const fn = this.#modules.ready(batch.module);
    if (fn) return this.#invoke(fn, batch, i, task);
    return this.#modules.load(batch.module).then(
      (loaded) => this.#invoke(loaded, batch, i, task),
      (error: unknown) => failureOf(task.aborted, error),
    );
  }

  /**
   * Calls the task. A synchronous task of a loaded module is recorded at once (and
   * `null` returned); an asynchronous one returns the promise of its outcome.
   */
  #invoke(
    fn: TaskFunction,
    batch: ThreadBatch,
    i: number,
    task: RunningTask,
  ): Promise<Outcome> | null {
    let result: unknown;
    try {
      const input = batch.inputs[i];
      if (input === BAD_INPUT)
        throw new Error('the task input is not valid JSON text');
      result = fn(input, task);
    } catch (error) {
      const outcome = failureOf(task.aborted, error);
      this.#out.record(task.lease, outcome.status, outcome.value);
      return null;
    }
    if (
      result !== null &&
      typeof (result as Promise<unknown>)?.then === 'function'
    ) {
      return (result as Promise<unknown>).then(
        (output) => outcomeOf(task.aborted, output),
        (error: unknown) => failureOf(task.aborted, error),
      );
    }
    // The hot path of tiny tasks: recorded without an outcome object.
    if (task.aborted) this.#out.record(task.lease, Status.skipped, null);
    else {
      const problem = checkOutput(result);
      if (problem) this.#out.record(task.lease, Status.error, problem);
      else if (result === null || typeof result !== 'object')
        this.#out.record(task.lease, Status.ok, result);
      else {
        const outcome = sendable(result);
        this.#out.record(task.lease, outcome.status, outcome.value);
      }
    }
    return null;
  }
}

/**
 * Parses a batch's inputs sent as one JSON array text (into `inputs`). If it does not
 * parse into one input per task, each task fails (in its turn, so that outcomes keep
 * the order the host counts on).
 */
function parseInputs(batch: ThreadBatch): void {
  const count = batch.leases.length;
  let inputs: unknown;
  try {
    inputs = JSON.parse(batch.inputsJson as string);
  } catch {
    inputs = null;
  }
  batch.inputs =
    Array.isArray(inputs) && inputs.length === count
      ? inputs
      : new Array<unknown>(count).fill(BAD_INPUT);
  // Not `delete`: that turns the batch into a dictionary, read once per task after.
  batch.inputsJson = undefined;
}

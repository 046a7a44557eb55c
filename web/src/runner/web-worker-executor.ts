/**
 * The browser's {@link Executor}: `threads` module Web Workers, each running the shared
 * task runner. Tasks are fed to idle threads in small batches; a watchdog terminates a
 * thread whose current task outlives its lease (no word from the thread for longer than
 * the task's `timeoutMs`), reports that task as a crash, and re-runs the rest of the
 * batch on a fresh thread. A thread's `error` event counts as a crash of its current
 * task. Threads are created lazily, on the first batch they get.
 *
 * Invariants: every submitted, uncancelled lease is in `#live` exactly once, either
 * queued or in one thread's `batch`; `onDone` is called at most once per lease, and
 * never after `cancel`.
 */
import type {
  Clock,
  Executor,
  Outcomes,
  ProgressListener,
} from '../../../shared/worker-session.js';
import {
  Status,
  type FromThread,
  type ToThread,
} from '../../../shared/task-runner.js';
import type { TaskBatch } from '../../../shared/protocol.js';

/** A running thread, as the executor drives it. */
export interface ThreadHandle {
  post(message: ToThread): void;
  terminate(): void;
}

export interface ThreadEvents {
  onMessage(message: FromThread): void;
  /** The thread failed (uncaught error, unreadable message). */
  onError(message: string): void;
}

/** Starts one thread; in the page, a module Web Worker running `task.worker.ts`. */
export type SpawnThread = (events: ThreadEvents) => ThreadHandle;

export interface WebWorkerExecutorOptions {
  threads: number;
  spawn: SpawnThread;
  clock: Pick<Clock, 'now' | 'setTimeout' | 'clearTimeout'>;
  /** Most tasks handed to a thread at once. @defaultValue 32 */
  maxBatch?: number;
  /**
   * Give each thread a shared slot where it writes the task it is running, so a crash
   * or overrun is blamed on exactly that task. Needs SharedArrayBuffer, i.e. a
   * cross-origin isolated page (the master sends COOP/COEP). @defaultValue auto-detect
   */
  sharedSlots?: boolean;
}

type OnDone = (outcomes: Outcomes) => void;

/** One task of a batch (a browser runs a few per second to thousands: an object each is fine). */
interface Task {
  lease: number;
  job: string;
  index: number;
  attempt: number;
  module: string;
  timeoutMs: number;
  input: unknown;
}

interface Entry {
  task: Task;
  onDone: OnDone;
  /** Wall-clock end of the lease as seen here: received + timeoutMs. */
  deadline: number;
  cancelled: boolean;
  thread: Thread | null;
}

interface Thread {
  handle: ThreadHandle | null;
  /** Tasks handed to the thread and not yet answered, in the order it runs them. */
  batch: Entry[];
  /** When the thread last reported outcomes, or was handed its batch. */
  heardAt: number;
  /** [lease running now or -1, its start], written by the thread; null without SAB. */
  running: Float64Array | null;
}

export class WebWorkerExecutor implements Executor {
  readonly slots: number;
  /** Hears `ctx.progress` of running tasks (set by the session). */
  onProgress: ProgressListener | null = null;
  readonly #spawn: SpawnThread;
  readonly #clock: WebWorkerExecutorOptions['clock'];
  readonly #maxBatch: number;
  readonly #threads: Thread[] = [];
  /** Submitted, not cancelled, not finished. */
  readonly #live = new Map<number, Entry>();
  #queue: Entry[] = [];
  #watchdog: unknown = null;
  #crashes = 0;
  readonly #sharedSlots: boolean;

  constructor(options: WebWorkerExecutorOptions) {
    this.slots = Math.max(1, Math.floor(options.threads));
    this.#spawn = options.spawn;
    this.#clock = options.clock;
    this.#maxBatch = options.maxBatch ?? 32;
    this.#sharedSlots =
      options.sharedSlots ??
      (typeof SharedArrayBuffer === 'function' &&
        (globalThis as { crossOriginIsolated?: boolean })
          .crossOriginIsolated === true);
    for (let i = 0; i < this.slots; i++) {
      this.#threads.push({
        handle: null,
        batch: [],
        heardAt: 0,
        running: null,
      });
    }
  }

  get pending(): number {
    return this.#live.size;
  }

  /** Threads that were terminated (lease overrun or error) since the start. */
  get crashes(): number {
    return this.#crashes;
  }

  submit(batch: TaskBatch, onDone: OnDone): void {
    const now = this.#clock.now();
    for (let i = 0; i < batch.leases.length; i++) {
      const task: Task = {
        lease: batch.leases[i] as number,
        job: batch.job,
        index: batch.indexes[i] as number,
        attempt: batch.attempts[i] as number,
        module: batch.module,
        timeoutMs: batch.timeoutMs,
        input: batch.inputs[i],
      };
      if (this.#live.has(task.lease)) continue; // a lease is unique; ignore a repeat
      const entry: Entry = {
        task,
        onDone,
        deadline: now + task.timeoutMs,
        cancelled: false,
        thread: null,
      };
      this.#live.set(task.lease, entry);
      this.#queue.push(entry);
    }
    this.#pump();
  }

  cancel(leases: readonly number[]): void {
    const perThread = new Map<Thread, number[]>();
    let queuedCancelled = false;
    for (const lease of leases) {
      const entry = this.#live.get(lease);
      if (!entry) continue;
      this.#live.delete(lease);
      entry.cancelled = true;
      if (entry.thread) {
        const list = perThread.get(entry.thread) ?? [];
        list.push(lease);
        perThread.set(entry.thread, list);
      } else {
        queuedCancelled = true;
      }
    }
    if (queuedCancelled) this.#queue = this.#queue.filter((e) => !e.cancelled);
    for (const [thread, list] of perThread) {
      thread.handle?.post({ type: 'cancel', leases: list });
    }
  }

  cancelAll(): void {
    this.cancel([...this.#live.keys()]);
  }

  /** Terminates every thread; the executor is unusable afterwards. */
  dispose(): void {
    this.#live.clear();
    this.#queue = [];
    for (const thread of this.#threads) {
      thread.handle?.terminate();
      thread.handle = null;
      thread.batch = [];
    }
    this.#disarm();
  }

  /** Hands queued tasks to idle threads. */
  #pump(): void {
    for (const thread of this.#threads) {
      if (this.#queue.length === 0) break;
      if (thread.batch.length > 0) continue;
      // Split what is queued evenly over the threads, so the tail stays balanced.
      const size = Math.max(
        1,
        Math.min(this.#maxBatch, Math.floor(this.#queue.length / this.slots)),
      );
      const entries = this.#queue.splice(0, size);
      this.#start(thread, entries);
    }
    this.#arm();
  }

  #start(thread: Thread, entries: Entry[]): void {
    const handle = thread.handle ?? this.#open(thread);
    for (const entry of entries) entry.thread = thread;
    thread.batch.push(...entries);
    thread.heardAt = this.#clock.now();
    // One run message per stretch of tasks sharing job, module and deadline.
    let start = 0;
    for (let i = 1; i <= entries.length; i++) {
      const first = entries[start] as Entry;
      const entry = entries[i];
      if (
        entry &&
        entry.task.job === first.task.job &&
        entry.task.module === first.task.module &&
        entry.deadline === first.deadline
      )
        continue;
      const run = entries.slice(start, i);
      handle.post({
        type: 'run',
        job: first.task.job,
        module: first.task.module,
        leases: run.map((e) => e.task.lease),
        indexes: run.map((e) => e.task.index),
        attempts: run.map((e) => e.task.attempt),
        inputs: run.map((e) => e.task.input),
        deadline: first.deadline,
      });
      start = i;
    }
  }

  #open(thread: Thread): ThreadHandle {
    const handle = this.#spawn({
      onMessage: (message) => {
        if (thread.handle === handle) this.#onMessage(thread, message);
      },
      onError: (message) => {
        if (thread.handle === handle) this.#onError(thread, message);
      },
    });
    thread.handle = handle;
    thread.running = null;
    if (this.#sharedSlots) {
      const buffer = new SharedArrayBuffer(16);
      thread.running = new Float64Array(buffer);
      thread.running[0] = -1;
      handle.post({ type: 'slot', buffer });
    }
    return handle;
  }

  #onMessage(thread: Thread, message: FromThread): void {
    if (message.type !== 'outcomes') {
      if (message.type === 'progress') this.#progress(thread, message);
      return;
    }
    thread.heardAt = this.#clock.now();
    for (let i = 0; i < message.leases.length; i++) {
      this.#settle(
        thread,
        message.leases[i] as number,
        message.status[i] as Status,
        message.values[i],
      );
    }
    this.#pump();
  }

  /** Passes on progress of a live task of this thread (task code may forge others). */
  #progress(
    thread: Thread,
    message: { lease: unknown; fraction: unknown },
  ): void {
    const { lease, fraction } = message;
    if (
      this.onProgress === null ||
      typeof lease !== 'number' ||
      typeof fraction !== 'number' ||
      !(fraction >= 0 && fraction <= 1)
    )
      return;
    const entry = this.#live.get(lease);
    if (entry && entry.thread === thread && !entry.cancelled)
      this.onProgress(lease, fraction);
  }

  #settle(thread: Thread, lease: number, status: Status, value: unknown): void {
    // Outcomes arrive in batch order, so this is almost always index 0.
    const at = thread.batch.findIndex((e) => e.task.lease === lease);
    if (at < 0) return; // not this thread's task: ignore what task code may forge
    const [entry] = thread.batch.splice(at, 1) as [Entry];
    entry.thread = null;
    if (entry.cancelled) return;
    this.#live.delete(lease);
    if (status === Status.skipped) return; // past its lease before it started: no result
    entry.onDone(
      status === Status.ok
        ? { leases: [lease], outputs: [value], failures: [] }
        : {
            leases: [],
            outputs: [],
            failures: [{ lease, error: String(value), kind: 'error' }],
          },
    );
  }

  /**
   * The task the thread is running: exact when it shares its slot, else the first
   * unanswered one (which may have finished with its outcome not yet posted).
   */
  #current(thread: Thread): { entry: Entry; startedAt: number } | null {
    if (thread.running) {
      const lease = thread.running[0];
      const entry = thread.batch.find((e) => e.task.lease === lease);
      return entry ? { entry, startedAt: thread.running[1] as number } : null;
    }
    const entry = thread.batch[0];
    return entry ? { entry, startedAt: thread.heardAt } : null;
  }

  #onError(thread: Thread, message: string): void {
    const current = this.#current(thread)?.entry;
    this.#crash(
      thread,
      current
        ? `task ${current.task.index} of job ${current.task.job} crashed its Web Worker: ${message}`
        : message,
    );
  }

  /** Kills the thread, fails its current task as a crash, re-queues the rest. */
  #crash(thread: Thread, error: string): void {
    this.#crashes++;
    thread.handle?.terminate();
    thread.handle = null;
    const current = this.#current(thread)?.entry;
    const rest = thread.batch.filter((e) => e !== current);
    thread.batch = [];
    const again = rest.filter((e) => !e.cancelled);
    for (const entry of again) entry.thread = null;
    this.#queue = again.concat(this.#queue);
    if (current) {
      current.thread = null;
      if (!current.cancelled) {
        this.#live.delete(current.task.lease);
        current.onDone({
          leases: [],
          outputs: [],
          failures: [
            {
              lease: current.task.lease,
              error: error.slice(0, 4_000),
              kind: 'crash',
            },
          ],
        });
      }
    }
    this.#pump();
  }

  /** Earliest moment a busy thread's current task overruns its lease. */
  #nextExpiry(): { at: number; thread: Thread } | null {
    let next: { at: number; thread: Thread } | null = null;
    for (const thread of this.#threads) {
      if (thread.batch.length === 0) continue;
      const current = this.#current(thread);
      // Between tasks (or with the slot not yet written): look again shortly.
      const at = current
        ? current.startedAt + current.entry.task.timeoutMs
        : this.#clock.now() + 100;
      if (!next || at < next.at) next = { at, thread };
    }
    return next;
  }

  #arm(): void {
    this.#disarm();
    const next = this.#nextExpiry();
    if (!next) return;
    const delay = Math.max(0, next.at - this.#clock.now()) + 1;
    this.#watchdog = this.#clock.setTimeout(() => {
      this.#watchdog = null;
      this.#check();
    }, delay);
  }

  #disarm(): void {
    if (this.#watchdog !== null) {
      this.#clock.clearTimeout(this.#watchdog);
      this.#watchdog = null;
    }
  }

  #check(): void {
    const now = this.#clock.now();
    for (const thread of this.#threads) {
      const running = this.#current(thread);
      if (!running || now - running.startedAt <= running.entry.task.timeoutMs)
        continue;
      const current = running.entry;
      this.#crash(
        thread,
        `task ${current.task.index} of job ${current.task.job} exceeded its lease of ${current.task.timeoutMs} ms; its Web Worker was terminated`,
      );
    }
    this.#arm();
  }
}

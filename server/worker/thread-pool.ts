/**
 * The Node worker's executor: `threads` worker_threads, each fed batches of tasks (a
 * thread hop per task would cap throughput), with a watchdog that terminates a thread
 * whose task outlives its lease and a replacement for any thread that dies. The task
 * that killed a thread is reported as a `crash`; the rest of its batch runs elsewhere.
 *
 * Tasks stay in columns from the wire to the thread and back (slices of the frame's
 * task groups): no object per task, and a structured clone of a few arrays per batch.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TaskBatch } from '../../shared/protocol.js';
import type {
  Executor,
  Outcomes,
  ProgressListener,
} from '../../shared/worker-session.js';
import {
  Status,
  type FromThread,
  type ThreadOutcomes,
  type ToThread,
} from '../../shared/task-runner.js';

type OnDone = (outcomes: Outcomes) => void;

/** Tasks `from` .. `to - 1` of a batch. */
interface Slice {
  batch: TaskBatch;
  from: number;
  to: number;
  /** Wall-clock end of the leases as seen here: received + timeoutMs. */
  deadline: number;
  onDone: OnDone;
}

interface Thread {
  worker: Worker;
  /** Slices handed to the thread, in the order it runs them. */
  inflight: Slice[];
  /** Next task of `inflight[0]` whose outcome the thread has not reported. */
  cursor: number;
  /** Tasks handed to the thread and not reported yet. */
  unreported: number;
  modules: Set<string>;
  /** When the thread last reported (or was handed work while idle). */
  lastHeardAt: number;
  dead: boolean;
  /** Written by the thread: [lease running now or -1, its start time]. */
  running: Float64Array;
}

export interface ThreadPoolOptions {
  threads: number;
  /** Fetches a task module's source by hash (cached by the pool). */
  loadModule(hash: string): Promise<string>;
  /** Heap limit of each thread. @defaultValue 1 024 */
  threadMemoryMb?: number;
  /** Time one batch should take, to size batches from measured task time. @defaultValue 2 */
  targetBatchMs?: number;
  onLog?: (message: string) => void;
}

const WATCHDOG_MS = 100;
/** Slack past a lease before the watchdog kills (results are posted every few ms). */
const KILL_SLACK_MS = 200;
const MAX_BATCH = 256;

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

const emptyOutcomes = (): Outcomes => ({
  leases: [],
  outputs: [],
  failures: [],
});

/** A batch holding only the given tasks of `slice` (to re-queue or drop a few). */
function subBatch(
  slice: Slice,
  keep: (lease: number) => boolean,
): Slice | null {
  const { batch } = slice;
  const picked: number[] = [];
  for (let i = slice.from; i < slice.to; i++)
    if (keep(batch.leases[i] as number)) picked.push(i);
  if (picked.length === 0) return null;
  const column = <T>(values: T[]): T[] => picked.map((i) => values[i] as T);
  return {
    ...slice,
    batch: {
      ...batch,
      leases: column(batch.leases),
      indexes: column(batch.indexes),
      attempts: column(batch.attempts),
      inputs: column(batch.inputs),
    },
    from: 0,
    to: picked.length,
  };
}

export class ThreadPool implements Executor {
  readonly slots: number;
  /** Hears `ctx.progress` of the tasks running in the threads (set by the session). */
  onProgress: ProgressListener | null = null;
  #options: ThreadPoolOptions;
  #queue: Slice[] = [];
  #threads: Thread[] = [];
  #sources = new Map<string, Promise<string>>();
  #ready = new Map<string, string>();
  /** Leases cancelled while in a thread: their outcomes are dropped. */
  #cancelled = new Set<number>();
  #pending = 0;
  #avgTaskMs = 0;
  #watchdog: NodeJS.Timeout;
  #closed = false;
  #file = threadFile();

  constructor(options: ThreadPoolOptions) {
    this.#options = options;
    this.slots = options.threads;
    for (let i = 0; i < options.threads; i++) this.#threads.push(this.#spawn());
    this.#watchdog = setInterval(() => this.#checkLeases(), WATCHDOG_MS);
    this.#watchdog.unref();
  }

  get pending(): number {
    return this.#pending;
  }

  submit(batch: TaskBatch, onDone: OnDone): void {
    const count = batch.leases.length;
    if (count === 0) return;
    this.#queue.push({
      batch,
      from: 0,
      to: count,
      deadline: Date.now() + batch.timeoutMs,
      onDone,
    });
    this.#pending += count;
    this.#pump();
  }

  cancel(leases: readonly number[]): void {
    const wanted = new Set(leases);
    const keep = (lease: number) => !wanted.has(lease);
    const queue: Slice[] = [];
    for (const slice of this.#queue) {
      const kept = subBatch(slice, keep);
      const before = slice.to - slice.from;
      this.#pending -= before - (kept ? kept.to : 0);
      if (kept) queue.push(kept.to === before ? slice : kept);
    }
    this.#queue = queue;
    for (const thread of this.#threads) this.#cancelInThread(thread, wanted);
  }

  cancelAll(): void {
    for (const slice of this.#queue) this.#pending -= slice.to - slice.from;
    this.#queue = [];
    for (const thread of this.#threads) this.#cancelInThread(thread, null);
  }

  /** Terminates every thread. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    await Promise.all(this.#threads.map((thread) => thread.worker.terminate()));
  }

  /** Calls `visit` with every task handed to the thread and not reported yet. */
  #eachUnreported(
    thread: Thread,
    visit: (slice: Slice, i: number) => void,
  ): void {
    thread.inflight.forEach((slice, n) => {
      for (let i = n === 0 ? thread.cursor : slice.from; i < slice.to; i++)
        visit(slice, i);
    });
  }

  /** Marks the thread's unreported tasks in `wanted` (all if null) cancelled. */
  #cancelInThread(thread: Thread, wanted: Set<number> | null): void {
    const hit: number[] = [];
    this.#eachUnreported(thread, (slice, i) => {
      const lease = slice.batch.leases[i] as number;
      if (
        (wanted === null || wanted.has(lease)) &&
        !this.#cancelled.has(lease)
      ) {
        this.#cancelled.add(lease);
        hit.push(lease);
      }
    });
    if (hit.length > 0) this.#post(thread, { type: 'cancel', leases: hit });
  }

  #spawn(): Thread {
    const shared = new SharedArrayBuffer(16);
    const running = new Float64Array(shared);
    running[0] = -1;
    const worker = new Worker(this.#file, {
      workerData: { running: shared },
      resourceLimits: {
        maxOldGenerationSizeMb: this.#options.threadMemoryMb ?? 1_024,
      },
    });
    const thread: Thread = {
      worker,
      inflight: [],
      cursor: 0,
      unreported: 0,
      modules: new Set(),
      lastHeardAt: Date.now(),
      dead: false,
      running,
    };
    worker.on('message', (message: FromThread) =>
      this.#onThreadMessage(thread, message),
    );
    worker.on('error', (error: Error & { code?: string }) => {
      const reason =
        error.code === 'ERR_WORKER_OUT_OF_MEMORY'
          ? `the task ran out of memory (thread heap limit ${this.#options.threadMemoryMb ?? 1_024} MB)`
          : `the task crashed its thread: ${error.message}`;
      this.#threadDied(thread, reason);
    });
    worker.on('exit', (code) => {
      this.#threadDied(thread, `the task ended its thread (exit code ${code})`);
    });
    return thread;
  }

  #onThreadMessage(thread: Thread, message: FromThread): void {
    if (thread.dead) return;
    if (message.type !== 'outcomes') {
      if (message.type === 'progress') this.#progress(thread, message);
      return;
    }
    const now = Date.now();
    const count = message.leases.length;
    if (count > 0) {
      const sample = (now - thread.lastHeardAt) / count;
      this.#avgTaskMs =
        this.#avgTaskMs === 0 ? sample : this.#avgTaskMs * 0.8 + sample * 0.2;
    }
    thread.lastHeardAt = now;
    this.#settle(thread, message);
    this.#pump();
  }

  /**
   * Passes on a task's progress if its lease is one the thread holds, unreported and not
   * cancelled (task code can post anything on the thread's port). The thread posts it
   * while the task runs, before its outcome: the lease is at or a little after the
   * thread's cursor (outcomes of a few tasks before it may be unposted yet).
   */
  #progress(
    thread: Thread,
    message: { lease: unknown; fraction: unknown },
  ): void {
    const listener = this.onProgress;
    const { lease, fraction } = message;
    if (
      listener === null ||
      typeof lease !== 'number' ||
      typeof fraction !== 'number' ||
      !(fraction >= 0 && fraction <= 1) ||
      this.#cancelled.has(lease)
    )
      return;
    for (const [n, slice] of thread.inflight.entries()) {
      const { leases } = slice.batch;
      for (let i = n === 0 ? thread.cursor : slice.from; i < slice.to; i++) {
        if (leases[i] === lease) {
          listener(lease, fraction);
          return;
        }
      }
    }
  }

  /**
   * Outcomes come back in the order the thread was given the tasks: walk the thread's
   * slices alongside them. A message that does not follow that order (task code can
   * post on the thread's port) is ignored from the first mismatch on.
   */
  #settle(thread: Thread, message: ThreadOutcomes): void {
    const { leases, status, values } = message;
    let done = emptyOutcomes();
    for (let k = 0; k < leases.length; k++) {
      const slice = thread.inflight[0];
      const lease = leases[k] as number;
      if (!slice || slice.batch.leases[thread.cursor] !== lease) {
        this.#options.onLog?.('ignored outcomes out of order from a thread');
        break;
      }
      thread.cursor++;
      thread.unreported--;
      this.#pending--;
      if (this.#cancelled.size > 0 && this.#cancelled.delete(lease)) {
        // cancelled: no result
      } else if (status[k] === Status.ok) {
        done.leases.push(lease);
        done.outputs.push(values[k]);
      } else if (status[k] === Status.error) {
        done.failures.push({ lease, error: String(values[k]), kind: 'error' });
      }
      if (thread.cursor === slice.to) {
        thread.inflight.shift();
        thread.cursor = thread.inflight[0]?.from ?? 0;
        if (done.leases.length + done.failures.length > 0) slice.onDone(done);
        done = emptyOutcomes();
      }
    }
    const slice = thread.inflight[0];
    if (slice && done.leases.length + done.failures.length > 0)
      slice.onDone(done);
  }

  #threadDied(thread: Thread, reason: string): void {
    if (thread.dead) return;
    thread.dead = true;
    void thread.worker.terminate();
    // The thread says which task it was running; outcomes it had not posted yet are
    // lost with it, so every other task goes back to the queue to run again.
    const culprit = thread.running[0] as number;
    let blamed: Slice | null = null;
    const again: Slice[] = [];
    const { inflight, cursor } = thread;
    thread.inflight = [];
    thread.unreported = 0;
    for (const [n, slice] of inflight.entries()) {
      const from = n === 0 ? cursor : slice.from;
      for (let i = from; i < slice.to; i++)
        if (slice.batch.leases[i] === culprit) blamed = slice;
      const kept = subBatch({ ...slice, from }, (lease) => lease !== culprit);
      if (kept) again.push(kept);
    }
    if (blamed) {
      this.#pending--;
      if (!this.#cancelled.delete(culprit))
        blamed.onDone({
          leases: [],
          outputs: [],
          failures: [{ lease: culprit, error: reason, kind: 'crash' }],
        });
    }
    // Cancelled tasks are dropped here rather than run again.
    const survivors: Slice[] = [];
    for (const slice of again) {
      const kept = subBatch(slice, (lease) => !this.#cancelled.delete(lease));
      this.#pending -= slice.to - (kept ? kept.to : 0);
      if (kept) survivors.push(kept);
    }
    this.#queue = survivors.concat(this.#queue);
    const at = this.#threads.indexOf(thread);
    if (!this.#closed && at >= 0) {
      this.#options.onLog?.(`thread replaced: ${reason}`);
      this.#threads[at] = this.#spawn();
      this.#pump();
    }
  }

  #checkLeases(): void {
    const now = Date.now();
    for (const thread of this.#threads) {
      if (thread.dead) continue;
      const lease = thread.running[0];
      if (lease === -1) continue;
      let timeoutMs = -1;
      this.#eachUnreported(thread, (slice, i) => {
        if (slice.batch.leases[i] === lease) timeoutMs = slice.batch.timeoutMs;
      });
      if (timeoutMs < 0) continue;
      // The thread wrote when this task started: kill it once it outlives its lease.
      if (now - (thread.running[1] as number) > timeoutMs + KILL_SLACK_MS) {
        this.#threadDied(
          thread,
          `the task ran past its lease of ${timeoutMs} ms and its thread was terminated`,
        );
      }
    }
  }

  #batchSize(): number {
    if (this.#avgTaskMs <= 0) return 1;
    const target = this.#options.targetBatchMs ?? 2;
    return Math.max(
      1,
      Math.min(MAX_BATCH, Math.floor(target / this.#avgTaskMs)),
    );
  }

  #pump(): void {
    if (this.#closed) return;
    const size = this.#batchSize();
    for (const thread of this.#threads) {
      if (thread.dead) continue;
      // Keep up to two batches per thread: one running, one waiting, no idle gap.
      let room = 2 * size - thread.unreported;
      if (room < size && thread.unreported > 0) continue;
      while (room > 0 && this.#queue.length > 0) {
        const head = this.#queue[0] as Slice;
        const hash = head.batch.module;
        const source = this.#ready.get(hash);
        if (source === undefined) {
          this.#fetchModule(hash);
          return;
        }
        if (!thread.modules.has(hash)) {
          thread.modules.add(hash);
          this.#post(thread, { type: 'module', hash, source });
        }
        let slice = head;
        if (head.to - head.from <= room) this.#queue.shift();
        else {
          slice = { ...head, to: head.from + room };
          head.from += room;
        }
        this.#hand(thread, slice);
        room -= slice.to - slice.from;
      }
    }
  }

  #hand(thread: Thread, slice: Slice): void {
    if (thread.unreported === 0) {
      thread.lastHeardAt = Date.now();
      thread.cursor = slice.from;
    }
    thread.inflight.push(slice);
    thread.unreported += slice.to - slice.from;
    const { batch, from, to } = slice;
    const whole = from === 0 && to === batch.leases.length;
    const column = <T>(values: T[]): T[] =>
      whole ? values : values.slice(from, to);
    this.#post(thread, {
      type: 'run',
      job: batch.job,
      module: batch.module,
      leases: column(batch.leases),
      indexes: column(batch.indexes),
      attempts: column(batch.attempts),
      inputs: column(batch.inputs),
      deadline: slice.deadline,
    });
  }

  #fetchModule(hash: string): void {
    if (this.#sources.has(hash)) return;
    const loading = this.#options.loadModule(hash);
    this.#sources.set(hash, loading);
    loading.then(
      (source) => {
        this.#ready.set(hash, source);
        this.#pump();
      },
      (error: unknown) => {
        this.#sources.delete(hash);
        // Tasks of a module we cannot load fail (and are retried on other workers).
        const message = `could not load the task module: ${(error as Error).message}`;
        this.#queue = this.#queue.filter((slice) => {
          if (slice.batch.module !== hash) return true;
          const failures = slice.batch.leases
            .slice(slice.from, slice.to)
            .map((lease) => ({
              lease,
              error: message,
              kind: 'error' as const,
            }));
          this.#pending -= failures.length;
          slice.onDone({ leases: [], outputs: [], failures });
          return false;
        });
        this.#pump();
      },
    );
  }

  #post(thread: Thread, message: ToThread): void {
    if (!thread.dead) thread.worker.postMessage(message);
  }
}

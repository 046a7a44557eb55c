/**
 * The one {@link Executor} of every worker: `threads` task threads (Node worker threads
 * or browser Web Workers, started by the host's `spawn`), each fed batches of tasks (a
 * thread hop per task would cap throughput), with
 * - crash blame: a thread that dies is blamed for exactly the task it was running (the
 *   shared slot says which); the rest of what it held runs again on a fresh thread;
 * - a watchdog: a task running past its `timeoutMs` (counted from when its thread
 *   started it, never from when it was queued) has its thread killed, reported as a
 *   crash;
 * - cancel of queued and running tasks (no outcome follows), progress forwarding for
 *   held leases only.
 *
 * Tasks stay in columns from the wire to the thread and back (slices of the frame's
 * task groups): no object per task, and a structured clone of a few arrays per batch.
 */
import { JsonText, checkedText } from '../json-text.js';
import type { Lease, TaskBatch } from '../protocol.js';
import type { FromThread, ToThread } from '../task-runner.js';
import type {
  CheckpointListener,
  Executor,
  ProgressListener,
} from '../worker-session.js';
import { BatchSizer, DEFAULT_MAX_BATCH, busyTotal } from './batch-size.js';
import { ModuleSources } from './modules.js';
import { forwardCheckpoint, forwardProgress } from './reports.js';
import { overdueTasks } from './watchdog.js';
import {
  rangeOf,
  runMessage,
  subSlice,
  type OnDone,
  type Slice,
} from './slice.js';
import {
  handTo,
  newThread,
  reportCrash,
  runningTask,
  settle,
  takeUnreported,
  unreportedIn,
  type RunningTask,
  type Thread,
} from './thread.js';
import type { ExecutorClock, TaskExecutorOptions } from './types.js';

export class TaskExecutor implements Executor {
  #slots: number;
  /** Hears `ctx.progress` of the tasks running in the threads (set by the session). */
  onProgress: ProgressListener | null = null;
  /** Hears `ctx.checkpoint(state)` of the tasks running in the threads (set by the session). */
  onCheckpoint: CheckpointListener | null = null;
  readonly #options: TaskExecutorOptions;
  readonly #clock: ExecutorClock;
  readonly #batchSize: BatchSizer;
  readonly #killSlackMs: number;
  readonly #modules: ModuleSources | null;
  #queue: Slice[] = [];
  readonly #threads: Thread[] = [];
  /** Leases cancelled while in a thread: their outcomes are dropped. */
  readonly #cancelled = new Set<Lease>();
  #pending = 0;
  #crashes = 0;
  #watchdog: unknown = null;
  #closed = false;
  /** Paused: no task starts; see {@link TaskExecutor.pause}. */
  #held = false;
  /** CPU share of every thread, percent. */
  #share = 100;

  constructor(options: TaskExecutorOptions) {
    this.#options = options;
    this.#clock = options.clock;
    this.#slots = Math.max(1, Math.floor(options.threads));
    this.#batchSize = new BatchSizer(
      options.maxBatch ?? DEFAULT_MAX_BATCH,
      options.targetBatchMs ?? 2,
    );
    this.#killSlackMs = options.killSlackMs ?? 200;
    this.#modules = options.loadModule
      ? new ModuleSources(options.loadModule)
      : null;
    for (let i = 0; i < this.#slots; i++) this.#threads.push(this.#spawn());
  }

  get slots(): number {
    return this.#slots;
  }

  /** Runs on `threads` threads: extra ones end once they answered for what they hold. */
  resize(threads: number): void {
    const want = Math.max(1, Math.floor(threads));
    if (this.#closed || want === this.#slots) return;
    this.#slots = want;
    const live = this.#threads.filter((t) => !t.dead && !t.retiring);
    for (let n = live.length; n < want; n++) this.#threads.push(this.#spawn());
    for (const thread of live.slice(want)) {
      thread.retiring = true;
      this.#retireIfIdle(thread);
    }
    this.#pump();
  }

  /** The CPU share of each thread, percent 1..100 (see shared/duty-cycle.ts). */
  setShare(percent: number): void {
    this.#share = percent;
    for (const thread of this.#threads)
      this.#post(thread, { type: 'share', percent });
  }

  /** Starts no more tasks: those not started come back `skipped`; running ones finish. */
  pause = (): void => this.#hold(true);
  resume = (): void => this.#hold(false);

  #hold(on: boolean): void {
    if (on === this.#held) return;
    this.#held = on;
    if (on) this.#skip(this.#queue.splice(0));
    for (const thread of this.#threads)
      this.#post(thread, { type: 'hold', on });
    this.#pump();
  }

  get pending(): number {
    return this.#pending;
  }

  /** Threads killed or lost (crash, overrun) since the start. */
  get crashes(): number {
    return this.#crashes;
  }

  submit(batch: TaskBatch, onDone: OnDone): void {
    const count = batch.leases.length;
    if (count === 0 || this.#closed) return;
    const deadline = this.#clock.now() + batch.timeoutMs;
    this.#queue.push({ batch, from: 0, to: count, deadline, onDone });
    this.#pending += count;
    this.#pump();
  }

  cancel(leases: readonly Lease[]): void {
    const wanted = new Set(leases);
    const keep = (lease: Lease) => !wanted.has(lease);
    const queue: Slice[] = [];
    for (const slice of this.#queue) {
      const kept = subSlice(slice, keep);
      this.#pending -= slice.to - slice.from - (kept ? kept.to - kept.from : 0);
      if (kept) queue.push(kept);
    }
    this.#queue = queue;
    for (const thread of this.#threads) this.#cancelInThread(thread, wanted);
  }

  cancelAll(): void {
    for (const slice of this.#queue) this.#pending -= slice.to - slice.from;
    this.#queue = [];
    for (const thread of this.#threads) this.#cancelInThread(thread, null);
  }

  /** Terminates every thread; the executor takes no more work and reports nothing. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#queue = [];
    this.#pending = 0;
    this.#cancelled.clear();
    if (this.#watchdog !== null) this.#clock.clearTimeout(this.#watchdog);
    this.#watchdog = null;
    await Promise.all(
      this.#threads.map((thread) => {
        thread.dead = true;
        return thread.handle.terminate();
      }),
    );
  }

  /** Marks the thread's unreported tasks in `wanted` (all if null) cancelled. */
  #cancelInThread(thread: Thread, wanted: Set<Lease> | null): void {
    const hit = unreportedIn(thread, wanted).filter(
      (lease) => !this.#cancelled.has(lease),
    );
    for (const lease of hit) this.#cancelled.add(lease);
    if (hit.length > 0) this.#post(thread, { type: 'cancel', leases: hit });
  }

  #spawn(): Thread {
    // The events name the thread object, which exists only once spawn returns.
    let thread: Thread | null = null;
    const handle = this.#options.spawn({
      onMessage: (message) => {
        if (thread) this.#onThreadMessage(thread, message);
      },
      onError: (reason) => {
        if (thread) this.#threadDied(thread, reason, null);
      },
    });
    thread = newThread(handle, this.#clock.now());
    if (this.#share !== 100)
      handle.post({ type: 'share', percent: this.#share });
    if (this.#held) handle.post({ type: 'hold', on: true });
    return thread;
  }

  /** Reports these queued tasks skipped (not started): each lease gets its `onDone`. */
  #skip(slices: readonly Slice[]): void {
    for (const slice of slices) {
      this.#pending -= slice.to - slice.from;
      const skipped = slice.batch.leases.slice(slice.from, slice.to);
      slice.onDone({ leases: [], outputs: [], failures: [], skipped });
    }
  }

  /** Ends a retiring thread once it holds nothing. */
  #retireIfIdle(thread: Thread): void {
    if (!thread.retiring || thread.unreported > 0) return;
    thread.dead = true;
    this.#threads.splice(this.#threads.indexOf(thread), 1);
    void Promise.resolve(thread.handle.terminate()).catch(() => undefined);
  }

  /** Output texts from threads are checked, unless the host checks them later. */
  readonly #asText = (value: unknown): JsonText | null =>
    this.#options.uncheckedTexts
      ? typeof value === 'string'
        ? new JsonText(value)
        : null
      : checkedText(value);

  /** Settled tasks leave `pending` before their `onDone` runs. */
  #release = (count: number): void => {
    this.#pending -= count;
  };

  #onThreadMessage(thread: Thread, message: FromThread): void {
    if (thread.dead) return;
    if (message.type !== 'outcomes') {
      const cancelled = this.#cancelled;
      if (message.type === 'progress')
        forwardProgress(thread, message, cancelled, this.onProgress);
      else if (message.type === 'checkpoint')
        forwardCheckpoint(thread, message, cancelled, this.onCheckpoint);
      return;
    }
    const now = this.#clock.now();
    const count = message.leases.length;
    // The outcomes are of the first slice the thread holds (they come in order).
    this.#batchSize.sample(
      thread.inflight[0]?.batch.module ?? '',
      busyTotal(message.busy, count) ?? now - thread.lastHeardAt,
      count,
    );
    thread.lastHeardAt = now;
    settle(
      thread,
      message,
      this.#cancelled,
      this.#release,
      () =>
        this.#options.onLog?.('ignored outcomes out of order from a thread'),
      this.#asText,
    );
    this.#retireIfIdle(thread);
    this.#pump();
  }

  /**
   * Replaces a dead (or killed) thread. The task it was running is reported as a
   * crash, unless it was cancelled or had not started within its lease; everything
   * else it held goes back to the front of the queue, cancelled tasks dropped.
   */
  #threadDied(
    thread: Thread,
    reason: string,
    running: RunningTask | null,
  ): void {
    if (thread.dead) return;
    thread.dead = true;
    this.#crashes++;
    void Promise.resolve(thread.handle.terminate()).catch(() => undefined);
    const culprit = running ?? runningTask(thread);
    const lease = culprit
      ? (culprit.slice.batch.leases[culprit.i] as Lease)
      : -1;
    const again: Slice[] = [];
    for (const range of takeUnreported(thread)) {
      const kept = subSlice(
        range,
        (l) => l !== lease && !this.#cancelled.delete(l),
      );
      const dropped = range.to - range.from - (kept ? kept.to - kept.from : 0);
      this.#pending -= dropped;
      if (kept) again.push(kept);
    }
    if (culprit && lease !== -1 && !this.#cancelled.delete(lease))
      reportCrash(culprit, lease, reason);
    if (this.#held) {
      // Paused: what the thread had not started is dropped like the queue was.
      this.#skip(again);
      again.length = 0;
    }
    this.#queue = again.concat(this.#queue);
    if (this.#closed) return;
    this.#options.onLog?.(`thread replaced: ${reason}`);
    const at = this.#threads.indexOf(thread);
    // A retiring thread that dies is not replaced: it was on its way out.
    if (at >= 0 && thread.retiring) this.#threads.splice(at, 1);
    else if (at >= 0) this.#threads[at] = this.#spawn();
    this.#pump();
  }

  /** Kills threads whose running task outlived its `timeoutMs` since it started. */
  #checkLeases = (): void => {
    this.#watchdog = null;
    const now = this.#clock.now();
    for (const { thread, running, reason } of overdueTasks(
      this.#threads,
      now,
      this.#killSlackMs,
    ))
      this.#threadDied(thread, reason, running);
    this.#armWatchdog();
  };

  /** Looks at the threads every `watchdogMs` while any of them holds tasks. */
  #armWatchdog(): void {
    if (this.#watchdog !== null || this.#closed) return;
    if (!this.#threads.some((thread) => thread.unreported > 0)) return;
    this.#watchdog = this.#clock.setTimeout(
      this.#checkLeases,
      this.#options.watchdogMs ?? 100,
    );
  }

  #pump(): void {
    if (this.#closed || this.#held) return;
    const size = this.#batchSize.size(this.#queue[0]?.batch.module ?? '');
    for (const thread of this.#threads) {
      if (thread.dead || thread.retiring) continue;
      // Keep up to two batches per thread: one running, one waiting, no idle gap.
      let room = 2 * size - thread.unreported;
      if (room < size && thread.unreported > 0) continue;
      while (room > 0 && this.#queue.length > 0) {
        const head = this.#queue[0] as Slice;
        if (!this.#deliverModule(thread, head.batch.module)) return;
        let slice = head;
        if (head.to - head.from <= room) this.#queue.shift();
        else {
          slice = rangeOf(head, head.from, head.from + room);
          head.from += room;
        }
        handTo(thread, slice, this.#clock.now());
        this.#post(thread, runMessage(slice));
        room -= slice.to - slice.from;
      }
    }
    this.#armWatchdog();
  }

  /** Posts the module's source to the thread once; false while it is being fetched. */
  #deliverModule(thread: Thread, hash: string): boolean {
    const modules = this.#modules;
    if (modules === null || thread.modules.has(hash)) return true;
    const source = modules.get(
      hash,
      () => this.#pump(),
      (_, error) => this.#moduleFailed(hash, error),
    );
    if (source === undefined) return false;
    thread.modules.add(hash);
    this.#post(thread, { type: 'module', hash, source });
    return true;
  }

  /** Tasks of a module we cannot load fail (and are retried on other workers). */
  #moduleFailed(hash: string, error: unknown): void {
    const message = `could not load the task module: ${(error as Error).message}`;
    this.#queue = this.#queue.filter((slice) => {
      if (slice.batch.module !== hash) return true;
      const failures = slice.batch.leases
        .slice(slice.from, slice.to)
        .map((lease) => ({ lease, error: message, kind: 'error' as const }));
      this.#pending -= failures.length;
      slice.onDone({ leases: [], outputs: [], failures });
      return false;
    });
    this.#pump();
  }

  #post(thread: Thread, message: ToThread): void {
    if (!thread.dead) thread.handle.post(message);
  }
}

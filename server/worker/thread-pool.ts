/**
 * The Node worker's executor: `threads` worker_threads, each fed batches of tasks (a
 * thread hop per task would cap throughput), with a watchdog that terminates a thread
 * whose task outlives its lease and a replacement for any thread that dies. The task
 * that killed a thread is reported as a `crash`; the rest of its batch runs elsewhere.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import type { TaskAssignment } from '../../shared/protocol.js';
import type { ExecOutcome, Executor } from '../../shared/worker-session.js';
import type {
  FromThread,
  ThreadTask,
  ToThread,
} from '../../shared/task-runner.js';

type OnDone = (task: TaskAssignment, outcome: ExecOutcome) => void;

interface Entry {
  task: TaskAssignment;
  onDone: OnDone;
  deadline: number;
  cancelled: boolean;
}

interface Thread {
  worker: Worker;
  inflight: Entry[];
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

export class ThreadPool implements Executor {
  readonly slots: number;
  #options: ThreadPoolOptions;
  #queue: Entry[] = [];
  #threads: Thread[] = [];
  #sources = new Map<string, Promise<string>>();
  #ready = new Map<string, string>();
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

  submit(tasks: readonly TaskAssignment[], onDone: OnDone): void {
    const now = Date.now();
    for (const task of tasks) {
      this.#queue.push({
        task,
        onDone,
        deadline: now + task.timeoutMs,
        cancelled: false,
      });
      this.#pending++;
    }
    this.#pump();
  }

  cancel(leases: readonly number[]): void {
    const wanted = new Set(leases);
    this.#queue = this.#queue.filter((entry) => {
      if (!wanted.has(entry.task.lease)) return true;
      this.#pending--;
      return false;
    });
    for (const thread of this.#threads) {
      const hit: number[] = [];
      for (const entry of thread.inflight) {
        if (wanted.has(entry.task.lease) && !entry.cancelled) {
          entry.cancelled = true;
          hit.push(entry.task.lease);
        }
      }
      if (hit.length > 0) this.#post(thread, { type: 'cancel', leases: hit });
    }
  }

  cancelAll(): void {
    this.#pending -= this.#queue.length;
    this.#queue = [];
    for (const thread of this.#threads) {
      const hit = thread.inflight
        .filter((e) => !e.cancelled)
        .map((e) => e.task.lease);
      for (const entry of thread.inflight) entry.cancelled = true;
      if (hit.length > 0) this.#post(thread, { type: 'cancel', leases: hit });
    }
  }

  /** Terminates every thread. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#watchdog);
    await Promise.all(this.#threads.map((thread) => thread.worker.terminate()));
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
    if (thread.dead || message.type !== 'outcomes') return;
    const now = Date.now();
    const count = message.outcomes.length;
    if (count > 0) {
      const sample = (now - thread.lastHeardAt) / count;
      this.#avgTaskMs =
        this.#avgTaskMs === 0 ? sample : this.#avgTaskMs * 0.8 + sample * 0.2;
    }
    thread.lastHeardAt = now;
    for (const outcome of message.outcomes) {
      // Outcomes come back in the order the thread was given them.
      const index = thread.inflight.findIndex(
        (e) => e.task.lease === outcome.lease,
      );
      if (index < 0) continue;
      const [entry] = thread.inflight.splice(index, 1) as [Entry];
      this.#pending--;
      if (entry.cancelled || 'skipped' in outcome) continue;
      entry.onDone(
        entry.task,
        outcome.ok
          ? { ok: true, output: outcome.output }
          : { ok: false, error: outcome.error, kind: 'error' },
      );
    }
    this.#pump();
  }

  #threadDied(thread: Thread, reason: string): void {
    if (thread.dead) return;
    thread.dead = true;
    void thread.worker.terminate();
    // The thread says which task it was running; outcomes it had not posted yet are
    // lost with it, so every other task goes back to the queue to run again.
    const runningLease = thread.running[0];
    const culpritAt = thread.inflight.findIndex(
      (e) => e.task.lease === runningLease,
    );
    const [culprit] =
      culpritAt >= 0 ? thread.inflight.splice(culpritAt, 1) : [];
    const rest = thread.inflight;
    thread.inflight = [];
    if (culprit) {
      this.#pending--;
      if (!culprit.cancelled)
        culprit.onDone(culprit.task, {
          ok: false,
          error: reason,
          kind: 'crash',
        });
    }
    const survivors = rest.filter((entry) => {
      if (entry.cancelled) this.#pending--;
      return !entry.cancelled;
    });
    this.#queue.unshift(...survivors);
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
      const entry = thread.inflight.find((e) => e.task.lease === lease);
      if (!entry) continue;
      // The thread wrote when this task started: kill it once it outlives its lease.
      if (
        now - (thread.running[1] as number) >
        entry.task.timeoutMs + KILL_SLACK_MS
      ) {
        this.#threadDied(
          thread,
          `the task ran past its lease of ${entry.task.timeoutMs} ms and its thread was terminated`,
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
      if (thread.dead || this.#queue.length === 0) continue;
      // Keep up to two batches per thread: one running, one waiting, no idle gap.
      const room = 2 * size - thread.inflight.length;
      if (room < size && thread.inflight.length > 0) continue;
      const batch: ThreadTask[] = [];
      while (batch.length < room && this.#queue.length > 0) {
        const entry = this.#queue[0] as Entry;
        const hash = entry.task.module;
        const source = this.#ready.get(hash);
        if (source === undefined) {
          this.#fetchModule(hash);
          break;
        }
        if (!thread.modules.has(hash)) {
          thread.modules.add(hash);
          this.#post(thread, { type: 'module', hash, source });
        }
        this.#queue.shift();
        if (thread.inflight.length === 0) thread.lastHeardAt = Date.now();
        thread.inflight.push(entry);
        const { task } = entry;
        batch.push({
          lease: task.lease,
          job: task.job,
          index: task.index,
          attempt: task.attempt,
          module: hash,
          input: task.input,
          deadline: entry.deadline,
        });
      }
      if (batch.length > 0) this.#post(thread, { type: 'run', tasks: batch });
    }
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
        this.#queue = this.#queue.filter((entry) => {
          if (entry.task.module !== hash) return true;
          this.#pending--;
          entry.onDone(entry.task, {
            ok: false,
            error: message,
            kind: 'error',
          });
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

/**
 * Checkpoints of the store's WAL off the event loop. SQLite's automatic checkpoint (every
 * 1,000 pages) runs inside the commit that crosses the mark: it copies the WAL's pages
 * into the database file and fsyncs it, milliseconds to tens of them during which the
 * master answers nobody. Here a worker thread with its own connection does that work on
 * a timer (PASSIVE: the master's commits go on meanwhile), and the master's connection
 * never checkpoints (wal_autocheckpoint = 0).
 *
 * A PASSIVE checkpoint copies what was committed when it began; while commits keep
 * coming, the WAL is never found wholly copied, so the writer never starts it over and
 * it would grow without end. Past `restartPages` the thread therefore takes a RESTART
 * checkpoint: it waits for the writer's lock (held for a commit's microseconds), copies
 * the few pages the last PASSIVE one left, and the next commit starts the WAL over.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../../log.js';

/** What one checkpoint reports (SQLite's `PRAGMA wal_checkpoint`). */
export interface CheckpointResult {
  /** 1 when it could not take the locks it needed (it is tried again later). */
  busy: number;
  /** Frames in the WAL. */
  log: number;
  /** Frames of it now copied to the database file. */
  checkpointed: number;
}

export interface CheckpointerOptions {
  /** The database file. */
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  /**
   * Time between two checkpoints: each that copies anything ends in an fsync, so about
   * as often as SQLite's own (every 1,000 pages) at a low rate. @defaultValue 1 000
   */
  everyMs?: number;
  /** WAL frames past which the WAL is started over. @defaultValue 2 000 */
  restartPages?: number;
  logger?: Logger;
  /** Told of each checkpoint's outcome (tests). */
  onCheckpoint?: (result: CheckpointResult) => void;
}

// The thread's code: CommonJS evaluated in the worker, so that the build needs no entry
// of its own. The state cell: 0 starting, 3 opening, 1 open, 2 closed or never opened,
// 4 closed by the master before the thread began to open (the master waits on it at
// close only while it is 3 or 1: a thread that has not begun never touches SQLite).
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const state = new Int32Array(workerData.state);
const settle = () => {
  Atomics.store(state, 0, 2);
  Atomics.notify(state, 0);
};
const open = () => {
  const Database = require(workerData.driver);
  // Waits this long for the writer's lock or for readers, then reports busy.
  const db = new Database(workerData.file, { fileMustExist: true, timeout: 50 });
  db.pragma('synchronous = ' + workerData.synchronous);
  db.pragma('wal_autocheckpoint = 0');
  return db;
};
let db;
if (Atomics.compareExchange(state, 0, 0, 3) !== 0) {
  // Closed before it began: nothing to open, nothing to wait for.
  parentPort.close();
} else {
  try {
    db = open();
  } catch (error) {
    // No checkpoints from here (the master logs why); the master's close must not wait.
    settle();
    parentPort.postMessage({ error: String(error) });
    parentPort.close();
  }
}
if (db !== undefined) {
  Atomics.store(state, 0, 1);
  // This thread only (Linux keeps a nice value per thread): a checkpoint copies pages
  // for milliseconds, and on a busy core the event loop answering workers goes first.
  // Set once open: at nice 10 on a loaded machine its start took seconds, and the
  // master's close waits for an open under way.
  try {
    require('node:os').setPriority(workerData.nice);
  } catch {
    // Not permitted here: the checkpoints run at the master's priority.
  }
  const run = () => {
    try {
      let [result] = db.pragma('wal_checkpoint(PASSIVE)');
      if (result.log >= workerData.restartPages)
        [result] = db.pragma('wal_checkpoint(RESTART)');
      parentPort.postMessage(result);
    } catch (error) {
      parentPort.postMessage({ error: String(error) });
    }
  };
  const timer = setInterval(run, workerData.everyMs);
  parentPort.on('message', (message) => {
    if (message === 'now') return run();
    clearInterval(timer);
    try {
      db.close();
    } finally {
      settle();
      parentPort.close();
    }
  });
}
`;

/**
 * The better-sqlite3 this process loaded (its cache knows the file even when this code
 * runs from a bundle outside the package's tree), else the one resolved from here.
 */
function driverPath(): string {
  const require = createRequire(import.meta.url);
  const loaded = Object.keys(require.cache).find((file) =>
    /[\\/]better-sqlite3[\\/]lib[\\/]index\.js$/.test(file),
  );
  return loaded ?? require.resolve('better-sqlite3');
}

/**
 * The thread's nice value: below the event loop, so that a checkpoint never takes turns
 * with it on a shared core, yet still about a tenth of a core when the master saturates one.
 */
const THREAD_NICE = 10;

/** Longest the master waits, at close, for the thread to start or finish a checkpoint. */
const CLOSE_WAIT_MS = 10_000;

export class WalCheckpointer {
  readonly #worker: Worker;
  readonly #state = new Int32Array(new SharedArrayBuffer(4));
  readonly #waiters: ((result: CheckpointResult) => void)[] = [];
  #closed = false;

  constructor(options: CheckpointerOptions) {
    const driver = driverPath();
    this.#worker = new Worker(THREAD_SOURCE, {
      eval: true,
      workerData: {
        state: this.#state.buffer,
        driver,
        file: options.file,
        synchronous: options.synchronous,
        everyMs: options.everyMs ?? 1_000,
        restartPages: options.restartPages ?? 2_000,
        nice: THREAD_NICE,
      },
    });
    // Never what keeps the process alive.
    this.#worker.unref();
    this.#worker.on(
      'message',
      (message: CheckpointResult | { error: string }) => {
        if ('error' in message) {
          options.logger?.warn({ err: message.error }, 'WAL checkpoint failed');
          return;
        }
        options.onCheckpoint?.(message);
        for (const resolve of this.#waiters.splice(0)) resolve(message);
      },
    );
    // A lost thread costs only checkpoints: the WAL then waits for the next start.
    this.#worker.on('error', (error) =>
      options.logger?.error({ err: error }, 'WAL checkpoint thread failed'),
    );
  }

  /** Runs a checkpoint now; resolves with its outcome (or the next one's). */
  checkpointNow(): Promise<CheckpointResult> {
    return new Promise((resolve) => {
      this.#waiters.push(resolve);
      this.#worker.postMessage('now');
    });
  }

  /**
   * Stops the thread. Its connection is closed before this returns (waiting out its
   * opening or a checkpoint under way; a thread that has not begun to open it never
   * will), so that the store's own close is the last one:
   * SQLite then checkpoints the whole WAL and removes it.
   *
   * The thread is never terminated: a SQLite error raised in a thread being terminated
   * aborts the whole process in better-sqlite3 (its exception cannot be created). When
   * the wait runs out, the thread closes its connection on its own once it reads the
   * message; it is unref'd, so it never holds the process open.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#worker.postMessage('close');
    // A thread that has not begun to open its connection never will: no wait for its
    // start (seconds on a loaded machine, with the event loop blocked meanwhile).
    if (Atomics.compareExchange(this.#state, 0, 0, 4) === 0) return;
    const deadline = Date.now() + CLOSE_WAIT_MS;
    for (;;) {
      const state = Atomics.load(this.#state, 0);
      const left = deadline - Date.now();
      if (state === 2 || left <= 0) return;
      Atomics.wait(this.#state, 0, state, left);
    }
  }
}

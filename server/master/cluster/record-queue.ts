/**
 * Group commit for cluster mode: the outcomes recorded in one event-loop turn (and while
 * the previous batch is in flight) go to the shared store in one `recordBatch`, each
 * fenced by its claim's token. `commit()` resolves once what was queued before it is
 * in the database, so acks to workers follow the commit as with SQLite.
 */
import type {
  ClusterStore,
  RecordBatchResult,
  RecordEntry,
} from '../store/postgres/cluster-store.js';

/** Largest batch per transaction: bounds the time the rows stay locked. */
const MAX_BATCH = 2_000;
/**
 * Least time between the starts of two batches while outcomes keep coming. Each batch
 * is a transaction that costs the master and the database far more than an entry:
 * batches sent back to back as soon as the previous one committed held ~10 entries of
 * 1 ms tasks, and their cost per task saturated two cores with two masters (50 ms:
 * ~60 entries per batch at 1,300 tasks/s; 100 ms halves the batches again). Workers do
 * not wait for it (their credit is not tied to acks); results are readable that much
 * later. A lone outcome after a quiet spell still goes at once.
 */
const LINGER_MS = 100;
/** Entries that are worth a batch without lingering. */
const FULL_BATCH = 500;
/** Wait before retrying a batch after a database error (entries are idempotent). */
const RETRY_MS = 500;

export interface RecordQueueOptions {
  store: ClusterStore;
  master: string;
  /** What the batch decided: fenced entries and completed jobs. */
  onResult: (
    entries: readonly RecordEntry[],
    result: RecordBatchResult,
  ) => void;
  onError: (error: unknown) => void;
}

interface Batch {
  entries: RecordEntry[];
  done: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
}

export class RecordQueue {
  readonly #options: RecordQueueOptions;
  #next: Batch | null = null;
  #inFlight: Promise<void> | null = null;
  #scheduled = false;
  #closed = false;
  /** When the last batch started (ms, the monotonic clock). */
  #lastFlush = -Infinity;

  constructor(options: RecordQueueOptions) {
    this.#options = options;
  }

  add(entry: RecordEntry): void {
    this.#batch().entries.push(entry);
    this.#schedule();
  }

  /** Resolves once every entry added so far is committed (or fenced). */
  commit(): Promise<void> {
    if (this.#next) return this.#next.done;
    return this.#inFlight ?? Promise.resolve();
  }

  /** Entries still waiting; a closing master flushes them first. */
  get pending(): number {
    return this.#next?.entries.length ?? 0;
  }

  close(): void {
    this.#closed = true;
  }

  #batch(): Batch {
    if (this.#next) return this.#next;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const done = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    // Callers that do not wait (a closing master) must not see an unhandled rejection.
    done.catch(() => undefined);
    this.#next = { entries: [], done, resolve, reject };
    return this.#next;
  }

  #schedule(): void {
    if (this.#scheduled || this.#inFlight) return;
    this.#scheduled = true;
    const run = () => {
      this.#scheduled = false;
      this.#flush();
    };
    const wait = this.#lastFlush + LINGER_MS - performance.now();
    if (wait > 0 && this.pending < FULL_BATCH && !this.#closed)
      setTimeout(run, wait);
    else setImmediate(run);
  }

  #flush(): void {
    const batch = this.#next;
    if (!batch || this.#inFlight) return;
    this.#next = null;
    this.#lastFlush = performance.now();
    const run = async () => {
      for (let from = 0; from < batch.entries.length; from += MAX_BATCH) {
        await this.#write(batch.entries.slice(from, from + MAX_BATCH));
      }
    };
    this.#inFlight = run().then(
      () => batch.resolve(),
      (error: unknown) => batch.reject(error),
    );
    void this.#inFlight.then(() => {
      this.#inFlight = null;
      if (this.#next) this.#schedule();
    });
  }

  /** Retries until the database answers: a fenced entry changes nothing twice. */
  async #write(entries: RecordEntry[]): Promise<void> {
    const { store, master, onResult, onError } = this.#options;
    for (;;) {
      try {
        const result = await store.recordBatch(master, entries);
        onResult(entries, result);
        return;
      } catch (error) {
        onError(error);
        if (this.#closed) throw error;
        await new Promise((r) => setTimeout(r, RETRY_MS));
      }
    }
  }
}

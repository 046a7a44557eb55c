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
    setImmediate(() => {
      this.#scheduled = false;
      this.#flush();
    });
  }

  #flush(): void {
    const batch = this.#next;
    if (!batch || this.#inFlight) return;
    this.#next = null;
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

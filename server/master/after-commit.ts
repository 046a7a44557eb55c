/**
 * What waits for the store's group commit: acks of workers' results (a worker never
 * forgets a result the master could still lose) and the wake-up of readers of results
 * and of a job's end (nothing uncommitted is ever read). The runtime owns one.
 *
 * Both go out on the event loop's next turn after the commit, not in the commit's own
 * turn: a commit runs (setImmediate) just after a worker's next tasks went out, so the
 * worker's answer usually arrives while it is written; sending acks (a socket write
 * each) and waking readers first would make that answer wait for them too, in the few
 * round trips that a commit already delays. Deferred, the answer is handled and the
 * next tasks sent first (poll phase), then the acks (check phase). An ack is only
 * later, never earlier than its commit.
 */
import type { Logger } from '../log.js';
import type { JobId, WorkerId } from './scheduler/types.js';
import type { Store } from './store/store.js';

/** Results of one worker waiting for the commit in flight, acked together. */
interface Unacked {
  commit: Promise<void>;
  count: number;
}

export class AfterCommit {
  readonly #store: Store;
  readonly #log: Logger;
  readonly #ack: (workerId: WorkerId, count: number) => void;
  readonly #committed: (results: Set<JobId>, finished: Set<JobId>) => void;
  /**
   * The job recorded since the last commitAndNotify, when there is one (most events):
   * one task at a time a set filled and cleared on every result made V8 give the
   * long-lived set a new table each time, in the old generation, which only a full
   * collection takes back. Other jobs of the same event go to the set.
   */
  #pendingJob: JobId | undefined = undefined;
  #pendingNotify = new Set<JobId>();
  #pendingFinished = new Set<JobId>();
  /** The commit in flight that readers' wake-up waits for, and the jobs it covers. */
  #waiting:
    | { commit: Promise<void>; notify: Set<JobId>; finished: Set<JobId> }
    | undefined;
  #unacked = new Map<WorkerId, Unacked>();
  /** Committed work whose acks and wake-ups wait for the next turn (one immediate). */
  #due: (() => void)[] = [];
  #dueScheduled = false;

  constructor(options: {
    store: Store;
    logger: Logger;
    /** Sends the ack of `count` durable results. */
    ack: (workerId: WorkerId, count: number) => void;
    /** Jobs with new results, and jobs whose end, are now committed. */
    committed: (results: Set<JobId>, finished: Set<JobId>) => void;
  }) {
    this.#store = options.store;
    this.#log = options.logger;
    this.#ack = options.ack;
    this.#committed = options.committed;
  }

  /** A result of the job was queued for the store. */
  recorded(jobId: JobId): void {
    if (this.#pendingJob === undefined) this.#pendingJob = jobId;
    else if (this.#pendingJob !== jobId) this.#pendingNotify.add(jobId);
  }

  /** The job's end was queued for the store. */
  finished(jobId: JobId): void {
    this.#pendingFinished.add(jobId);
  }

  /** The ack promises durability: it is sent only once the store has committed. */
  ack(workerId: WorkerId, count: number): void {
    const commit = this.#store.commit();
    const pending = this.#unacked.get(workerId);
    if (pending?.commit === commit) {
      pending.count += count;
      return;
    }
    const batch: Unacked = { commit, count };
    this.#unacked.set(workerId, batch);
    commit.then(
      () => {
        if (this.#unacked.get(workerId) === batch)
          this.#unacked.delete(workerId);
        this.#later(() => this.#ack(workerId, batch.count));
      },
      (error: unknown) =>
        this.#log.error({ err: error }, 'commit failed; results not acked'),
    );
  }

  /**
   * Group commit: what this event recorded is committed with everything else queued in
   * the same turn (the store coalesces); readers of results are woken only after the
   * commit, so nothing uncommitted is ever read.
   */
  commitAndNotify(): void {
    const job = this.#pendingJob;
    if (
      job === undefined &&
      this.#pendingNotify.size === 0 &&
      this.#pendingFinished.size === 0
    )
      return;
    this.#pendingJob = undefined;
    const commit = this.#store.commit();
    const waiting = this.#waiting;
    if (waiting?.commit === commit) {
      // Still the commit whose wake-up is set (one task at a time, every result comes
      // here): its sets take these jobs, with no new sets and callback for each.
      if (job !== undefined) waiting.notify.add(job);
      if (this.#pendingNotify.size > 0) {
        for (const jobId of this.#pendingNotify) waiting.notify.add(jobId);
        this.#pendingNotify.clear();
      }
      if (this.#pendingFinished.size > 0) {
        for (const jobId of this.#pendingFinished) waiting.finished.add(jobId);
        this.#pendingFinished.clear();
      }
      return;
    }
    const notify = this.#pendingNotify;
    if (job !== undefined) notify.add(job);
    const finished = this.#pendingFinished;
    this.#pendingNotify = new Set();
    this.#pendingFinished = new Set();
    this.#waiting = { commit, notify, finished };
    commit.then(
      () => this.#later(() => this.#committed(notify, finished)),
      (error: unknown) => {
        this.#log.error({ err: error }, 'store commit failed');
      },
    );
  }

  /** Runs `then` on the next turn of the event loop, after its pending I/O. */
  #later(then: () => void): void {
    this.#due.push(then);
    if (this.#dueScheduled) return;
    this.#dueScheduled = true;
    setImmediate(this.#runDue);
  }

  readonly #runDue = (): void => {
    const due = this.#due;
    this.#due = [];
    this.#dueScheduled = false;
    for (const then of due) {
      try {
        then();
      } catch (error) {
        // One failed send must not keep the others' acks back.
        this.#log.error({ err: error }, 'after-commit step failed');
      }
    }
  };
}

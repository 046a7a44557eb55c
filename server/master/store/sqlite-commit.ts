/**
 * The SQLite store's group commit: results, volunteers' credit and job ends queued
 * during one event-loop turn are written in one transaction, so that thousands of
 * results share one WAL write, and every `commit()` of that turn shares its promise.
 * Commits are also spaced in time (MIN_COMMIT_GAP_MS): one task at a time, a round trip
 * costs less than a transaction, and a commit landing between a `tasks` frame and the
 * worker's answer delays that answer; a commit per result nearly doubled the master's
 * CPU per task (and its ack frame is one more socket write). Spaced, one commit and one
 * ack serve the results of many round trips (a small batch waits longer while results
 * keep coming: SMALL_COMMIT_ROWS). Only acks and readers wait for it (never the next
 * task's dispatch), so the gap costs them at most that long.
 *
 * A commit always runs from setImmediate, after the poll phase: frames that already
 * arrived are handled (and the tasks they earn written) before it. A due commit is
 * started by the first `commit()` call past the gap, from the I/O callback of a result,
 * so that it runs right after that result's next task went out, while the worker is busy
 * with it; a timer that fired at a random moment would more often run it just as the
 * worker's answer comes, which then waits for the whole transaction. The timer remains
 * for when no frame comes (it too only schedules the commit after pending I/O).
 *
 * A commit that SQLite fails (SQLITE_BUSY past the busy timeout, a full disk) loses
 * nothing: the scheduler already counted its results done and their workers will not
 * send them again, so the batch is queued again and the same commit retried, later and
 * later, until it is written; its acks and readers wait for it meanwhile. Any other
 * error (a value that cannot be bound: a bug, which no retry mends and which would hold
 * back every later commit) drops the batch and rejects its callers.
 */
import type Database from 'better-sqlite3';
import type { QueuedResults, SqliteResults } from './sqlite-results.js';
import type { SqliteVolunteers } from './sqlite-volunteers.js';

interface QueuedFinish {
  jid: number;
  state: 'completed' | 'cancelled';
  at: number;
}

/** The commit that the current turn's `commit()` calls share. */
interface PendingCommit {
  promise: Promise<void>;
  resolve: () => void;
  reject: (error: unknown) => void;
  /** The timer waiting out the gap, if any. */
  timer: NodeJS.Timeout | undefined;
  /** The write is scheduled (setImmediate): nothing more to arm. */
  scheduled: boolean;
}

/** Least time between the starts of two commits (past it no gain was measurable). */
export const MIN_COMMIT_GAP_MS = 5;

/**
 * While results keep coming, a commit of fewer result rows than SMALL_COMMIT_ROWS and no
 * job end waits, up to SMALL_COMMIT_GAP_MS: one task at a time (credit 1), each commit
 * delays the one round trip it lands in by its whole transaction (the answer arrives
 * while it runs), so the share of round trips that wait is one per commit. Counted in
 * rows, that share stays under 1 in SMALL_COMMIT_ROWS whatever the pace; counted in
 * time (20 ms, as before), a slow or loaded machine's round trips took a commit every
 * few dozen trips, and the slowest 1% were nearly all of them. Busier streams pass the
 * mark within the short gap and keep it. When no commit() came for a while (QUIET_MS,
 * or QUIET_INTERVALS of the recent pace of calls if that is slower: on a loaded machine
 * a millisecond between results is no pause), the master is idle: the commit runs then,
 * delaying nobody (a caller that commits and waits keeps the short pace). This is
 * checked every MIN_COMMIT_GAP_MS until the long gap's end, so that a commit after the
 * last result of a run goes out within a few ms, not in the next run's first round
 * trips. A lone result after the long gap is committed at once.
 */
export const SMALL_COMMIT_ROWS = 512;
export const SMALL_COMMIT_GAP_MS = 100;
export const QUIET_MS = 1;
export const QUIET_INTERVALS = 8;

/** Wait before the first retry of a failed commit; doubled per failure up to the max. */
const RETRY_FIRST_MS = 50;
const RETRY_MAX_MS = 2_000;

/** Told of each failed commit and of how many failed in a row (it is retried). */
export type CommitFailed = (error: unknown, failures: number) => void;

export class SqliteGroupCommit {
  readonly #results: SqliteResults;
  readonly #volunteers: SqliteVolunteers;
  readonly #finish;
  readonly #writeQueued;
  #queuedFinishes: QueuedFinish[] = [];
  #pending: PendingCommit | undefined;
  /** When the last commit began, and when commit() was last called (performance.now()). */
  #lastCommitAt = -Infinity;
  #calledAt = -Infinity;
  /** The recent time between commit() calls of a stream (ms; see commit()). */
  #interval = 0;
  /** Commits that failed in a row, and when the next try is due (performance.now()). */
  #failures = 0;
  #retryAt = -Infinity;
  readonly #failed: CommitFailed;

  constructor(
    db: Database.Database,
    results: SqliteResults,
    volunteers: SqliteVolunteers,
    failed: CommitFailed = () => undefined,
  ) {
    this.#results = results;
    this.#volunteers = volunteers;
    this.#failed = failed;
    this.#finish = db.prepare<[string, number, number]>(
      // A finished job stays as it first finished.
      `UPDATE jobs SET state = ?, finished_at = ? WHERE jid = ? AND state = 'running'`,
    );
    this.#writeQueued = db.transaction(
      (rows: QueuedResults, finishes: QueuedFinish[]) => {
        this.#results.insert(rows);
        this.#volunteers.writeQueued();
        for (const { jid, state, at } of finishes)
          this.#finish.run(state, at, jid);
      },
    );
  }

  /** Queues a job's end; written by the next commit. */
  finish(jid: number, state: 'completed' | 'cancelled', at: number): void {
    this.#queuedFinishes.push({ jid, state, at });
  }

  commit(): Promise<void> {
    const now = performance.now();
    let pending = this.#pending;
    // The pace of a stream: calls that join a commit still waiting (a moving average of
    // 1/8 weight, a pause counting as the short gap at most). A caller that waits for
    // each commit before the next never joins one: for it the pace decays, and a
    // millisecond's quiet stays enough.
    this.#interval =
      pending === undefined
        ? this.#interval * (7 / 8)
        : this.#interval +
          (Math.min(now - this.#calledAt, MIN_COMMIT_GAP_MS) - this.#interval) /
            8;
    this.#calledAt = now;
    if (pending === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      pending = {
        promise,
        resolve,
        reject,
        timer: undefined,
        scheduled: false,
      };
      this.#pending = pending;
      // setImmediate, not a microtask: every socket callback of this poll phase gets
      // to queue its results before the one transaction runs; a timer when the last
      // commit is too recent.
      if (this.#isDue(now)) this.#schedule(pending);
      else this.#arm(pending, this.#earliest() - now);
    } else if (!pending.scheduled && this.#isDue(now)) {
      // Due, and called from this turn's I/O: run it once that I/O's frames are out.
      clearTimeout(pending.timer);
      pending.timer = undefined;
      this.#schedule(pending);
    }
    return pending.promise;
  }

  /**
   * Whether a commit() from I/O may start the commit now: past the short gap and a
   * failed one's backoff, and then for a big batch, a job end, or past the long gap.
   * (Never for a pause: results that resume after one would have the commit land in
   * the round trip that begins then.)
   */
  #isDue(now: number): boolean {
    return now >= this.#earliest() && this.#wantsNow(now, false);
  }

  /** Past the short gap: whether to commit now or wait out the long gap (see above). */
  #wantsNow(now: number, quiet: boolean): boolean {
    return (
      quiet ||
      this.#queuedFinishes.length > 0 ||
      now >= this.#lastCommitAt + SMALL_COMMIT_GAP_MS ||
      this.#results.queuedRows() >= SMALL_COMMIT_ROWS
    );
  }

  /** The soonest the next commit may start: the short gap, and a failed one's backoff. */
  #earliest(): number {
    return Math.max(this.#lastCommitAt + MIN_COMMIT_GAP_MS, this.#retryAt);
  }

  /**
   * Waits `wait` ms, then runs the commit if due by then (results paused: the master is
   * idle; or a big batch), else looks again a short gap later, up to the long gap's end
   * (I/O may start it sooner).
   */
  #arm(pending: PendingCommit, wait: number): void {
    pending.timer = setTimeout(() => {
      pending.timer = undefined;
      const now = performance.now();
      // Armed for a gap's end (a timer may fire a little before it, on the clock's
      // whole milliseconds): only the long gap is left to judge.
      const quiet =
        now - this.#calledAt >=
        Math.max(QUIET_MS, QUIET_INTERVALS * this.#interval);
      if (this.#wantsNow(now, quiet)) this.#schedule(pending);
      else {
        const next = Math.min(
          this.#lastCommitAt + SMALL_COMMIT_GAP_MS,
          now + MIN_COMMIT_GAP_MS,
        );
        this.#arm(pending, Math.max(next, this.#retryAt) - now);
      }
    }, wait);
  }

  #schedule(pending: PendingCommit): void {
    if (pending.scheduled) return;
    pending.scheduled = true;
    setImmediate(() => this.#flushPending(pending));
  }

  /**
   * Writes what is queued now and settles the commit in flight (the store is closing);
   * a failed write rejects it and throws.
   */
  close(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    clearTimeout(pending?.timer);
    try {
      this.#writeQueuedNow();
      pending?.resolve();
    } catch (error) {
      pending?.reject(error);
      throw error;
    }
  }

  #flushPending(pending: PendingCommit): void {
    // close() may have written and settled it already.
    if (this.#pending !== pending) return;
    this.#pending = undefined;
    try {
      this.#writeQueuedNow();
    } catch (error) {
      if (!isSqliteError(error)) {
        // Dropped: its callers learn it from the rejection; nothing of it was acked.
        pending.reject(error);
        return;
      }
      // The batch is queued again (see #writeQueuedNow): the same commit, still
      // pending, is tried again after a backoff, with whatever was queued since.
      this.#failures++;
      const delay = Math.min(
        RETRY_FIRST_MS * 2 ** (this.#failures - 1),
        RETRY_MAX_MS,
      );
      this.#retryAt = performance.now() + delay;
      this.#pending = pending;
      pending.scheduled = false;
      pending.timer = setTimeout(() => {
        pending.timer = undefined;
        this.#schedule(pending);
      }, delay);
      this.#failed(error, this.#failures);
      return;
    }
    this.#failures = 0;
    this.#retryAt = -Infinity;
    pending.resolve();
  }

  #writeQueuedNow(): void {
    if (
      !this.#results.hasQueued() &&
      this.#queuedFinishes.length === 0 &&
      !this.#volunteers.hasQueued()
    )
      return;
    this.#lastCommitAt = performance.now();
    const results = this.#results.takeQueued();
    const finishes = this.#queuedFinishes;
    this.#queuedFinishes = [];
    try {
      this.#writeQueued(results, finishes);
    } catch (error) {
      // Rolled back by SQLite: the results and job ends go back to the queue, ahead of
      // anything queued since, for the next try (the scheduler already counted them).
      // Their volunteers' credit too: it goes with the results that earned it.
      const retry = isSqliteError(error);
      if (retry) {
        this.#results.requeue(results);
        this.#queuedFinishes = finishes.concat(this.#queuedFinishes);
      }
      this.#volunteers.settle(retry ? 'retry' : 'dropped');
      throw error;
    }
    this.#volunteers.settle('committed');
  }
}

/** An error of SQLite itself (better-sqlite3's SqliteError: SQLITE_BUSY, SQLITE_FULL..). */
function isSqliteError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('SQLITE_');
}

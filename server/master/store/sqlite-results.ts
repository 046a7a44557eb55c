/**
 * The results of the SQLite store: queued in memory as flat rows in column order, written
 * by the store's group commit with multi-row INSERTs, read back in seq order.
 */
import type Database from 'better-sqlite3';
import { ErrorCode } from '../../../shared/errors.js';
import { TaskMark } from '../scheduler/types.js';
import type { EncodedValue, StoredOutcome, StoredResult } from './store.js';
import type { Bindable } from './sqlite-rows.js';
import {
  ROWS_LOG2,
  fromSql,
  insertRows,
  prepareRowInserts,
} from './sqlite-rows.js';

/** Values per queued result row: jid, seq, idx, ok, output, error, code. */
const RESULT_WIDTH = 7;

/** Values per queued chunk: the rows of one statement of the largest multi-row INSERT. */
const CHUNK_VALUES = (1 << ROWS_LOG2) * RESULT_WIDTH;

/**
 * Queued result rows: chunks of {@link CHUNK_VALUES} values (the last may be shorter),
 * flat and in column order. Small chunks rather than one array per commit: thousands of
 * rows in one array grew it through copies into V8's large-object space on every commit,
 * and a full chunk is bound to its statement as it is.
 */
export type QueuedResults = Bindable[][];

type ResultRow = [
  seq: number,
  idx: number,
  ok: number,
  output: EncodedValue | null,
  error: string | null,
  code: string | null,
];

/**
 * Reads and writes the `results` table. Invariants: a task has at most one result row
 * (UNIQUE(jid, idx), the first insert wins); a result's seq is above every seq in the
 * file before it (gaps are fine).
 */
export class SqliteResults {
  /**
   * Queued result rows, already in column order (RESULT_WIDTH values each): no object
   * per result, and nothing to re-encode when they are written.
   */
  #queued: QueuedResults = [];
  /** The chunk being filled (the last of `#queued`), and the values in it. */
  #open: Bindable[] | undefined = undefined;
  #filled = 0;
  /** The last seq given to a result (written or queued); the next one is above it. */
  #lastSeq = 0;

  readonly #insert;
  readonly #after;
  readonly #marksOf;
  readonly #lastSeqOf;

  constructor(db: Database.Database) {
    this.#insert = prepareRowInserts(
      db,
      'INSERT OR IGNORE INTO results (jid, seq, idx, ok, output, error, code)',
      '(?, ?, ?, ?, ?, ?, ?)',
    );
    this.#after = db
      .prepare<[number, number, number], ResultRow>(
        `SELECT seq, idx, ok, output, error, code FROM results
         WHERE jid = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .raw();
    // One number per row (idx * 4 + mark) rather than a row object: restoring a
    // 1,000,000-task job allocates nothing per task that outlives its iteration.
    this.#marksOf = db
      .prepare<[number], number>(
        `SELECT idx * 4 + (CASE ok WHEN 1 THEN ${TaskMark.Done} ELSE ${TaskMark.Failed} END)
         FROM results WHERE jid = ?`,
      )
      .pluck();
    // The largest seq per job is the last entry of its (jid, seq) range: one seek each,
    // where MAX(seq) over the whole table would read all of it.
    this.#lastSeqOf = db
      .prepare<[number], number | null>(
        'SELECT MAX(seq) FROM results WHERE jid = ?',
      )
      .pluck();
  }

  /** On open: the next seq goes above every seq of job `jid` in the file. */
  seeJob(jid: number): void {
    this.#lastSeq = Math.max(this.#lastSeq, this.#lastSeqOf.get(jid) ?? 0);
  }

  /** Queues a result of task `index` of job `jid` (checked by the caller). */
  queue(jid: number, index: number, outcome: StoredOutcome): void {
    // A repeat still takes a seq, which is then never written: a gap, which readers
    // paging by `seq > cursor` do not notice.
    const seq = ++this.#lastSeq;
    let q = this.#open;
    let n = this.#filled;
    if (q === undefined || n === CHUNK_VALUES) {
      // Allocated at its full size once, rather than grown by copies.
      q = new Array<Bindable>(CHUNK_VALUES);
      this.#open = q;
      this.#queued.push(q);
      n = 0;
    }
    this.#filled = n + RESULT_WIDTH;
    // Stores by index, not push(...7 values): a push of several values takes V8's
    // generic path, which cost several times this on the master's hottest line.
    q[n] = jid;
    q[n + 1] = seq;
    q[n + 2] = index;
    if (outcome.ok) {
      q[n + 3] = 1;
      q[n + 4] = outcome.output;
      q[n + 5] = null;
      q[n + 6] = null;
    } else {
      q[n + 3] = 0;
      q[n + 4] = null;
      q[n + 5] = outcome.error;
      q[n + 6] = outcome.code;
    }
  }

  /** The queued rows, handed over to be written with {@link insert}; none left queued. */
  takeQueued(): QueuedResults {
    const rows = this.#queued;
    // The last chunk ends where it was filled.
    if (this.#open !== undefined) this.#open.length = this.#filled;
    this.#queued = [];
    this.#open = undefined;
    this.#filled = 0;
    return rows;
  }

  /**
   * Puts rows taken with {@link takeQueued} back ahead of everything queued since: their
   * transaction rolled back, and the next commit writes them (in seq order still, and
   * no reader has seen a seq above theirs, since nothing was committed in between).
   */
  requeue(rows: QueuedResults): void {
    if (rows.length > 0) this.#queued = [...rows, ...this.#queued];
  }

  /** Inserts rows taken from the queue (inside the caller's transaction). */
  insert(rows: QueuedResults): void {
    const full = this.#insert[ROWS_LOG2]!;
    for (const chunk of rows) {
      if (chunk.length === CHUNK_VALUES) full.run(...chunk);
      else insertRows(this.#insert, chunk, RESULT_WIDTH);
    }
  }

  hasQueued(): boolean {
    return this.#queued.length > 0;
  }

  /** How many result rows are queued (a handful of chunks to sum, never a row each). */
  queuedRows(): number {
    let values = 0;
    for (const chunk of this.#queued)
      values += chunk === this.#open ? this.#filled : chunk.length;
    return values / RESULT_WIDTH;
  }

  /** Results of job `jid` with `seq > afterSeq`, in seq order, at most `limit`. */
  read(jid: number, afterSeq: number, limit: number): StoredResult[] {
    return this.#after
      .all(jid, afterSeq, limit)
      .map(([seq, index, ok, output, error, code]) => ({
        seq,
        index,
        outcome:
          ok === 1
            ? { ok: true, output: fromSql(output ?? '') }
            : {
                ok: false,
                error: error ?? '',
                // Every failure row has a code since schema 3 (migrated rows too).
                code: (code ?? ErrorCode.TaskFailed) as ErrorCode,
              },
      }));
  }

  /** One TaskMark per task of job `jid`: done, failed, or open (0) without a result. */
  marks(jid: number, taskCount: number): Uint8Array {
    const marks = new Uint8Array(taskCount);
    for (const packed of this.#marksOf.iterate(jid))
      marks[Math.floor(packed / 4)] = packed % 4;
    return marks;
  }
}

/**
 * The durable {@link Store}: one SQLite file (better-sqlite3, WAL) at `<dir>/colony.db`.
 *
 * Job-shaped writes (`createJob`, `appendInputs`, `sealJob`, `putModule`) are durable on
 * return. Results and job ends are queued and written by `commit()` in one transaction
 * per event-loop turn (group commit), so that thousands of results share one WAL write.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import type { JobState } from '../../../shared/protocol.js';
import type { JobId, JobSpec } from '../scheduler/types.js';
import { TaskMark } from '../scheduler/types.js';
import type {
  EncodedValue,
  RestoredJob,
  Store,
  StoredOutcome,
  StoredResult,
} from './store.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Directory of the database file `colony.db`; created if missing. */
  dir: string;
  /**
   * `normal` survives a crash of the process (kill -9); `full` also survives a power
   * loss, at the cost of an fsync per commit. @defaultValue 'normal'
   */
  fsync?: 'normal' | 'full';
}

/** Bumped on any change of the schema below; a file of another version is refused. */
const SCHEMA_VERSION = 1;

// Integer job keys (`jid`) keep the per-task rows small: a 1,000,000-task job would
// otherwise repeat its id string in every input and result row and index entry.
// `value`/`output` are declared BLOB because BLOB affinity converts nothing: a text
// value stays TEXT (the input '42' must not turn into the integer 42) and bytes stay BLOB.
const SCHEMA = `
CREATE TABLE IF NOT EXISTS modules (
  hash TEXT PRIMARY KEY,
  source TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS jobs (
  jid INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  spec TEXT NOT NULL,
  task_count INTEGER NOT NULL,
  sealed INTEGER NOT NULL,
  state TEXT NOT NULL,
  finished_at INTEGER
);
CREATE TABLE IF NOT EXISTS inputs (
  jid INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (jid, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS results (
  seq INTEGER PRIMARY KEY,
  jid INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  output BLOB,
  error TEXT,
  UNIQUE (jid, idx)
);
CREATE INDEX IF NOT EXISTS results_by_job_seq ON results (jid, seq);
`;

/** What the store keeps in memory per job, to validate calls without a query. */
interface JobEntry {
  jid: number;
  taskCount: number;
  sealed: boolean;
}

/**
 * Rows per multi-row INSERT: statements of 2^k rows for k = 0..ROWS_LOG2 (64 rows, well
 * under SQLite's limit of bound variables). A batch of n rows takes about n / 64 + log2(64)
 * statement steps: one step per row costs about twice as much per row.
 */
const ROWS_LOG2 = 6;

/** A value bound to a `?` of the row INSERTs. */
type Bindable = number | EncodedValue | null;

/** Statements inserting 1, 2, 4, .. 2^ROWS_LOG2 rows of `row` (e.g. `(?, ?, ?)`). */
function prepareRowInserts(
  db: Database.Database,
  head: string,
  row: string,
): Database.Statement<Bindable[]>[] {
  const statements: Database.Statement<Bindable[]>[] = [];
  for (let k = 0; k <= ROWS_LOG2; k++) {
    statements.push(
      db.prepare<Bindable[]>(
        `${head} VALUES ${Array<string>(1 << k)
          .fill(row)
          .join(', ')}`,
      ),
    );
  }
  return statements;
}

/**
 * Inserts the rows of `values` (flat: `width` values per row, in column order) with the
 * fewest statements of {@link prepareRowInserts}. (Spread arguments bind faster than one
 * array argument in better-sqlite3.)
 */
function insertRows(
  statements: readonly Database.Statement<Bindable[]>[],
  values: readonly Bindable[],
  width: number,
): void {
  const rows = values.length / width;
  let at = 0;
  for (let k = statements.length - 1; k >= 0; k--) {
    const n = 1 << k;
    const statement = statements[k]!;
    for (; rows - at >= n; at += n)
      statement.run(...values.slice(at * width, (at + n) * width));
  }
}

/** Inputs bound per {@link insertRows} call when a job's inputs are written. */
const INPUT_BLOCK = 4096;

/** Values per queued result row: jid, idx, ok, output, error. */
const RESULT_WIDTH = 5;

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
}

type JobRow = [
  jid: number,
  id: string,
  spec: string,
  taskCount: number,
  sealed: number,
  state: string,
  finishedAt: number | null,
];
type ResultRow = [
  seq: number,
  idx: number,
  ok: number,
  output: EncodedValue | null,
  error: string | null,
];

/**
 * SQLite store. Invariants: a task has at most one result row (UNIQUE(jid, idx), the
 * first insert wins); inputs of a job are exactly tasks 0..task_count-1; the in-memory
 * job table mirrors the `jobs` rows. Not safe for two processes on one file: the master
 * is the only writer.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #jobs = new Map<JobId, JobEntry>();
  /**
   * Queued result rows, flat and already in column order (RESULT_WIDTH values each): no
   * object per result, and nothing to re-encode when they are written.
   */
  #queuedResults: Bindable[] = [];
  #queuedFinishes: QueuedFinish[] = [];
  #pending: PendingCommit | undefined;
  #closed = false;

  readonly #putModule;
  readonly #getModule;
  readonly #insertJob;
  readonly #setTaskCount;
  readonly #seal;
  readonly #inputRange;
  readonly #inputOne;
  readonly #insertResults;
  readonly #insertInputs;
  readonly #finish;
  readonly #resultsAfter;
  readonly #allJobs;
  readonly #marksOf;
  readonly #writeQueued;

  constructor(options: SqliteStoreOptions) {
    fs.mkdirSync(options.dir, { recursive: true });
    const db = new Database(path.join(options.dir, 'colony.db'));
    this.#db = db;
    try {
      db.pragma('journal_mode = WAL');
      // In WAL mode NORMAL loses no commit when the process dies (the WAL is written
      // before COMMIT returns); only FULL fsyncs it against power loss.
      db.pragma(
        `synchronous = ${options.fsync === 'full' ? 'FULL' : 'NORMAL'}`,
      );
      db.pragma('busy_timeout = 5000');
      // Integrity of job references is checked in memory before anything is queued,
      // so that one bad call throws at its caller instead of failing a group commit.
      db.pragma('foreign_keys = OFF');
      db.pragma('cache_size = -32768');
      db.pragma('temp_store = MEMORY');
      // Keeps the WAL file from staying huge after a burst of inputs.
      db.pragma('journal_size_limit = 67108864');
      migrate(db);
    } catch (error) {
      db.close();
      throw error;
    }

    this.#putModule = db.prepare<[string, string]>(
      'INSERT OR IGNORE INTO modules (hash, source) VALUES (?, ?)',
    );
    this.#getModule = db
      .prepare<[string], string>('SELECT source FROM modules WHERE hash = ?')
      .pluck();
    this.#insertJob = db.prepare<[string, string, number, number]>(
      `INSERT INTO jobs (id, spec, task_count, sealed, state, finished_at)
       VALUES (?, ?, ?, ?, 'running', NULL)`,
    );
    this.#insertInputs = prepareRowInserts(
      db,
      'INSERT INTO inputs (jid, idx, value)',
      '(?, ?, ?)',
    );
    this.#insertResults = prepareRowInserts(
      db,
      'INSERT OR IGNORE INTO results (jid, idx, ok, output, error)',
      '(?, ?, ?, ?, ?)',
    );
    this.#setTaskCount = db.prepare<[number, number]>(
      'UPDATE jobs SET task_count = ? WHERE jid = ?',
    );
    this.#seal = db.prepare<[number]>(
      'UPDATE jobs SET sealed = 1 WHERE jid = ?',
    );
    this.#inputRange = db
      .prepare<[number, number, number], EncodedValue>(
        'SELECT value FROM inputs WHERE jid = ? AND idx BETWEEN ? AND ? ORDER BY idx',
      )
      .pluck();
    this.#inputOne = db
      .prepare<[number, number], EncodedValue>(
        'SELECT value FROM inputs WHERE jid = ? AND idx = ?',
      )
      .pluck();
    this.#finish = db.prepare<[string, number, number]>(
      // A finished job stays as it first finished.
      `UPDATE jobs SET state = ?, finished_at = ? WHERE jid = ? AND state = 'running'`,
    );
    this.#resultsAfter = db
      .prepare<[number, number, number], ResultRow>(
        `SELECT seq, idx, ok, output, error FROM results
         WHERE jid = ? AND seq > ? ORDER BY seq LIMIT ?`,
      )
      .raw();
    this.#allJobs = db
      .prepare<[], JobRow>(
        'SELECT jid, id, spec, task_count, sealed, state, finished_at FROM jobs ORDER BY jid',
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
    this.#writeQueued = db.transaction(
      (results: readonly Bindable[], finishes: QueuedFinish[]) => {
        insertRows(this.#insertResults, results, RESULT_WIDTH);
        for (const { jid, state, at } of finishes)
          this.#finish.run(state, at, jid);
      },
    );

    for (const [jid, id, , taskCount, sealed] of this.#allJobs.all()) {
      this.#jobs.set(id, { jid, taskCount, sealed: sealed === 1 });
    }
  }

  /** Inserts inputs as tasks first.. in multi-row statements (inside a transaction). */
  #insertInputRows(
    jid: number,
    first: number,
    inputs: readonly EncodedValue[],
  ): void {
    // In blocks, so that a huge job does not build one huge parameter array.
    const values: Bindable[] = [];
    for (let start = 0; start < inputs.length; start += INPUT_BLOCK) {
      const end = Math.min(start + INPUT_BLOCK, inputs.length);
      values.length = 0;
      for (let i = start; i < end; i++) values.push(jid, first + i, inputs[i]!);
      insertRows(this.#insertInputs, values, 3);
    }
  }

  putModule(hash: string, source: string): void {
    this.#assertOpen();
    this.#putModule.run(hash, source);
  }

  getModule(hash: string): string | undefined {
    this.#assertOpen();
    return this.#getModule.get(hash);
  }

  createJob(spec: JobSpec, inputs: readonly EncodedValue[]): void {
    this.#assertOpen();
    if (this.#jobs.has(spec.id))
      throw new Error(`job ${spec.id} already exists`);
    if (spec.taskCount !== inputs.length) {
      throw new RangeError(
        `job ${spec.id}: taskCount ${spec.taskCount} but ${inputs.length} inputs`,
      );
    }
    // taskCount and sealed change later: they live in their own columns only.
    const { taskCount: _taskCount, sealed: _sealed, ...fixed } = spec;
    const jid = this.#db.transaction(() => {
      const { lastInsertRowid } = this.#insertJob.run(
        spec.id,
        JSON.stringify(fixed),
        inputs.length,
        spec.sealed ? 1 : 0,
      );
      const jid = Number(lastInsertRowid);
      this.#insertInputRows(jid, 0, inputs);
      return jid;
    })();
    this.#jobs.set(spec.id, {
      jid,
      taskCount: inputs.length,
      sealed: spec.sealed,
    });
  }

  appendInputs(
    jobId: JobId,
    firstIndex: number,
    inputs: readonly EncodedValue[],
  ): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    if (job.sealed) throw new Error(`job ${jobId} is sealed`);
    if (firstIndex !== job.taskCount) {
      throw new RangeError(
        `job ${jobId}: inputs must continue at ${job.taskCount}, not ${firstIndex}`,
      );
    }
    const taskCount = firstIndex + inputs.length;
    this.#db.transaction(() => {
      this.#insertInputRows(job.jid, firstIndex, inputs);
      this.#setTaskCount.run(taskCount, job.jid);
    })();
    job.taskCount = taskCount;
  }

  sealJob(jobId: JobId): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    if (job.sealed) return;
    this.#seal.run(job.jid);
    job.sealed = true;
  }

  getInputs(jobId: JobId, indices: readonly number[]): EncodedValue[] {
    this.#assertOpen();
    const { jid } = this.#job(jobId);
    const out: EncodedValue[] = [];
    // Dispatch asks mostly for ascending runs: one range scan per run instead of one
    // lookup per task.
    let start = 0;
    while (start < indices.length) {
      const first = indices[start]!;
      let end = start + 1;
      while (end < indices.length && indices[end] === indices[end - 1]! + 1)
        end++;
      if (end - start === 1) {
        const value = this.#inputOne.get(jid, first);
        if (value === undefined)
          throw new RangeError(`job ${jobId} has no input ${first}`);
        out.push(fromSql(value));
      } else {
        const last = indices[end - 1]!;
        const values = this.#inputRange.all(jid, first, last);
        if (values.length !== end - start) {
          throw new RangeError(
            `job ${jobId} lacks inputs in ${first}..${last}`,
          );
        }
        if (end - start === indices.length) {
          // One run (the usual batch): the query's own array is the answer.
          for (let k = 0; k < values.length; k++) {
            const value = values[k]!;
            if (typeof value !== 'string') values[k] = fromSql(value);
          }
          return values;
        }
        for (const value of values) out.push(fromSql(value));
      }
      start = end;
    }
    return out;
  }

  recordResult(jobId: JobId, index: number, outcome: StoredOutcome): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    if (!Number.isInteger(index) || index < 0 || index >= job.taskCount) {
      throw new RangeError(
        `job ${jobId} has no task ${index} (taskCount ${job.taskCount})`,
      );
    }
    if (outcome.ok)
      this.#queuedResults.push(job.jid, index, 1, outcome.output, null);
    else this.#queuedResults.push(job.jid, index, 0, null, outcome.error);
  }

  finishJob(jobId: JobId, state: 'completed' | 'cancelled', at: number): void {
    this.#assertOpen();
    this.#queuedFinishes.push({ jid: this.#job(jobId).jid, state, at });
  }

  commit(): Promise<void> {
    // close() wrote everything queued before it, and nothing can be queued after it.
    if (this.#closed) return Promise.resolve();
    if (this.#pending === undefined) {
      let resolve!: () => void;
      let reject!: (error: unknown) => void;
      const promise = new Promise<void>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      this.#pending = { promise, resolve, reject };
      // setImmediate, not a microtask: every socket callback of this poll phase gets
      // to queue its results before the one transaction runs.
      setImmediate(() => this.#flushPending());
    }
    return this.#pending.promise;
  }

  readResults(jobId: JobId, afterSeq: number, limit: number): StoredResult[] {
    this.#assertOpen();
    const job = this.#jobs.get(jobId);
    if (job === undefined || limit <= 0) return [];
    return this.#resultsAfter
      .all(job.jid, afterSeq, limit)
      .map(([seq, index, ok, output, error]) => ({
        seq,
        index,
        outcome:
          ok === 1
            ? { ok: true, output: fromSql(output ?? '') }
            : { ok: false, error: error ?? '' },
      }));
  }

  loadJobs(): RestoredJob[] {
    this.#assertOpen();
    const jobs: RestoredJob[] = [];
    for (const [
      jid,
      ,
      specText,
      taskCount,
      sealed,
      state,
      finishedAt,
    ] of this.#allJobs.all()) {
      const marks = new Uint8Array(taskCount);
      for (const packed of this.#marksOf.iterate(jid))
        marks[Math.floor(packed / 4)] = packed % 4;
      const fixed = JSON.parse(specText) as Omit<
        JobSpec,
        'taskCount' | 'sealed'
      >;
      jobs.push({
        spec: { ...fixed, taskCount, sealed: sealed === 1 },
        state: state as JobState,
        finishedAt,
        marks,
      });
    }
    return jobs;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#pending;
    this.#pending = undefined;
    try {
      this.#writeQueuedNow();
      pending?.resolve();
    } catch (error) {
      pending?.reject(error);
      throw error;
    } finally {
      this.#db.close();
    }
  }

  #flushPending(): void {
    const pending = this.#pending;
    // close() may have written and settled it already.
    if (pending === undefined) return;
    this.#pending = undefined;
    try {
      this.#writeQueuedNow();
    } catch (error) {
      // The batch is dropped: its callers learn it from the rejection, and nothing of
      // it was acknowledged.
      pending.reject(error);
      return;
    }
    pending.resolve();
  }

  #writeQueuedNow(): void {
    if (this.#queuedResults.length === 0 && this.#queuedFinishes.length === 0)
      return;
    const results = this.#queuedResults;
    const finishes = this.#queuedFinishes;
    this.#queuedResults = [];
    this.#queuedFinishes = [];
    this.#writeQueued(results, finishes);
  }

  #job(jobId: JobId): JobEntry {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new Error(`no job ${jobId}`);
    return job;
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error('the store is closed');
  }
}

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version !== 0) {
    throw new Error(
      `${db.name} has schema version ${version}; this colony expects ${SCHEMA_VERSION}`,
    );
  }
  db.transaction(() => {
    db.exec(SCHEMA);
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/** better-sqlite3 returns BLOBs as Buffers; callers get plain Uint8Array views. */
function fromSql(value: EncodedValue): EncodedValue {
  return typeof value === 'string'
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

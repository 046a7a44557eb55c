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
import { ErrorCode } from '../../../shared/errors.js';
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

/**
 * Bumped on any change of the schema below. A file of version 1 or 2 is migrated on open
 * (see {@link migrate}); a file of any other version is refused.
 */
const SCHEMA_VERSION = 3;

// Integer job keys (`jid`) keep the per-task rows small: a 1,000,000-task job would
// otherwise repeat its id string in every input and result row and index entry.
// `value`/`output` are declared BLOB because BLOB affinity converts nothing: a text
// value stays TEXT (the input '42' must not turn into the integer 42) and bytes stay BLOB.
//
// `inputs` holds chunks of consecutive inputs, tasks first..first+count-1 (see
// {@link ChunkWriter}): a row of count 1 is that input as is (text or bytes); a row of
// count > 1 is the inputs' texts joined with '\n', which none of them contains.
// Not WITHOUT ROWID: a chunk row is kilobytes, and in a WITHOUT ROWID (index) B-tree
// every key comparison of a seek on a row that overflows its page reads the whole row
// (measured: 20 us a seek, against 3 us through the small (jid, first) index and the
// rowid table, whose interior pages hold only integers). The index costs one entry per
// chunk, not per input.
// `results` is keyed by (jid, seq), seq assigned by the store, so that a job's results
// are read in seq order from the table itself; UNIQUE (jid, idx) makes the first result
// of a task win (INSERT OR IGNORE). Two B-trees per result row, no rowid.
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
  first INTEGER NOT NULL,
  count INTEGER NOT NULL,
  value BLOB NOT NULL,
  PRIMARY KEY (jid, first)
);
CREATE TABLE IF NOT EXISTS results (
  jid INTEGER NOT NULL,
  seq INTEGER NOT NULL,
  idx INTEGER NOT NULL,
  ok INTEGER NOT NULL,
  output BLOB,
  error TEXT,
  code TEXT,
  PRIMARY KEY (jid, seq),
  UNIQUE (jid, idx)
) WITHOUT ROWID;
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

/** Inputs per chunk row at most. */
const CHUNK_INPUTS = 256;
/**
 * Text per chunk row at most, separators included, in UTF-16 code units (bytes, for
 * ASCII JSON). An input longer than this goes alone in its own row.
 */
const CHUNK_CHARS = 256 * 1024;
/** Values per chunk row: jid, first, count, value. */
const CHUNK_WIDTH = 4;
/** Chunk rows buffered before they are inserted: one statement of the widest kind. */
const CHUNK_ROWS_BUFFERED = 1 << ROWS_LOG2;

/**
 * Writes one job's inputs as chunk rows (inside the caller's transaction). Consecutive
 * texts share a row, at most CHUNK_INPUTS of them and CHUNK_CHARS of text, joined with
 * '\n'. Bytes, and a text that contains a raw '\n' (JSON.stringify never writes one, but
 * nothing stops a caller), go alone in a row of count 1, stored as they are. Inputs are
 * pushed in ascending task order; a gap (only in a migrated file) starts a new row, so a
 * row always holds consecutive tasks.
 */
class ChunkWriter {
  readonly #statements: readonly Database.Statement<Bindable[]>[];
  readonly #jid: number;
  /** Finished rows not inserted yet, flat, CHUNK_WIDTH values each. */
  readonly #rows: Bindable[] = [];
  /** Texts of the open row: tasks #first, #first + 1, .. */
  readonly #texts: string[] = [];
  /** Length of the open row's texts joined, plus one. */
  #chars = 0;
  #first = 0;
  /** The task that continues the open row. */
  #next = -1;

  constructor(
    statements: readonly Database.Statement<Bindable[]>[],
    jid: number,
  ) {
    this.#statements = statements;
    this.#jid = jid;
  }

  push(index: number, value: EncodedValue): void {
    if (index !== this.#next) this.#closeRow();
    this.#next = index + 1;
    if (
      typeof value !== 'string' ||
      value.length > CHUNK_CHARS ||
      value.includes('\n')
    ) {
      this.#closeRow();
      this.#addRow(index, 1, value);
      return;
    }
    if (
      this.#texts.length === CHUNK_INPUTS ||
      this.#chars + value.length > CHUNK_CHARS
    )
      this.#closeRow();
    if (this.#texts.length === 0) this.#first = index;
    this.#texts.push(value);
    this.#chars += value.length + 1;
  }

  /** Writes what is left. */
  end(): void {
    this.#closeRow();
    insertRows(this.#statements, this.#rows, CHUNK_WIDTH);
    this.#rows.length = 0;
  }

  #closeRow(): void {
    const texts = this.#texts;
    if (texts.length === 0) return;
    this.#addRow(
      this.#first,
      texts.length,
      texts.length === 1 ? texts[0]! : texts.join('\n'),
    );
    texts.length = 0;
    this.#chars = 0;
  }

  #addRow(first: number, count: number, value: EncodedValue): void {
    const rows = this.#rows;
    rows.push(this.#jid, first, count, value);
    if (rows.length === CHUNK_ROWS_BUFFERED * CHUNK_WIDTH) {
      insertRows(this.#statements, rows, CHUNK_WIDTH);
      rows.length = 0;
    }
  }
}

/**
 * A chunk row of count > 1 (texts of tasks first..first+count-1 joined with '\n'), split
 * into its texts at its second use or at a use of many of them: a task asked for alone
 * (a scattered re-dispatch) is cut out of the text, which allocates nothing else.
 */
interface TextChunk {
  jid: number;
  first: number;
  count: number;
  text: string;
  texts: string[] | undefined;
}

/** Chunks kept at most, and their text at most (code units). */
const CACHE_CHUNKS = 64;
const CACHE_CHARS = 8 * 1024 * 1024;
/** Texts cut out of an unsplit chunk at its first use, at most; more split it. */
const CUT_MAX = 8;

/**
 * The most recently used text chunks, so that dispatch, which asks for runs of tasks
 * that start and end inside chunks, reads and splits each chunk once. Bounded in chunks
 * and in text, never a whole job. Only text chunks are kept: strings cannot be changed
 * by the caller that receives them, byte arrays could.
 *
 * A chunk not split yet (used once, for a few tasks) waits in a slot of its own until
 * the next one replaces it, and joins the others at its second use: scattered asks then
 * leave short-lived garbage, not a stream of chunks through the LRU (which the garbage
 * collector would promote and then have to sweep: measured 3x slower).
 */
class ChunkCache {
  /** Split chunks by {@link chunkKey}, least recently used first. */
  readonly #chunks = new Map<number, TextChunk>();
  #chars = 0;
  #unsplit: TextChunk | undefined;

  /** The chunk of job `jid` that holds task `index`, if kept. */
  find(jid: number, index: number): TextChunk | undefined {
    const unsplit = this.#unsplit;
    if (
      unsplit !== undefined &&
      unsplit.jid === jid &&
      index >= unsplit.first &&
      index < unsplit.first + unsplit.count
    )
      return this.#secondUse(unsplit);
    for (const [key, chunk] of this.#chunks) {
      if (
        chunk.jid === jid &&
        index >= chunk.first &&
        index < chunk.first + chunk.count
      ) {
        this.#chunks.delete(key);
        this.#chunks.set(key, chunk);
        return chunk;
      }
    }
    return undefined;
  }

  /** The chunk of job `jid` starting at task `first`, if kept. */
  get(jid: number, first: number): TextChunk | undefined {
    const unsplit = this.#unsplit;
    if (unsplit?.jid === jid && unsplit.first === first)
      return this.#secondUse(unsplit);
    const key = chunkKey(jid, first);
    const chunk = this.#chunks.get(key);
    if (chunk !== undefined) {
      this.#chunks.delete(key);
      this.#chunks.set(key, chunk);
    }
    return chunk;
  }

  /** Keeps a chunk just read and used (split, or cut from). */
  add(chunk: TextChunk): void {
    if (chunk.texts === undefined) {
      this.#unsplit = chunk;
      return;
    }
    this.#chunks.set(chunkKey(chunk.jid, chunk.first), chunk);
    this.#chars += chunk.text.length;
    for (const [key, oldest] of this.#chunks) {
      if (this.#chunks.size <= CACHE_CHUNKS && this.#chars <= CACHE_CHARS)
        break;
      this.#chunks.delete(key);
      this.#chars -= oldest.text.length;
    }
  }

  /** The unsplit chunk, asked for again: it will be split, and kept with the others. */
  #secondUse(chunk: TextChunk): TextChunk {
    this.#unsplit = undefined;
    chunk.texts = splitTexts(chunk);
    this.add(chunk);
    return chunk;
  }
}

/** One number per chunk: jids and task indices stay far below 2^21 and 2^32. */
function chunkKey(jid: number, first: number): number {
  return jid * 2 ** 32 + first;
}

/** Values per queued result row: jid, seq, idx, ok, output, error, code. */
const RESULT_WIDTH = 7;

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
type ChunkRow = [first: number, count: number, value: EncodedValue];
type ResultRow = [
  seq: number,
  idx: number,
  ok: number,
  output: EncodedValue | null,
  error: string | null,
  code: string | null,
];

/**
 * SQLite store. Invariants: a task has at most one result row (UNIQUE(jid, idx), the
 * first insert wins); a result's seq is above every seq in the file before it (gaps are
 * fine); the chunk rows of a job cover exactly tasks 0..task_count-1, each task once;
 * the in-memory job table mirrors the `jobs` rows. Not safe for two processes on one
 * file: the master is the only writer.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #jobs = new Map<JobId, JobEntry>();
  readonly #chunks = new ChunkCache();
  /**
   * Queued result rows, flat and already in column order (RESULT_WIDTH values each): no
   * object per result, and nothing to re-encode when they are written.
   */
  #queuedResults: Bindable[] = [];
  #queuedFinishes: QueuedFinish[] = [];
  /** The last seq given to a result (written or queued); the next one is above it. */
  #lastSeq = 0;
  #pending: PendingCommit | undefined;
  #closed = false;

  readonly #putModule;
  readonly #getModule;
  readonly #insertJob;
  readonly #setTaskCount;
  readonly #seal;
  readonly #chunksCovering;
  readonly #insertResults;
  readonly #insertChunks;
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
      db.pragma('cache_size = -16384');
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
    this.#insertChunks = prepareChunkInserts(db);
    this.#insertResults = prepareRowInserts(
      db,
      'INSERT OR IGNORE INTO results (jid, seq, idx, ok, output, error, code)',
      '(?, ?, ?, ?, ?, ?, ?)',
    );
    this.#setTaskCount = db.prepare<[number, number]>(
      'UPDATE jobs SET task_count = ? WHERE jid = ?',
    );
    this.#seal = db.prepare<[number]>(
      'UPDATE jobs SET sealed = 1 WHERE jid = ?',
    );
    // The chunks holding tasks from..to: from the last chunk starting at or before
    // `from`, one range of the primary key.
    this.#chunksCovering = db
      .prepare<[number, number, number, number], ChunkRow>(
        `SELECT first, count, value FROM inputs
         WHERE jid = ? AND first BETWEEN
           (SELECT MAX(first) FROM inputs WHERE jid = ? AND first <= ?) AND ?
         ORDER BY first`,
      )
      .raw();
    this.#finish = db.prepare<[string, number, number]>(
      // A finished job stays as it first finished.
      `UPDATE jobs SET state = ?, finished_at = ? WHERE jid = ? AND state = 'running'`,
    );
    this.#resultsAfter = db
      .prepare<[number, number, number], ResultRow>(
        `SELECT seq, idx, ok, output, error, code FROM results
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

    // The largest seq per job is the last entry of its (jid, seq) range: one seek each,
    // where MAX(seq) over the whole table would read all of it.
    const lastSeqOf = db
      .prepare<[number], number | null>(
        'SELECT MAX(seq) FROM results WHERE jid = ?',
      )
      .pluck();
    for (const [jid, id, , taskCount, sealed] of this.#allJobs.all()) {
      this.#jobs.set(id, { jid, taskCount, sealed: sealed === 1 });
      this.#lastSeq = Math.max(this.#lastSeq, lastSeqOf.get(jid) ?? 0);
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
      this.#writeInputs(jid, 0, inputs);
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
      // New chunks: the rows written before stay as they are (and as cached).
      this.#writeInputs(job.jid, firstIndex, inputs);
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
    const { jid, taskCount } = this.#job(jobId);
    const out: EncodedValue[] = [];
    // Dispatch asks mostly for ascending runs: one range query per run instead of one
    // lookup per task, and none for the part of a run in chunks split before.
    let start = 0;
    while (start < indices.length) {
      const first = indices[start]!;
      let end = start + 1;
      while (end < indices.length && indices[end] === indices[end - 1]! + 1)
        end++;
      const last = indices[end - 1]!;
      // A run is integers if its first is; it lies in 0..taskCount-1 if its ends do.
      if (!Number.isInteger(first) || first < 0 || last >= taskCount) {
        throw new RangeError(
          `job ${jobId} has no input in ${first}..${last} (taskCount ${taskCount})`,
        );
      }
      this.#readRun(jobId, jid, first, last, out);
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
    // A repeat still takes a seq, which is then never written: a gap, which readers
    // paging by `seq > cursor` do not notice.
    const seq = ++this.#lastSeq;
    if (outcome.ok)
      this.#queuedResults.push(
        job.jid,
        seq,
        index,
        1,
        outcome.output,
        null,
        null,
      );
    else
      this.#queuedResults.push(
        job.jid,
        seq,
        index,
        0,
        null,
        outcome.error,
        outcome.code,
      );
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

  /** Writes inputs as tasks first.. in new chunk rows (inside a transaction). */
  #writeInputs(
    jid: number,
    first: number,
    inputs: readonly EncodedValue[],
  ): void {
    const writer = new ChunkWriter(this.#insertChunks, jid);
    for (let i = 0; i < inputs.length; i++) writer.push(first + i, inputs[i]!);
    writer.end();
  }

  /** Appends the inputs of tasks first..last (all < taskCount) to `out`. */
  #readRun(
    jobId: JobId,
    jid: number,
    first: number,
    last: number,
    out: EncodedValue[],
  ): void {
    let at = first;
    for (
      let chunk = this.#chunks.find(jid, at);
      chunk !== undefined;
      chunk = this.#chunks.find(jid, at)
    ) {
      at = copyTexts(chunk, at, last, out);
      if (at > last) return;
    }
    for (const [chunkFirst, count, value] of this.#chunksCovering.all(
      jid,
      jid,
      at,
      last,
    )) {
      // A gap: reported below.
      if (chunkFirst > at || chunkFirst + count <= at) break;
      if (count === 1) {
        out.push(fromSql(value));
        at++;
        continue;
      }
      let chunk = this.#chunks.get(jid, chunkFirst);
      if (chunk === undefined) {
        if (typeof value !== 'string')
          throw corruptChunk(jid, chunkFirst, count);
        chunk = {
          jid,
          first: chunkFirst,
          count,
          text: value,
          texts: undefined,
        };
        const from = at;
        at = copyTexts(chunk, at, last, out);
        // Kept only when the run used part of it: the rest is what the next run (or a
        // scattered ask) is likely to want. A chunk used whole is not asked for again.
        if (chunkFirst < from || at < chunkFirst + count)
          this.#chunks.add(chunk);
      } else {
        at = copyTexts(chunk, at, last, out);
      }
    }
    if (at <= last)
      throw new RangeError(`job ${jobId} lacks inputs in ${at}..${last}`);
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

/** Appends the texts of tasks at..min(last, end of chunk) to `out`; the next task. */
function copyTexts(
  chunk: TextChunk,
  at: number,
  last: number,
  out: EncodedValue[],
): number {
  const { first, count, text } = chunk;
  const end = Math.min(last + 1, first + count);
  if (chunk.texts === undefined && end - at <= CUT_MAX) {
    // Cut out: skip to the text of task `at`, then take one text per task.
    let from = 0;
    for (let i = first; i < at; i++) {
      const newline = text.indexOf('\n', from);
      if (newline < 0) throw corruptChunk(chunk.jid, first, count);
      from = newline + 1;
    }
    for (let i = at; i < end; i++) {
      const newline = text.indexOf('\n', from);
      // Only the chunk's last text has no '\n' after it.
      if (newline < 0 !== (i === first + count - 1))
        throw corruptChunk(chunk.jid, first, count);
      const to = newline < 0 ? text.length : newline;
      out.push(text.slice(from, to));
      from = to + 1;
    }
    return end;
  }
  const texts = (chunk.texts ??= splitTexts(chunk));
  for (let i = at; i < end; i++) out.push(texts[i - first]!);
  return end;
}

function splitTexts({ jid, first, count, text }: TextChunk): string[] {
  const texts = text.split('\n');
  if (texts.length !== count) throw corruptChunk(jid, first, count);
  return texts;
}

function corruptChunk(jid: number, first: number, count: number): Error {
  return new Error(
    `the input chunk of job #${jid} at task ${first} does not hold ${count} texts`,
  );
}

function prepareChunkInserts(
  db: Database.Database,
): Database.Statement<Bindable[]>[] {
  return prepareRowInserts(
    db,
    'INSERT INTO inputs (jid, first, count, value)',
    '(?, ?, ?, ?)',
  );
}

/** Old input rows read per query when a version 1 file is migrated. */
const MIGRATION_PAGE = 4096;

function migrate(db: Database.Database): void {
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version === SCHEMA_VERSION) return;
  if (version !== 0 && version !== 1 && version !== 2) {
    throw new Error(
      `${db.name} has schema version ${version}; this colony expects ${SCHEMA_VERSION}`,
    );
  }
  // One transaction: a migration that fails (or a process killed during it) leaves the
  // file at its old version, as it was.
  db.transaction(() => {
    if (version === 0) db.exec(SCHEMA);
    else {
      if (version === 1) migrateFrom1(db);
      else db.exec('ALTER TABLE results ADD COLUMN code TEXT');
      codeOldFailures(db);
    }
    db.pragma(`user_version = ${SCHEMA_VERSION}`);
  })();
}

/**
 * Schema 3 gave failures a code. Older failure rows get theirs from the message the
 * master wrote for each kind (see the scheduler); any other message was a task's own.
 */
function codeOldFailures(db: Database.Database): void {
  db.exec(`
    UPDATE results SET code = CASE
      WHEN error LIKE 'killed its worker % times; last: %' THEN '${ErrorCode.TaskKilledWorkers}'
      WHEN error LIKE 'dispatched % times without a result' THEN '${ErrorCode.TooManyDispatches}'
      WHEN error LIKE 'replicas disagree: %' THEN '${ErrorCode.ReplicasDisagree}'
      ELSE '${ErrorCode.TaskFailed}' END
    WHERE ok = 0 AND code IS NULL
  `);
}

/**
 * Version 1 had one `inputs` row per task, (jid, idx, value), and `results` keyed by a
 * rowid seq with UNIQUE (jid, idx) and an index (jid, seq). The old inputs are read in
 * pages (a big job is never in memory at once) and rewritten as chunks; results are
 * copied with their seq, so that readers' cursors stay valid.
 */
function migrateFrom1(db: Database.Database): void {
  db.exec(`
    ALTER TABLE inputs RENAME TO inputs_v1;
    ALTER TABLE results RENAME TO results_v1;
  `);
  db.exec(SCHEMA);
  const insertChunks = prepareChunkInserts(db);
  const nextJid = db
    .prepare<[number], number>(
      'SELECT jid FROM inputs_v1 WHERE jid > ? ORDER BY jid LIMIT 1',
    )
    .pluck();
  const page = db
    .prepare<[number, number, number], [idx: number, value: EncodedValue]>(
      'SELECT idx, value FROM inputs_v1 WHERE jid = ? AND idx >= ? ORDER BY idx LIMIT ?',
    )
    .raw();
  for (
    let jid = nextJid.get(Number.MIN_SAFE_INTEGER);
    jid !== undefined;
    jid = nextJid.get(jid)
  ) {
    const writer = new ChunkWriter(insertChunks, jid);
    for (let from = Number.MIN_SAFE_INTEGER; ;) {
      const rows = page.all(jid, from, MIGRATION_PAGE);
      for (const [idx, value] of rows) writer.push(idx, value);
      if (rows.length < MIGRATION_PAGE) break;
      from = rows[rows.length - 1]![0] + 1;
    }
    writer.end();
  }
  db.exec(`
    INSERT INTO results (jid, seq, idx, ok, output, error)
      SELECT jid, seq, idx, ok, output, error FROM results_v1 ORDER BY jid, seq;
    DROP TABLE inputs_v1;
    DROP TABLE results_v1;
  `);
}

/** better-sqlite3 returns BLOBs as Buffers; callers get plain Uint8Array views. */
function fromSql(value: EncodedValue): EncodedValue {
  return typeof value === 'string'
    ? value
    : new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
}

/**
 * The durable {@link Store}: one SQLite file (better-sqlite3, WAL) at `<dir>/colony.db`.
 *
 * Job-shaped writes (`createJob`, `appendInputs`, `sealJob`, `putModule`) are durable on
 * return. Results and job ends are queued and written by `commit()` in one transaction
 * per event-loop turn (group commit), so that thousands of results share one WAL write.
 *
 * The parts: the file, its schema and migrations (sqlite-schema.ts), the inputs in
 * chunk rows (sqlite-inputs.ts), the results (sqlite-results.ts), the group commit
 * (sqlite-commit.ts); this file keeps the jobs and the modules.
 */
import type Database from 'better-sqlite3';
import type { JobState } from '../../../shared/protocol.js';
import type { JobId, JobSpec } from '../scheduler/types.js';
import type {
  EncodedValue,
  PurgeReport,
  RestoredJob,
  Store,
  StoredOutcome,
  StoredResult,
} from './store.js';
import { SqliteGroupCommit, type CommitFailed } from './sqlite-commit.js';
import {
  WalCheckpointer,
  type CheckpointerOptions,
} from './sqlite-wal-checkpointer.js';
import { openDatabase } from './sqlite-schema.js';
import { SqliteInputs } from './sqlite-inputs.js';
import { SqliteResults } from './sqlite-results.js';
import { SqliteCheckpoints } from './sqlite-checkpoints.js';
import { SqliteVolunteers } from './sqlite-volunteers.js';
import { PURGED, PURGING, SqlitePurger } from './sqlite-purge.js';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Directory of the database file `colony.db`; created if missing. */
  dir: string;
  /**
   * `normal` survives a crash of the process (kill -9); `full` also survives a power
   * loss, at the cost of an fsync per commit. @defaultValue 'normal'
   */
  fsync?: 'normal' | 'full';
  /** The WAL's checkpoints (sqlite-wal-checkpointer.ts): their pace, a logger. */
  checkpoints?: Omit<CheckpointerOptions, 'file' | 'synchronous'>;
  /** Told of a failed group commit (it is retried; see sqlite-commit.ts). */
  commitFailed?: CommitFailed;
}

/** What the store keeps in memory per job, to validate calls without a query. */
interface JobEntry {
  jid: number;
  taskCount: number;
  sealed: boolean;
  moduleHash: string;
}

type JobRow = [
  jid: number,
  id: JobId,
  spec: string,
  taskCount: number,
  sealed: number,
  state: string,
  finishedAt: number | null,
];

/**
 * SQLite store. Invariants: the chunk rows of a job cover exactly tasks
 * 0..task_count-1, each task once; the in-memory job table mirrors the `jobs` rows;
 * results as in {@link SqliteResults}. Not safe for two processes on one file: the
 * master is the only writer.
 */
export class SqliteStore implements Store {
  readonly #db: Database.Database;
  readonly #jobs = new Map<JobId, JobEntry>();
  readonly #inputs: SqliteInputs;
  readonly #results: SqliteResults;
  readonly #checkpoints: SqliteCheckpoints;
  readonly #purger: SqlitePurger;
  readonly #volunteers: SqliteVolunteers;
  #highestId = 0;
  readonly #commits: SqliteGroupCommit;
  readonly #checkpointer: WalCheckpointer;
  #closed = false;

  readonly #putModule;
  readonly #getModule;
  readonly #insertJob;
  readonly #setTaskCount;
  readonly #seal;
  readonly #allJobs;

  constructor(options: SqliteStoreOptions) {
    const fsync = options.fsync ?? 'normal';
    const db = openDatabase(options.dir, fsync);
    this.#db = db;
    // A thread checkpoints the WAL; this connection's commits never stall for it.
    db.pragma('wal_autocheckpoint = 0');
    this.#checkpointer = new WalCheckpointer({
      ...options.checkpoints,
      file: db.name,
      synchronous: fsync === 'full' ? 'FULL' : 'NORMAL',
    });
    this.#inputs = new SqliteInputs(db);
    this.#results = new SqliteResults(db);
    this.#checkpoints = new SqliteCheckpoints(db);
    this.#purger = new SqlitePurger(db);
    this.#volunteers = new SqliteVolunteers(db);
    this.#commits = new SqliteGroupCommit(
      db,
      this.#results,
      this.#volunteers,
      options.commitFailed,
    );
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
    this.#setTaskCount = db.prepare<[number, number]>(
      'UPDATE jobs SET task_count = ? WHERE jid = ?',
    );
    this.#seal = db.prepare<[number]>(
      'UPDATE jobs SET sealed = 1 WHERE jid = ?',
    );
    this.#allJobs = db
      .prepare<[], JobRow>(
        `SELECT jid, id, spec, task_count, sealed, state, finished_at FROM jobs
         WHERE state NOT IN ('${PURGING}', '${PURGED}') ORDER BY jid`,
      )
      .raw();
    for (const [jid, id, spec, taskCount, sealed] of this.#allJobs.all()) {
      const { moduleHash } = JSON.parse(spec) as { moduleHash: string };
      this.#jobs.set(id, { jid, taskCount, sealed: sealed === 1, moduleHash });
      this.#results.seeJob(jid);
    }
    this.#highestId =
      db
        .prepare<[], number | null>('SELECT max(CAST(id AS INTEGER)) FROM jobs')
        .pluck()
        .get() ?? 0;
    this.#resumePurges();
  }

  /** A master stopped halfway through purges: they finish in the background. */
  #resumePurges(): void {
    const left = this.#db
      .prepare<[], number>(`SELECT jid FROM jobs WHERE state = '${PURGING}'`)
      .pluck()
      .all();
    for (const jid of left) void this.#purger.resume(jid);
  }

  get volunteers(): SqliteVolunteers {
    return this.#volunteers;
  }

  highestJobId(): number {
    return this.#highestId;
  }

  purgeJob(jobId: JobId): Promise<PurgeReport> {
    this.#assertOpen();
    const job = this.#job(jobId);
    this.#checkpoints.drop(job.jid, undefined);
    this.#jobs.delete(jobId);
    const shared = [...this.#jobs.values()].some(
      (other) => other.moduleHash === job.moduleHash,
    );
    return this.#purger.purge(job.jid, shared ? undefined : job.moduleHash);
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
      this.#inputs.write(jid, 0, inputs);
      return jid;
    })();
    this.#jobs.set(spec.id, {
      jid,
      taskCount: inputs.length,
      sealed: spec.sealed,
      moduleHash: spec.moduleHash,
    });
    const numeric = Number(spec.id);
    if (Number.isSafeInteger(numeric))
      this.#highestId = Math.max(this.#highestId, numeric);
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
      this.#inputs.write(job.jid, firstIndex, inputs);
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
    return this.#inputs.read(jobId, jid, taskCount, indices);
  }

  getInputsJoined(
    jobId: JobId,
    indices: readonly number[],
  ): string | undefined {
    this.#assertOpen();
    const { jid, taskCount } = this.#job(jobId);
    return this.#inputs.readJoined(jobId, jid, taskCount, indices);
  }

  recordResult(jobId: JobId, index: number, outcome: StoredOutcome): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    if (!Number.isInteger(index) || index < 0 || index >= job.taskCount) {
      throw new RangeError(
        `job ${jobId} has no task ${index} (taskCount ${job.taskCount})`,
      );
    }
    this.#results.queue(job.jid, index, outcome);
  }

  finishJob(jobId: JobId, state: 'completed' | 'cancelled', at: number): void {
    this.#assertOpen();
    this.#commits.finish(this.#job(jobId).jid, state, at);
  }

  commit(): Promise<void> {
    // close() wrote everything queued before it, and nothing can be queued after it.
    if (this.#closed) return Promise.resolve();
    return this.#commits.commit();
  }

  /** Checkpoints the WAL now, off this thread (tests). */
  checkpointNow(): ReturnType<WalCheckpointer['checkpointNow']> {
    return this.#checkpointer.checkpointNow();
  }

  readResults(jobId: JobId, afterSeq: number, limit: number): StoredResult[] {
    this.#assertOpen();
    const job = this.#jobs.get(jobId);
    if (job === undefined || limit <= 0) return [];
    return this.#results.read(job.jid, afterSeq, limit);
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
      const fixed = JSON.parse(specText) as Omit<
        JobSpec,
        'taskCount' | 'sealed'
      >;
      jobs.push({
        spec: { ...fixed, taskCount, sealed: sealed === 1 },
        state: state as JobState,
        finishedAt,
        marks: this.#results.marks(jid, taskCount),
        checkpointed: this.#checkpoints.indexes(jid),
      });
    }
    return jobs;
  }

  putCheckpoint(jobId: JobId, index: number, state: EncodedValue): void {
    this.#assertOpen();
    const job = this.#job(jobId);
    if (!Number.isInteger(index) || index < 0 || index >= job.taskCount)
      throw new RangeError(`job ${jobId} has no task ${index}`);
    this.#checkpoints.put(job.jid, index, state);
  }

  getCheckpoints(
    jobId: JobId,
    indices: readonly number[],
  ): (EncodedValue | undefined)[] {
    this.#assertOpen();
    return this.#checkpoints.get(this.#job(jobId).jid, indices);
  }

  dropCheckpoints(jobId: JobId, index?: number): void {
    this.#assertOpen();
    const job = this.#jobs.get(jobId);
    if (job !== undefined) this.#checkpoints.drop(job.jid, index);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#purger.stop();
    try {
      this.#commits.close();
    } finally {
      // The thread's connection first: the store's close, the last, then checkpoints
      // the whole WAL and removes it.
      this.#checkpointer.close();
      this.#db.close();
    }
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

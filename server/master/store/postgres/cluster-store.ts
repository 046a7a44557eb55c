/**
 * What a master needs from a database shared by several masters (docs/multi-master.md).
 *
 * Every task is a row with a state: queued → claimed (by one master, under a fencing
 * token) → done | failed. A master claims tasks in batches for its own workers, runs them
 * with its in-memory scheduler, and records their outcomes in batches; a record is
 * accepted only while the claim's token is still the task's token, so a master that was
 * presumed dead (its claims taken over) changes nothing when it comes back.
 *
 * A claim lives as long as its master's presence row is fresh: `heartbeat()` renews all
 * of a master's claims with one row write; `takeOverExpired()` returns the claims of
 * masters silent for longer than the claim TTL to the queue. All times are the database's
 * clock, so masters' clocks need not agree.
 */
import type { JobState } from '../../../../shared/protocol.js';
import type { JobId, JobSpec } from '../../scheduler/types.js';
import type { EncodedValue, StoredOutcome, StoredResult } from '../store.js';

/** A claimed task, with what the new owner needs to carry on where others left off. */
export interface ClaimedTask {
  jobId: JobId;
  index: number;
  /** Fencing token of this claim: quoted by every record and release of the task. */
  token: number;
  input: EncodedValue;
  /** Failed attempts so far (the task threw), over all masters. */
  attempts: number;
  /** Workers this task killed so far, over all masters. */
  deaths: number;
  /** Replica votes so far (replicas > 1), as last saved by `recordBatch` progress. */
  votes: ReplicaVotes | null;
}

/** Votes of replicas: by output digest, the output and the workers that returned it. */
export type ReplicaVotes = Record<
  string,
  { output: EncodedValue; workers: string[] }
>;

/** A task's claim, as quoted by its owner. */
export interface ClaimRef {
  jobId: JobId;
  index: number;
  token: number;
}

/** One entry of `recordBatch`: a task's final outcome, or its progress so far. */
export type RecordEntry =
  | (ClaimRef & { kind: 'outcome'; outcome: StoredOutcome })
  | (ClaimRef & {
      kind: 'progress';
      attempts: number;
      deaths: number;
      votes: ReplicaVotes | null;
    });

export interface RecordBatchResult {
  /** Per entry, in order: applied (the claim was still valid) or fenced (changed nothing). */
  accepted: boolean[];
  /** Jobs whose last task ended in this batch: each job appears here exactly once, ever. */
  completed: JobId[];
}

export interface JobCountsRow {
  total: number;
  queued: number;
  running: number;
  done: number;
  failed: number;
}

export interface JobRow {
  spec: JobSpec;
  state: JobState;
  finishedAt: number | null;
  counts: JobCountsRow;
}

export interface MasterPresence {
  id: string;
  address: string;
  /** Milliseconds since the epoch, database clock. */
  heartbeatAt: number;
  startedAt: number;
  /** Whatever the master publishes about its workers (shown by every dashboard). */
  workers: unknown;
}

export interface ListJobsQuery {
  limit: number;
  /** Jobs created before this one (newest first paging). */
  before?: JobId | undefined;
  state?: JobState | undefined;
}

/** Hints from other masters, delivered by LISTEN/NOTIFY (at most one per batch). */
export type ClusterHint =
  | { type: 'inputs'; jobId: JobId }
  | { type: 'cancel'; jobId: JobId }
  /** The connection was lost and remade, or the poll fell due: look at the db anyway. */
  | { type: 'poll' };

export interface ClusterStore {
  /** Keeps a task module by its content hash (idempotent; the first source wins). */
  putModule(hash: string, source: string): Promise<void>;
  getModule(hash: string): Promise<string | undefined>;

  /** Creates a job and its tasks 0..inputs.length-1 (queued); notifies `inputs`. */
  createJob(spec: JobSpec, inputs: readonly EncodedValue[]): Promise<void>;
  /** Appends tasks firstIndex..; firstIndex must equal the current task count. */
  appendInputs(
    jobId: JobId,
    firstIndex: number,
    inputs: readonly EncodedValue[],
  ): Promise<void>;
  /** Closes the input set; returns true if that completed the job (all tasks ended). */
  sealJob(jobId: JobId): Promise<boolean>;
  /** Cancels a running job and notifies `cancel`; false if it had already ended. */
  cancelJob(jobId: JobId): Promise<boolean>;
  /**
   * Deletes an ended job with its tasks and results, and its module when no other job
   * uses it; false if missing or running.
   */
  purgeJob(jobId: JobId): Promise<boolean>;

  getJob(jobId: JobId): Promise<JobRow | undefined>;
  listJobs(query: ListJobsQuery): Promise<JobRow[]>;
  /** How many jobs there are (in `state` if given). */
  countJobs(state?: JobState): Promise<number>;
  /**
   * Ids of jobs that ended at least `ageMs` ago (the database's clock, which stamped
   * their end), oldest end first, at most `limit`: what retention purges.
   */
  endedBefore(ageMs: number, limit: number): Promise<JobId[]>;

  /**
   * Claims up to `limit` (at most 10,000) queued tasks of running jobs for `master` (of
   * `jobId` only if given), lowest index first, skipping rows other masters are claiming
   * right now. Nothing for a master without a live presence row (`heartbeat()` first).
   */
  claim(master: string, limit: number, jobId?: JobId): Promise<ClaimedTask[]>;
  /** Gives claims back to the queue (a clean stop, a cancel); fenced by token. */
  release(master: string, claims: readonly ClaimRef[]): Promise<number>;
  /** Gives back every claim of `master` (its clean shutdown). */
  releaseAll(master: string): Promise<number>;
  /**
   * Returns to the queue the claims of masters whose heartbeat is older than `ttlMs`
   * (or that have no presence row), their tokens cleared (so their old writers are
   * fenced); returns how many. Any master may call it, every few seconds.
   */
  takeOverExpired(ttlMs: number): Promise<number>;

  /** Records outcomes and progress in one transaction, each fenced by its claim's token. */
  recordBatch(
    master: string,
    entries: readonly RecordEntry[],
  ): Promise<RecordBatchResult>;
  /** Results of a job with `seq > afterSeq`, in seq order (commit order), at most `limit`. */
  readResults(
    jobId: JobId,
    afterSeq: number,
    limit: number,
  ): Promise<StoredResult[]>;

  /**
   * Upserts the presence row of `master` and so renews all its claims. `lapsed` is true
   * when a takeover requeued its claims since its last heartbeat: the master must drop
   * every task it holds (its later records would be fenced); any claim it still has is
   * requeued by this call. Do not overlap a master's `claim()` with its `heartbeat()`.
   */
  heartbeat(
    master: string,
    address: string,
    workers: unknown,
  ): Promise<{ lapsed: boolean }>;
  /** Masters whose heartbeat is at most `ttlMs` old. */
  liveMasters(ttlMs: number): Promise<MasterPresence[]>;
  /** Removes the presence row (a clean shutdown, after `releaseAll`). */
  leave(master: string): Promise<void>;

  /** Closes the connection pool (the listener is closed on its own). */
  close(): Promise<void>;
}

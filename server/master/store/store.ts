/**
 * The durable record of jobs, modules, inputs and results, behind one interface so that
 * the master runs on SQLite (durable) or in memory (tests, benchmarks) alike.
 *
 * Values (inputs, outputs) are stored encoded: a JSON text `string`, or a binary codec
 * frame `Uint8Array` (shared/codec.ts) when the value carries bytes. The master never
 * needs to parse an input: it splices the stored text into the task frame.
 */
import type { ErrorCode } from '../../../shared/errors.js';
import type { JobState } from '../../../shared/protocol.js';
import type { JobId, JobSpec } from '../scheduler/types.js';
import type { VolunteerLedger } from './volunteer-ledger.js';

export type EncodedValue = string | Uint8Array;

/**
 * A failure keeps its kind as a catalogue code (E_TASK_FAILED, E_TASK_KILLED_WORKERS,
 * E_TOO_MANY_DISPATCHES, E_REPLICAS_DISAGREE), so that readers can tell them apart.
 */
export type StoredOutcome =
  | { ok: true; output: EncodedValue }
  | { ok: false; error: string; code: ErrorCode };

export interface StoredResult {
  /** Increasing per store: a cursor for streaming results as they arrive. */
  seq: number;
  index: number;
  outcome: StoredOutcome;
}

export interface RestoredJob {
  spec: JobSpec;
  state: JobState;
  finishedAt: number | null;
  /** One byte per task: 0 open, 1 done, 2 failed (scheduler TaskMark). */
  marks: Uint8Array;
  /** Tasks that have a checkpoint. */
  checkpointed: number[];
}

/**
 * What a purge cost: its synchronous steps, and the longest (the event loop's block), in
 * wall time and in CPU time (on a busy machine the wall time also counts other processes).
 */
export interface PurgeReport {
  steps: number;
  longestStepMs: number;
  longestStepCpuMs: number;
}

export interface Store {
  /** The volunteers' totals; its writes are committed by `commit()` too. */
  readonly volunteers: VolunteerLedger;

  /** Keeps a task module by its content hash (idempotent). Durable on return. */
  putModule(hash: string, source: string): void;
  getModule(hash: string): string | undefined;

  /** Creates a job with its first inputs (tasks 0..inputs.length-1). Durable on return. */
  createJob(spec: JobSpec, inputs: readonly EncodedValue[]): void;
  /** Appends inputs as tasks firstIndex.. . Durable on return. */
  appendInputs(
    jobId: JobId,
    firstIndex: number,
    inputs: readonly EncodedValue[],
  ): void;
  /** Marks the input set closed. Durable on return. */
  sealJob(jobId: JobId): void;
  /** Inputs of the given tasks, in the order asked. */
  getInputs(jobId: JobId, indices: readonly number[]): EncodedValue[];
  /**
   * The same inputs as one text, their JSON texts joined with ',' (a JSON array's
   * inside), or undefined if any is bytes; a store that keeps inputs as texts side by
   * side gives them without a string per input (the hot path of dispatch).
   */
  getInputsJoined?(
    jobId: JobId,
    indices: readonly number[],
  ): string | undefined;

  /** Queues a task's one result; durable once a later `commit()` resolves. */
  recordResult(jobId: JobId, index: number, outcome: StoredOutcome): void;
  /** Queues a job's end state; durable once a later `commit()` resolves. */
  finishJob(jobId: JobId, state: 'completed' | 'cancelled', at: number): void;
  /**
   * Commits everything queued so far in one transaction (group commit). Calls made in
   * the same turn share one commit. Resolves when durable; rejects if the write failed.
   */
  commit(): Promise<void>;

  /** Results of a job with `seq > afterSeq`, in seq order, at most `limit`. */
  readResults(jobId: JobId, afterSeq: number, limit: number): StoredResult[];
  /** Every job with its per-task marks, to rebuild the scheduler on start. */
  loadJobs(): RestoredJob[];
  /**
   * The largest numeric job id ever created here, purged jobs included, so that a new
   * job never takes the id of one that was deleted. 0 when there was none.
   */
  highestJobId(): number;

  /**
   * Deletes an ended job (the caller has committed its end): it is gone from reads at
   * once, and its module with it when no other job uses that module. Its rows are then
   * deleted, and their space given back, in steps that leave the event loop free in
   * between. Resolves when that is done.
   */
  purgeJob(jobId: JobId): Promise<PurgeReport>;

  /**
   * Keeps `state` as the checkpoint of a task (`ctx.checkpoint`), replacing the one
   * before. Durable on return. The caller checked the task exists and is open.
   */
  putCheckpoint(jobId: JobId, index: number, state: EncodedValue): void;
  /** The checkpoints of the given tasks, in the order asked; undefined where none. */
  getCheckpoints(
    jobId: JobId,
    indices: readonly number[],
  ): (EncodedValue | undefined)[];
  /** Drops the checkpoint of task `index`, or every checkpoint of the job if omitted. */
  dropCheckpoints(jobId: JobId, index?: number): void;

  /** Flushes what is queued and closes. */
  close(): void;
}

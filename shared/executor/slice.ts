/**
 * A stretch of one submitted batch, the unit the executor queues and hands to threads.
 * Tasks stay in the columns of the frame they came in (no object per task): a slice is
 * the batch plus a range, and a thread gets the range's column slices.
 */
import type { Lease, TaskBatch } from '../protocol.js';
import { inputsSpan } from '../tasks-text.js';
import type { ToThread } from '../task-runner.js';
import type { Outcomes } from '../worker-session.js';

export type OnDone = (outcomes: Outcomes) => void;

/** Tasks `from` .. `to - 1` of a batch. */
export interface Slice {
  batch: TaskBatch;
  from: number;
  to: number;
  /** Wall-clock end of the leases as seen here: received + timeoutMs. */
  deadline: number;
  onDone: OnDone;
}

export const emptyOutcomes = (): Outcomes => ({
  leases: [],
  outputs: [],
  failures: [],
});

export const hasOutcomes = (outcomes: Outcomes): boolean =>
  outcomes.leases.length +
    outcomes.failures.length +
    (outcomes.skipped?.length ?? 0) >
  0;

/** The slice's tasks `from` .. `to - 1`, sharing its batch. */
export const rangeOf = (slice: Slice, from: number, to: number): Slice => ({
  batch: slice.batch,
  from,
  to,
  deadline: slice.deadline,
  onDone: slice.onDone,
});

/**
 * A slice holding only the tasks of `slice` whose lease `keep` accepts (to re-queue or
 * drop a few), or null if none. The slice itself when all are kept.
 */
export function subSlice(
  slice: Slice,
  keep: (lease: Lease) => boolean,
): Slice | null {
  const { batch } = slice;
  const picked: number[] = [];
  for (let i = slice.from; i < slice.to; i++)
    if (keep(batch.leases[i] as Lease)) picked.push(i);
  if (picked.length === 0) return null;
  if (picked.length === slice.to - slice.from) return slice;
  return {
    // Rare (cancel, crash): a spread here is not on the hot path.
    batch: pickTasks(batch, picked),
    from: 0,
    to: picked.length,
    deadline: slice.deadline,
    onDone: slice.onDone,
  };
}

/** The `run` message of a slice: column slices, or the columns themselves if whole. */
export function runMessage(slice: Slice): ToThread {
  const { batch, from, to } = slice;
  const whole = from === 0 && to === batch.leases.length;
  const column = <T>(values: T[]): T[] =>
    whole ? values : values.slice(from, to);
  const message: ToThread = {
    type: 'run',
    job: batch.job,
    module: batch.module,
    leases: column(batch.leases),
    indexes: column(batch.indexes),
    attempts: column(batch.attempts),
    inputs: batch.inputsJson ? [] : column(batch.inputs),
    deadline: slice.deadline,
    ...(batch.resumes ? { resumes: column(batch.resumes) } : {}),
  };
  // Input texts travel as one array text: one string to clone, one parse in the thread.
  if (batch.inputsJson) message.inputsJson = `[${inputsSpan(batch, from, to)}]`;
  return message;
}

/** The tasks of `batch` at positions `at`, as a batch of their own. */
export function pickTasks(batch: TaskBatch, at: readonly number[]): TaskBatch {
  const column = <T>(values: readonly T[]): T[] =>
    at.map((i) => values[i] as T);
  return {
    ...batch,
    inputsSpan: undefined,
    leases: column(batch.leases),
    indexes: column(batch.indexes),
    attempts: column(batch.attempts),
    inputs: column(batch.inputs),
    ...(batch.resumes ? { resumes: column(batch.resumes) } : {}),
  };
}

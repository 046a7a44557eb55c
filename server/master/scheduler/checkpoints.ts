/**
 * Checkpoints of running tasks (`ctx.checkpoint`): which tasks of a job have one, whether
 * a checkpoint may replace the one before, and when the stored ones are dropped. The
 * states themselves never enter the scheduler's state: a `save-checkpoint` command hands
 * the accepted one to the shell, which keeps it in the store.
 *
 * Fencing: only the holder of an active lease of an open task of a running job may
 * save one. A stale lease (expired, answered, cancelled, its worker gone) changes
 * nothing, so the state a later attempt resumes from is always that of a live attempt.
 */
import { ErrorCode } from '../../../shared/errors.js';
import { feedText } from './outbox.js';
import type { JobRecord, WorkerRecord } from './records.js';
import type { State } from './state.js';
import type { Lease } from './types.js';

/**
 * Least time between two checkpoints of one lease that the master keeps; one that
 * follows sooner is ignored. colony's workers send at most one a second per task: half
 * of that leaves room for jitter on the way, and bounds what a hostile worker can make
 * the store write.
 */
export const CHECKPOINT_MIN_INTERVAL_MS = 500;

/**
 * Checkpoints kept per worker slot in any {@link WORKER_WINDOW_MS}: a worker runs at
 * most `slots` tasks at once, each sending at most one a second. Twice that leaves room
 * for jitter, and bounds what one socket holding thousands of leases can make the store
 * write (the per-lease bound alone would not).
 */
export const CHECKPOINTS_PER_SLOT = 2;
export const WORKER_WINDOW_MS = 1_000;

/** Default of the job option `maxCheckpointBytes`. */
export const DEFAULT_MAX_CHECKPOINT_BYTES = 1024 * 1024;

/**
 * A worker's checkpoint for `lease`, `bytes` long as stored. Accepted (a `save-checkpoint`
 * command) only from the lease's holder while the lease is active, the task open and
 * the last one of this lease is at least {@link CHECKPOINT_MIN_INTERVAL_MS} old; too big
 * a one gets an error frame. Anything else is ignored without a word: a checkpoint that
 * crossed its task's end or its lease's expiry is a normal race.
 */
export function receiveCheckpoint(
  s: State,
  worker: WorkerRecord,
  lease: Lease,
  bytes: number,
  state: unknown,
): void {
  const rec = s.leases.get(lease);
  if (rec === undefined || rec.worker !== worker || !rec.isActive) return;
  const { job, index } = rec;
  if (!job.isRunning || job.table.isTerminal(index)) return;
  if (bytes > job.limits.maxCheckpointBytes) {
    s.out.push({
      type: 'reject-result',
      workerId: worker.id,
      lease,
      code: ErrorCode.CheckpointTooLarge,
      message: `checkpoint of ${bytes} bytes for lease ${lease} is over the job's maxCheckpointBytes (${job.limits.maxCheckpointBytes}); not kept`,
    });
    return;
  }
  if (
    rec.checkpointAt !== undefined &&
    s.now - rec.checkpointAt < CHECKPOINT_MIN_INTERVAL_MS
  )
    return;
  if (!takeWorkerBudget(s.now, worker)) return;
  rec.checkpointAt = s.now;
  (job.checkpointed ??= new Set()).add(index);
  s.out.push({ type: 'save-checkpoint', jobId: job.spec.id, index, state });
}

/** Counts one checkpoint against the worker's budget; false if it has none left. */
function takeWorkerBudget(now: number, worker: WorkerRecord): boolean {
  const budget = worker.checkpoints;
  if (now - budget.windowStart >= WORKER_WINDOW_MS) {
    budget.windowStart = now;
    budget.count = 0;
  }
  if (budget.count >= CHECKPOINTS_PER_SLOT * worker.slots) return false;
  budget.count++;
  return true;
}

/**
 * True if task `i`, about to be dispatched to `worker` under `rec`, starts from its
 * checkpoint (the worker must understand `resume`); counts it and tells the feed.
 */
export function resumes(
  s: State,
  job: JobRecord,
  i: number,
  worker: WorkerRecord,
): boolean {
  if (job.checkpointed === undefined || !worker.resumes) return false;
  if (!job.checkpointed.has(i)) return false;
  job.resumed++;
  s.out.feed(s.now, 'resumed', feedText.resumed(job.spec.name, i, worker.name));
  return true;
}

/** Task `i` has its one outcome: its checkpoint is of no more use. */
export function dropTaskCheckpoint(s: State, job: JobRecord, i: number): void {
  if (job.checkpointed?.delete(i))
    s.out.push({ type: 'drop-checkpoints', jobId: job.spec.id, index: i });
}

/** The job ended (completed or cancelled): what checkpoints it still has go. */
export function dropJobCheckpoints(s: State, job: JobRecord): void {
  if (job.checkpointed === undefined || job.checkpointed.size === 0) return;
  job.checkpointed.clear();
  s.out.push({ type: 'drop-checkpoints', jobId: job.spec.id });
}

/** A restored job's tasks that have a stored checkpoint (open ones only). */
export function restoreCheckpoints(
  job: JobRecord,
  indexes: readonly number[] | undefined,
): void {
  if (indexes === undefined || indexes.length === 0) return;
  const open = indexes.filter(
    (i) =>
      Number.isInteger(i) &&
      i >= 0 &&
      i < job.table.size &&
      !job.table.isTerminal(i),
  );
  if (open.length > 0) job.checkpointed = new Set(open);
}

/**
 * Handlers of the scheduler's events other than results: jobs come and go, workers
 * come and go, credit arrives, time passes.
 */
import { DEFAULT_MAX_OUTPUT_BYTES } from '../../../shared/job.js';
import { startAllowance } from './allowance.js';
import {
  DEFAULT_MAX_CHECKPOINT_BYTES,
  restoreCheckpoints,
} from './checkpoints.js';
import { feedText } from './outbox.js';
import { JobRecord, WorkerRecord, type JobLimits } from './records.js';
import { MAX_CREDIT, type State } from './state.js';
import { MAX_DISPATCHES, MAX_SMALL_COUNT, TaskTable } from './task-table.js';
import {
  cancelJob,
  dropLease,
  expireLease,
  finishJobIfDone,
  lostLease,
  reportFailure,
  syncFair,
} from './transitions.js';
import type { JobSpec, SchedulerEvent } from './types.js';

type EventOf<T extends SchedulerEvent['type']> = Extract<
  SchedulerEvent,
  { type: T }
>;

/** A new job; fair share starts it level with the jobs already running. */
export function jobSubmitted(s: State, e: EventOf<'job-submitted'>): void {
  if (s.jobs.has(e.job.id)) return;
  const job = newJob(s, e.job, undefined);
  s.out.feed(
    s.now,
    'submitted',
    feedText.submitted(job.spec.name, job.spec.taskCount, job.spec.sealed),
  );
  syncFair(s, job);
  finishJobIfDone(s, job);
}

/** A job rebuilt from the store after a restart; open tasks are queued again. */
export function jobRestored(s: State, e: EventOf<'job-restored'>): void {
  if (s.jobs.has(e.job.id)) return;
  if (e.marks.length !== e.job.taskCount) {
    throw new RangeError(
      `job ${e.job.id}: ${e.marks.length} marks for ${e.job.taskCount} tasks`,
    );
  }
  const job = newJob(s, e.job, e.marks);
  if (e.state !== 'running') {
    job.state = e.state;
    job.finishedAt = e.finishedAt;
    job.table.release();
    return;
  }
  restoreCheckpoints(job, e.checkpointed);
  syncFair(s, job);
  // The store may have died between the last result and the job's end.
  finishJobIfDone(s, job);
}

export function newJob(
  s: State,
  spec: JobSpec,
  marks: Uint8Array | undefined,
): JobRecord {
  if (!Number.isInteger(spec.taskCount) || spec.taskCount < 0) {
    throw new RangeError(`job ${spec.id}: bad taskCount ${spec.taskCount}`);
  }
  const job = new JobRecord(
    { ...spec, options: { ...spec.options } },
    new TaskTable(spec.taskCount, marks),
    jobLimits(s, spec),
    s.jobSeq++,
  );
  s.jobs.set(spec.id, job);
  if (job.limits.backups) s.backupJobs.add(job);
  return job;
}

function jobLimits(s: State, spec: JobSpec): JobLimits {
  const { timeoutMs, maxAttempts, replicas, priority, backups } = spec.options;
  const { maxWorkerDeaths, leaseGraceMs } = s.options;
  const attempts = clamp(maxAttempts, 1, MAX_SMALL_COUNT);
  const copies = clamp(replicas, 1, 64);
  return {
    weight: Math.max(priority, 0) + 1,
    // Replicated tasks already run on several workers; jobs stored before the option
    // existed have it undefined, which means on.
    backups: backups !== false && replicas <= 1,
    replicas: copies,
    maxAttempts: attempts,
    maxWorkerDeaths,
    leaseMs: timeoutMs + leaseGraceMs,
    // Nothing is retried forever: every way back to the queue is bounded here. A
    // replicated task is dispatched `replicas` times per round.
    dispatchBound: Math.min(
      (2 * (attempts + maxWorkerDeaths) + 10) * copies,
      MAX_DISPATCHES,
    ),
    maxOutputBytes: spec.options.maxOutputBytes ?? DEFAULT_MAX_OUTPUT_BYTES,
    maxCheckpointBytes:
      spec.options.maxCheckpointBytes ?? DEFAULT_MAX_CHECKPOINT_BYTES,
  };
}

function clamp(n: number, lo: number, hi: number): number {
  return Math.min(Math.max(Math.trunc(n), lo), hi);
}

/** More tasks for an open job; ignored once sealed or ended (the shell refuses those). */
export function inputsAppended(s: State, e: EventOf<'inputs-appended'>): void {
  const job = s.jobs.get(e.jobId);
  if (!job?.isRunning || job.spec.sealed || e.count <= 0) return;
  job.table.grow(e.count);
  job.spec.taskCount += e.count;
  syncFair(s, job);
}

/** No more inputs: the job can complete. */
export function jobSealed(s: State, e: EventOf<'job-sealed'>): void {
  const job = s.jobs.get(e.jobId);
  if (!job?.isRunning || job.spec.sealed) return;
  job.spec.sealed = true;
  finishJobIfDone(s, job);
}

/** Cancels a running job; a finished one stays as it is. */
export function jobCancelled(s: State, e: EventOf<'job-cancelled'>): void {
  const job = s.jobs.get(e.jobId);
  if (job?.isRunning) cancelJob(s, job);
}

/**
 * Forgets an ended job: it is gone from views at once. A running job is kept (the shell
 * cancels it, and commits its end, before purging), so no lease ever points at a job
 * the scheduler no longer knows.
 */
export function jobPurged(s: State, e: EventOf<'job-purged'>): void {
  const job = s.jobs.get(e.jobId);
  if (job === undefined || job.isRunning) return;
  s.jobs.delete(e.jobId);
}

/** A worker finished its handshake; it gets tasks once it grants credit. */
export function workerJoined(s: State, e: EventOf<'worker-joined'>): void {
  if (s.workers.has(e.workerId)) return;
  const worker = new WorkerRecord(e.workerId, e.name, e.kind, e.slots, s.now, {
    volunteer: e.volunteer,
    // With addresses not told apart, each worker counts as an address of its own.
    address: s.options.distinctAddresses ? e.address : undefined,
    sandbox: e.sandbox,
  });
  worker.allowance = startAllowance(s.options.allowance, e.slots);
  worker.resumes = e.resumes === true;
  s.workers.set(worker.id, worker);
  s.out.feed(s.now, 'joined', feedText.joined(e.name, e.kind, e.slots));
}

/**
 * A worker is gone: its active leases go back to the queue at once, ahead of other
 * work. If it dropped (not a clean close), the tasks it was most likely running (its
 * oldest leases, one per slot) are suspected of killing it: one death each.
 */
export function workerLeft(s: State, e: EventOf<'worker-left'>): void {
  const worker = s.workers.get(e.workerId);
  if (worker === undefined) return;
  s.workers.delete(worker.id);
  s.hungry.delete(worker);
  for (const rec of worker.expired.toArray()) dropLease(s, rec);
  const active = worker.active.toArray();
  for (const rec of active) dropLease(s, rec);
  const suspects = e.clean ? 0 : Math.min(worker.slots, active.length);
  let requeued = 0;
  // Back to front, so that the oldest lease ends up at the very front of its queue.
  for (let k = active.length - 1; k >= 0; k--) {
    const rec = active[k];
    if (rec === undefined) continue;
    const { job, index } = rec;
    if (!job.isRunning || job.table.isTerminal(index)) continue;
    if (
      k < suspects &&
      reportFailure(
        s,
        job,
        index,
        worker,
        'crash',
        `worker ${worker.name} dropped`,
      )
    )
      continue;
    lostLease(s, job, index, true, undefined);
    requeued++;
  }
  if (requeued > 0) {
    const why = e.clean ? 'worker left' : 'worker dropped';
    s.out.feed(
      s.now,
      'reassigned',
      feedText.reassigned(requeued, worker.name, why),
    );
  }
  s.out.feed(s.now, 'left', feedText.left(worker.name, e.clean));
}

/**
 * More prefetch window; capped so that one socket cannot hoard the queue (and what it
 * may hold at once is capped again by its allowance, see allowance.ts).
 */
export function creditGranted(s: State, e: EventOf<'credit-granted'>): void {
  const worker = s.workers.get(e.workerId);
  if (worker === undefined || e.credit <= 0) return;
  worker.credit = Math.min(worker.credit + e.credit, MAX_CREDIT);
  s.syncHungry(worker);
}

/** Time passed: every lease past its expiry returns its task to the queue. */
export function expireDue(s: State): void {
  let perWorker: Map<WorkerRecord, number> | undefined;
  for (let rec = s.expiry.popDue(s.now); rec; rec = s.expiry.popDue(s.now)) {
    perWorker ??= new Map();
    perWorker.set(rec.worker, (perWorker.get(rec.worker) ?? 0) + 1);
    expireLease(s, rec);
  }
  if (perWorker === undefined) return;
  for (const [worker, count] of perWorker) {
    s.out.feed(
      s.now,
      'reassigned',
      feedText.reassigned(count, worker.name, 'lease expired'),
    );
  }
}

/**
 * Task and lease transitions shared by the event handlers: issue a lease, drop it,
 * return a task to the queue, end a task, end a job. Each keeps the task table, the
 * lease maps, the expiry queue and the fair-share heap in step.
 */
import { ErrorCode } from '../../../shared/errors.js';
import { shrink } from './allowance.js';
import {
  dropJobCheckpoints,
  dropTaskCheckpoint,
  resumes,
} from './checkpoints.js';
import { feedText } from './outbox.js';
import { LeaseRecord, type JobRecord, type WorkerRecord } from './records.js';
import { MAX_REVOKED, type State } from './state.js';
import { TaskState } from './task-table.js';
import type { Assignment, Lease, RecordedOutcome, WorkerId } from './types.js';

/** Dispatches task `i` of `job` to `worker` under a new lease. */
export function issueLease(
  s: State,
  job: JobRecord,
  i: number,
  worker: WorkerRecord,
): Assignment {
  const lease = ++s.leaseSeq as Lease;
  const attempt = job.table.addDispatch(i);
  const rec = new LeaseRecord(
    lease,
    job,
    i,
    worker,
    s.now + job.limits.leaseMs,
  );
  // A first dispatch has no other lease out (every lease counted one dispatch): the
  // common case skips a map look-up.
  if (attempt > 1) rec.nextOfTask = job.outstanding.get(i);
  job.outstanding.set(i, rec);
  s.leases.set(lease, rec);
  worker.active.add(rec);
  s.expiry.add(rec, job.limits.leaseMs);
  worker.credit--;
  if (job.avoid.size > 0) job.avoid.delete(i);
  if (job.replicaStates) syncReplica(s, job, i, true, false);
  else job.table.setState(i, TaskState.Running);
  if (resumes(s, job, i, worker))
    return { jobId: job.spec.id, index: i, lease, attempt, resume: true };
  return { jobId: job.spec.id, index: i, lease, attempt };
}

/**
 * Unlinks a lease from every structure. The task's state is the caller's business:
 * it follows with {@link lostLease}, {@link finishTask} or nothing.
 */
export function dropLease(s: State, rec: LeaseRecord): void {
  if (rec.settled) throw new Error(`lease ${rec.lease} dropped twice`);
  const wasActive = rec.isActive;
  rec.settled = true;
  s.leases.delete(rec.lease);
  if (wasActive) {
    rec.worker.active.delete(rec);
    s.expiry.remove(rec, rec.job.limits.leaseMs);
    s.syncHungry(rec.worker);
  } else {
    rec.worker.expired.delete(rec);
  }
  const { job, index } = rec;
  const head = job.outstanding.get(index);
  if (head === rec) {
    if (rec.nextOfTask) job.outstanding.set(index, rec.nextOfTask);
    else job.outstanding.delete(index);
  } else {
    let prev = head;
    while (prev && prev.nextOfTask !== rec) prev = prev.nextOfTask;
    if (prev === undefined) throw new Error(`lease ${rec.lease} not linked`);
    prev.nextOfTask = rec.nextOfTask;
  }
  rec.nextOfTask = undefined;
}

/** Tells the holder to stop (if still connected) and drops the lease. */
export function revokeLease(s: State, rec: LeaseRecord): void {
  const { worker } = rec;
  if (s.isConnected(worker)) {
    s.out.cancel(worker.id, rec.lease);
    worker.revoked.add(rec.lease);
    if (worker.revoked.size > MAX_REVOKED) {
      const oldest = worker.revoked.values().next();
      if (!oldest.done) worker.revoked.delete(oldest.value);
    }
  }
  dropLease(s, rec);
}

/** Revokes a task's list of leases from `head` on. */
export function revokeAll(s: State, head: LeaseRecord | undefined): void {
  for (let rec = head; rec;) {
    const next: LeaseRecord | undefined = rec.nextOfTask;
    revokeLease(s, rec);
    rec = next;
  }
}

/** Marks a lease past its expiry: its task goes back to the queue, the record stays. */
export function expireLease(s: State, rec: LeaseRecord): void {
  rec.expired = true;
  rec.worker.active.delete(rec);
  rec.worker.expired.add(rec);
  shrink(s.options.allowance, rec.worker);
  s.syncHungry(rec.worker);
  // Steered away from the holder that sat on it, if anyone else can take it.
  lostLease(s, rec.job, rec.index, true, rec.worker.id);
}

/**
 * Task `i` just lost an active lease (expired, failed, holder gone) and is still open:
 * it returns to the queue (at the `front` for a lost holder, so it is not delayed
 * behind fresh work), unless it was dispatched too often already.
 */
export function lostLease(
  s: State,
  job: JobRecord,
  i: number,
  front: boolean,
  avoid: WorkerId | undefined,
): void {
  const t = job.table;
  if (t.isTerminal(i)) throw new Error(`task ${i} of ${job.spec.id} is over`);
  if (avoid !== undefined) job.avoid.set(i, avoid);
  if (job.replicaStates) {
    syncReplica(s, job, i, front, true);
    return;
  }
  // A backup copy is still running it: that copy is the task's dispatch now.
  if (job.limits.backups && job.activeLeasesOf(i) > 0) return;
  if (failIfOverDispatched(s, job, i)) return;
  t.setState(i, TaskState.Queued);
  if (front) t.requeued.pushFront(i);
  else t.requeued.pushBack(i);
  syncFair(s, job);
}

/**
 * Brings a replicated task's state and queue entry in line with its votes and active
 * leases: it wants `replicas - maxVotes - active` more copies dispatched.
 */
export function syncReplica(
  s: State,
  job: JobRecord,
  i: number,
  front: boolean,
  mayFail: boolean,
): void {
  const rs = job.replicaStates?.get(i);
  if (rs === undefined) return; // never dispatched: still a fresh task
  const t = job.table;
  const active = job.activeLeasesOf(i);
  t.setState(i, active > 0 ? TaskState.Running : TaskState.Queued);
  if (!rs.inQueue && replicasWanted(job, i) > 0) {
    if (t.dispatches(i) >= job.limits.dispatchBound) {
      // Right after a dispatch the task is not failed under the lease just handed
      // out; the next lost lease or vote settles it.
      if (mayFail) failIfOverDispatched(s, job, i);
      return;
    }
    rs.inQueue = true;
    if (front) t.requeued.pushFront(i);
    else t.requeued.pushBack(i);
  }
  // Votes may have made its queue entry stale: the job may have nothing left to hand out.
  syncFair(s, job);
}

/** More copies of replicated task `i` to dispatch now (<= 0: none). */
export function replicasWanted(job: JobRecord, i: number): number {
  const rs = job.replicaStates?.get(i);
  if (rs === undefined) return 0;
  return job.limits.replicas - rs.maxVotes - job.activeLeasesOf(i);
}

function failIfOverDispatched(s: State, job: JobRecord, i: number): boolean {
  const n = job.table.dispatches(i);
  if (n < job.limits.dispatchBound) return false;
  finishTask(s, job, i, {
    ok: false,
    error: `dispatched ${n} times without a result`,
    code: ErrorCode.TooManyDispatches,
  });
  return true;
}

/**
 * A report that task `i` failed on `worker`: an `error` (the task threw) or a `crash`
 * (it killed its thread, or the worker dropped while running it). The task fails once
 * its errors or crashes reach the job's limit *and* `replicas` independent witnesses
 * (distinct volunteers on distinct addresses) reported: the agreement a success needs,
 * so that one stranger's sockets cannot fail a task. Returns true if it failed.
 */
export function reportFailure(
  s: State,
  job: JobRecord,
  i: number,
  worker: WorkerRecord,
  kind: 'error' | 'crash',
  error: string,
  code: ErrorCode = ErrorCode.TaskFailed,
): boolean {
  const t = job.table;
  if (kind === 'error') t.addFailure(i);
  else t.addDeath(i);
  if (job.addReporter(i, worker) < job.limits.replicas) return false;
  if (t.failures(i) >= job.limits.maxAttempts) {
    finishTask(s, job, i, { ok: false, error, code });
    return true;
  }
  const deaths = t.deaths(i);
  if (deaths >= job.limits.maxWorkerDeaths) {
    finishTask(s, job, i, {
      ok: false,
      error: `killed its worker ${deaths} times; last: ${error}`,
      code: ErrorCode.TaskKilledWorkers,
    });
    return true;
  }
  return false;
}

/**
 * Ends task `i` with its one recorded outcome, and stops every other copy still out.
 * The caller has dropped the lease that brought the outcome, if any.
 */
export function finishTask(
  s: State,
  job: JobRecord,
  i: number,
  outcome: RecordedOutcome,
): void {
  const t = job.table;
  if (t.isTerminal(i))
    throw new Error(`task ${i} of ${job.spec.id} recorded twice`);
  t.setState(i, outcome.ok ? TaskState.Done : TaskState.Failed);
  s.out.push({ type: 'record', jobId: job.spec.id, index: i, outcome });
  dropTaskCheckpoint(s, job, i);
  if (job.outstanding.size > 0) revokeAll(s, job.outstanding.get(i));
  if (job.avoid.size > 0) job.avoid.delete(i);
  if (job.reporters.size > 0) job.reporters.delete(i);
  job.replicaStates?.delete(i);
  if (!outcome.ok) {
    job.addError(i, outcome.error);
    feedFailure(s, job, i, outcome.error);
  }
  finishJobIfDone(s, job);
  // Its queue entry, if any, went stale: the job may have nothing left to hand out.
  syncFair(s, job);
}

/** Shortest time between two of one job's failures in the event feed. */
export const FAILURE_FEED_MS = 1_000;

/**
 * A failed task in the dashboard's event feed, at most one per job a second: a job whose
 * tasks all fail would fill the feed and push every other event (joins, leaves,
 * reassignments) out of it. The ones held back are counted into the next; the job's
 * counts and error samples have them all.
 */
function feedFailure(s: State, job: JobRecord, i: number, error: string): void {
  if (s.now - job.failureFedAt < FAILURE_FEED_MS) {
    job.failuresUnfed++;
    return;
  }
  s.out.feed(
    s.now,
    'failed',
    feedText.failed(job.spec.name, i, error, job.failuresUnfed),
  );
  job.failureFedAt = s.now;
  job.failuresUnfed = 0;
}

/** Completes a sealed running job once every task is terminal. */
export function finishJobIfDone(s: State, job: JobRecord): void {
  const { counts, size } = job.table;
  // In cluster mode the shared store says when a job ends (`job-completed`).
  if (s.options.cluster || !job.isRunning || !job.spec.sealed) return;
  if (counts.done + counts.failed !== size) return;
  job.state = 'completed';
  job.finishedAt = s.now;
  endJob(s, job);
  s.out.push({
    type: 'job-finished',
    jobId: job.spec.id,
    state: 'completed',
    at: s.now,
  });
  s.out.feed(
    s.now,
    'completed',
    feedText.completed(job.spec.name, counts.done, counts.failed),
  );
}

/** Cancels a running job: every copy out is stopped and its queue dropped. */
export function cancelJob(s: State, job: JobRecord): void {
  for (const head of [...job.outstanding.values()]) revokeAll(s, head);
  job.state = 'cancelled';
  job.finishedAt = s.now;
  endJob(s, job);
  s.out.push({
    type: 'job-finished',
    jobId: job.spec.id,
    state: 'cancelled',
    at: s.now,
  });
  s.out.feed(s.now, 'cancelled', feedText.cancelled(job.spec.name));
}

/** A finished job keeps its counts and drops its per-task state. */
export function endJob(s: State, job: JobRecord): void {
  s.fair.leave(job);
  dropJobCheckpoints(s, job);
  job.table.release();
  job.avoid.clear();
  job.reporters.clear();
  job.replicaStates?.clear();
}

/** Puts a job in the fair-share heap exactly when it has a task to hand out. */
export function syncFair(s: State, job: JobRecord): void {
  const wanted = job.isRunning && hasWork(job);
  if (wanted && !s.fair.has(job)) s.fair.enter(job);
  else if (!wanted && s.fair.has(job)) s.fair.leave(job);
}

/** True if the job has a queued task (it may still be blocked for some workers). */
export function hasWork(job: JobRecord): boolean {
  const t = job.table;
  if (t.released) return false;
  const queue = t.requeued;
  while (queue.length > 0 && !isQueuedEntry(job, queue.peekFront())) {
    queue.popFront();
  }
  return queue.length > 0 || t.peekFresh() >= 0;
}

/**
 * True if a re-queue entry still stands for a task that wants a dispatch. Entries go
 * stale when their task ends while queued (a late result); they are dropped on sight.
 */
export function isQueuedEntry(job: JobRecord, i: number): boolean {
  if (job.replicaStates === undefined) {
    return job.table.state(i) === TaskState.Queued;
  }
  const rs = job.replicaStates.get(i);
  if (rs === undefined) return false;
  if (replicasWanted(job, i) > 0) return true;
  rs.inQueue = false;
  return false;
}
